package dev.relay.lb;

import dev.relay.core.Backend;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link Ketama} picks the server nginx picks with {@code hash $arg_k consistent}: a real nginx
 * proxies to real origins that answer with their names, and for every key the origin nginx reached
 * is the one our selector names. Skipped when nginx is not installed ({@code apt-get install -y nginx}).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class KetamaNginxCompatibilityTest {
    private static final int KEYS = 300;

    @Test
    void picksTheSameServerAsNginxForEveryKey(@TempDir Path dir) throws Exception {
        compare(dir, new int[] {1, 1, 1});
    }

    @Test
    void picksTheSameServerAsNginxWithWeights(@TempDir Path dir) throws Exception {
        compare(dir, new int[] {1, 3, 2, 1, 5});
    }

    private static void compare(Path dir, int[] weights) throws Exception {
        Path nginx = ExternalProcess.find("nginx").orElse(null);
        assumeTrue(nginx != null, "nginx is not installed (apt-get install -y nginx): skipping the Ketama compatibility check");
        List<TestOrigin> origins = new ArrayList<>();
        try {
            for (int i = 0; i < weights.length; i++) {
                origins.add(TestOrigin.builder().name("o" + i).build().start());
            }
            int port = ExternalProcess.freePort();
            StringBuilder servers = new StringBuilder();
            List<Backend> backends = new ArrayList<>();
            Map<String, Backend> byName = new LinkedHashMap<>();
            for (int i = 0; i < weights.length; i++) {
                Backend b = Backend.of(new InetSocketAddress("127.0.0.1", origins.get(i).port()), weights[i]);
                backends.add(b);
                byName.put("o" + i, b);
                servers.append("    server ").append(b.hostAndPort()).append(" weight=").append(weights[i]).append(";\n");
            }
            Files.createDirectories(dir.resolve("logs"));
            Files.writeString(dir.resolve("nginx.conf"), String.join("\n",
                    "daemon off;",
                    "master_process off;",
                    "worker_processes 1;",
                    "pid " + dir.resolve("nginx.pid") + ";",
                    "error_log " + dir.resolve("logs/error.log") + " warn;",
                    "events { worker_connections 64; }",
                    "http {",
                    "  access_log off;",
                    "  client_body_temp_path " + dir.resolve("body") + ";",
                    "  proxy_temp_path " + dir.resolve("proxy") + ";",
                    "  fastcgi_temp_path " + dir.resolve("fastcgi") + ";",
                    "  uwsgi_temp_path " + dir.resolve("uwsgi") + ";",
                    "  scgi_temp_path " + dir.resolve("scgi") + ";",
                    "  upstream u {",
                    "    hash $arg_k consistent;",
                    servers.toString(),
                    "    keepalive 8;",
                    "  }",
                    "  server {",
                    "    listen 127.0.0.1:" + port + ";",
                    "    location / {",
                    "      proxy_pass http://u;",
                    "      proxy_http_version 1.1;",
                    "      proxy_set_header Connection \"\";",
                    "      proxy_next_upstream off;",
                    "    }",
                    "  }",
                    "}", ""));
            try (ExternalProcess server = ExternalProcess.start(List.of(nginx.toString(), "-p", dir.toString(),
                    "-c", dir.resolve("nginx.conf").toString(), "-e", dir.resolve("logs/error.log").toString()), dir.resolve("stdout.log"))) {
                server.awaitTcp(port, Duration.ofSeconds(10));
                LoadBalancer<Ketama> lb = LoadBalancer.fromBackends(Ketama.create(), Backends.staticSet(backends));
                List<String> mismatches = new ArrayList<>();
                try (Socket socket = new Socket()) {
                    socket.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
                    socket.setSoTimeout(5_000);
                    for (int k = 0; k < KEYS; k++) {
                        String key = "key-" + k + "-" + Integer.toHexString(k * 7919);
                        String origin = get(socket, "/?k=" + key);
                        Backend ours = lb.selectOrNull(key.getBytes(StandardCharsets.ISO_8859_1), 1);
                        if (!byName.get(origin).equals(ours)) {
                            mismatches.add(key + ": nginx " + byName.get(origin) + ", ours " + ours);
                        }
                    }
                }
                assertEquals(List.of(), mismatches, "nginx and Ketama disagree (" + mismatches.size() + " of " + KEYS + ")");
            }
        } finally {
            for (TestOrigin o : origins) {
                o.close();
            }
        }
    }

    /** One keep-alive GET; the name of the origin from its "origin NAME" body. */
    private static String get(Socket socket, String target) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(("GET " + target + " HTTP/1.1\r\nHost: test\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("nginx closed the connection");
            }
            head.write(b);
        }
        String h = head.toString(StandardCharsets.ISO_8859_1);
        int length = -1;
        for (String line : h.split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        if (length < 0 || !h.startsWith("HTTP/1.1 200")) {
            throw new IOException("unexpected response from nginx: " + h);
        }
        byte[] body = in.readNBytes(length);
        String text = new String(body, StandardCharsets.UTF_8).trim();
        if (!text.startsWith("origin ")) {
            throw new IOException("unexpected body: " + text);
        }
        return text.substring("origin ".length());
    }
}
