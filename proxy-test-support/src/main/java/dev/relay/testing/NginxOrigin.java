package dev.relay.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * A real nginx as an HTTP/2 origin: one process in the foreground ({@code daemon off}, no master) with
 * its configuration, logs and temporary files in a directory of the test, listening on loopback with
 * TLS and {@code http2} (ALPN h2 and http/1.1) on one port and HTTP/2 with prior knowledge (h2c) on
 * another. It serves the files of {@link #root()} and {@code /protocol}, which answers
 * {@code "$server_protocol $scheme"}. Tests using it are skipped when nginx is not installed.
 *
 * <pre>{@code
 * try (NginxOrigin nginx = NginxOrigin.start(dir, OpensslKeys.selfSigned(dir, "localhost", Kind.EC_PKCS8))) {
 *     // proxy to nginx.tlsAddress() with alpn = h2, or nginx.h2cAddress() with alpn = h2 and no TLS
 * }
 * }</pre>
 */
public final class NginxOrigin implements AutoCloseable {
    private final Process process;
    private final Path root;
    private final int tlsPort;
    private final int h2cPort;

    private NginxOrigin(Process process, Path root, int tlsPort, int h2cPort) {
        this.process = process;
        this.root = root;
        this.tlsPort = tlsPort;
        this.h2cPort = h2cPort;
    }

    /**
     * Starts nginx with its files in {@code dir}, serving TLS with {@code certificate}; waits until both ports
     * accept. nginx cannot bind port 0: it gets two ports just found free, and is started again on two others
     * when another process took one in between.
     */
    public static NginxOrigin start(Path dir, OpensslKeys.Pair certificate) throws IOException, InterruptedException {
        ExternalTool.assumeInstalled("nginx");
        requireNonNull(certificate, "certificate");
        Path root = Files.createDirectories(dir.resolve("www"));
        LoopbackPorts.StartedServer nginx = LoopbackPorts.startOnFreePorts("nginx", 2, dir.resolve("nginx.out"),
                ports -> launch(dir, certificate, root, ports[0], ports[1]));
        return new NginxOrigin(nginx.process(), root, nginx.ports()[0], nginx.ports()[1]);
    }

    /** Writes a configuration listening on the two ports and starts nginx with it, its output in nginx.out. */
    private static Process launch(Path dir, OpensslKeys.Pair certificate, Path root, int tlsPort, int h2cPort)
            throws IOException {
        String conf = """
                daemon off;
                master_process off;
                error_log DIR/error.log warn;
                pid DIR/nginx.pid;
                events { worker_connections 256; }
                http {
                  access_log DIR/access.log;
                  client_body_temp_path DIR/client_body;
                  proxy_temp_path DIR/proxy;
                  fastcgi_temp_path DIR/fastcgi;
                  uwsgi_temp_path DIR/uwsgi;
                  scgi_temp_path DIR/scgi;
                  server {
                    listen 127.0.0.1:TLS_PORT ssl http2;
                    listen 127.0.0.1:H2C_PORT http2;
                    ssl_certificate CERT;
                    ssl_certificate_key KEY;
                    root ROOT;
                    location = /protocol { return 200 "$server_protocol $scheme\\n"; }
                  }
                }
                """.replace("DIR", dir.toString()).replace("TLS_PORT", Integer.toString(tlsPort))
                .replace("H2C_PORT", Integer.toString(h2cPort)).replace("CERT", certificate.chain().toString())
                .replace("KEY", certificate.key().toString()).replace("ROOT", root.toString());
        Path confFile = Files.writeString(dir.resolve("nginx.conf"), conf);
        return new ProcessBuilder("nginx", "-p", dir.toString(), "-c", confFile.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("nginx.out").toFile()).start();
    }

    /** The directory nginx serves files from. */
    public Path root() {
        return root;
    }

    /** {@code 127.0.0.1:port} of the TLS listener (ALPN h2, http/1.1). */
    public String tlsAddress() {
        return "127.0.0.1:" + tlsPort;
    }

    /** {@code 127.0.0.1:port} of the h2c (prior knowledge) listener. */
    public String h2cAddress() {
        return "127.0.0.1:" + h2cPort;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new IOException("interrupted while stopping nginx", e));
        }
    }
}
