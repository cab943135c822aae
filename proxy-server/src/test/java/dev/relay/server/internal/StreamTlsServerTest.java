package dev.relay.server.internal;

import dev.relay.core.Addresses;
import dev.relay.server.testing.AccessLogLines;
import dev.relay.server.testing.InProcessRelay;
import dev.relay.testing.Await;
import dev.relay.testing.ExternalTool;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A configured stream with a {@code tls} block, end to end: curl (SNI, mutual TLS) through the
 * in-process server to a TestOrigin, the stream's access-log line with its TLS fields, and
 * {@code /metrics} with the handshake counts per listener and the connection filter's refusals.
 */
@Timeout(60)
class StreamTlsServerTest {
    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private final List<AutoCloseable> cleanup = new ArrayList<>();
    @RegisterExtension
    final AccessLogLines accessLines = new AccessLogLines();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    private static String metric(InProcessRelay relay, String series) throws Exception {
        for (String line : relay.adminGet("/metrics").body().split("\n")) {
            if (line.startsWith(series + " ")) {
                return line.substring(series.length() + 1);
            }
        }
        return null;
    }

    private static ExternalTool.Result curl(InetSocketAddress at, String host, String... extra) throws Exception {
        List<String> args = ExternalTool.args("curl", "-sS", "--max-time", "10",
                "--cacert", TestCertificates.caCertificatePem().toString(),
                "--resolve", host + ":" + at.getPort() + ":127.0.0.1");
        args.addAll(List.of(extra));
        args.add("https://" + host + ":" + at.getPort() + "/");
        return ExternalTool.run(TOOL_TIMEOUT, args.toArray(new String[0]));
    }

    @Test
    void aStreamWithATlsBlockTerminatesMutualTlsLogsItAndCountsTheHandshakes() throws Exception {
        ExternalTool.assumeInstalled("curl");
        TestOrigin origin = TestOrigin.builder().name("db-origin").build().start();
        cleanup.add(origin);
        TestCertificates.Server db = TestCertificates.server("db.test");
        TestCertificates.Client alice = TestCertificates.client("alice.test");
        InProcessRelay relay = new InProcessRelay(dir.resolve("relay.conf"), """
                proxy {
                  listeners = [ { address = "127.0.0.1:0", deny = [ "127.0.0.1/32" ] } ]
                  admin.address = "127.0.0.1:0"
                  server { upgrade-socket = none, access-log = true, %s }
                  upstreams { db { backends = [ "%s" ] } }
                  routes = [ { upstream = db } ]
                  streams = [ { name = tls-db, address = "127.0.0.1:0", upstream = db
                                tls { certificates = [ { cert = "%s", key = "%s" } ]
                                      client-auth = require, client-ca = "%s" } } ]
                }
                """.formatted(accessLines.setting(), origin.address(), db.certificateChainPem(), db.privateKeyPem(),
                TestCertificates.caCertificatePem()));
        cleanup.add(relay);
        InetSocketAddress stream = relay.injector.getInstance(StreamsModule.StreamServices.class)
                .services().get(0).boundAddresses().get(0);

        ExternalTool.Result refused = curl(stream, "db.test");
        assertNotEquals(0, refused.exitCode(), "no client certificate: " + refused.stdout());
        ExternalTool.Result ok = curl(stream, "db.test", "--cert", alice.certificatePem().toString(),
                "--key", alice.privateKeyPem().toString());
        assertEquals(0, ok.exitCode(), ok.stderr());
        assertTrue(ok.stdout().contains("origin db-origin"), ok.stdout());

        Await.until(() -> accessLines.lines().size() >= 1, Duration.ofSeconds(10), () -> "a stream access-log line");
        String line = accessLines.lines().get(0);
        assertEquals(1, accessLines.lines().size(), "no line for the refused handshake: " + accessLines.lines());
        assertTrue(line.contains(" stream=tls-db upstream=db "), line);
        assertTrue(line.matches(".* end=completed tls=TLSv1\\.[23] sni=db\\.test client_verify=SUCCESS$"), line);

        String listener = Addresses.format(stream);
        assertEquals("1.0", metric(relay, "relay_tls_handshakes_total{listener=\"" + listener + "\",result=\"completed\"}"));
        assertEquals("1.0", metric(relay, "relay_tls_handshakes_total{listener=\"" + listener + "\",result=\"failed\"}"));

        // The HTTP listener denies loopback: closed unread, and counted.
        try (Socket denied = new Socket()) {
            denied.connect(relay.proxy(), 5000);
            denied.setSoTimeout(10_000);
            assertEquals(-1, readOrReset(denied));
        }
        Await.until(() -> {
            try {
                return "1.0".equals(metric(relay, "relay_downstream_connections_refused_total{reason=\"filter\"}"));
            } catch (Exception e) {
                return false;
            }
        }, Duration.ofSeconds(10), () -> "relay_downstream_connections_refused_total{reason=\"filter\"} 1.0 in /metrics");
    }

    private static int readOrReset(Socket socket) throws IOException {
        try {
            return socket.getInputStream().read();
        } catch (java.net.SocketException reset) {
            return -1;
        }
    }
}
