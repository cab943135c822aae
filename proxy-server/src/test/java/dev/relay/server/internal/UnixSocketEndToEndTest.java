package dev.relay.server.internal;

import dev.relay.server.testing.InProcessRelay;
import dev.relay.testing.Await;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.RawHttpConnection.Response;
import dev.relay.testing.TestOrigin;
import dev.relay.testing.UnixOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Unix-domain sockets in the configured server: a {@code unix:} listener with its mode (curl
 * {@code --unix-socket}), {@code unix:} backends next to TCP ones in a round-robin group, and health
 * checks (TCP connect and HTTP) on a unix backend whose socket goes away and comes back.
 */
@Timeout(60)
class UnixSocketEndToEndTest {
    private static final Duration WAIT = Duration.ofSeconds(15);

    @TempDir
    Path dir;

    private InProcessRelay relay(String listeners, String upstreams) throws IOException {
        return new InProcessRelay(dir.resolve("relay.conf"), """
                proxy {
                  listeners = %s
                  admin.address = "127.0.0.1:0"
                  server { upgrade-socket = none, access-log = false }
                  upstreams {
                %s
                  }
                }
                """.formatted(listeners, upstreams));
    }

    @Test
    void curlReachesTheProxyThroughAUnixListenerWithItsMode() throws Exception {
        assumeTrue(onPath("curl"), "curl is not installed");
        Path socket = dir.resolve("relay.sock");
        try (TestOrigin origin = TestOrigin.builder().name("a").build().start();
             // A path relative to the configuration file.
             InProcessRelay relay = relay("[ { address = \"unix:relay.sock\", mode = \"0660\" } ]",
                     "web { backends = [ \"" + origin.address() + "\" ] }")) {
            assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
            Process curl = new ProcessBuilder("curl", "-sS", "--max-time", "10", "--unix-socket", socket.toString(),
                    "-D", "-", "http://site.test/hello").redirectErrorStream(true).start();
            assertTrue(curl.waitFor(15, TimeUnit.SECONDS), "curl did not finish");
            String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

            assertTrue(out.startsWith("HTTP/1.1 200"), out);
            assertTrue(out.toLowerCase(java.util.Locale.ROOT).contains("x-origin: a"), out);
            assertEquals("site.test", origin.awaitRequests(1, WAIT).get(0).header("Host"));
        }
        assertFalse(Files.exists(socket), "the socket file is removed when the server stops");
    }

    @Test
    void aStreamRelaysToAUnixBackendBesideAUnixHttpListener() throws Exception {
        try (UnixOrigin unix = UnixOrigin.start("unix", dir.resolve("app.sock"));
             InProcessRelay relay = new InProcessRelay(dir.resolve("relay.conf"), """
                     proxy {
                       listeners = [ "unix:http.sock" ]
                       admin.address = "127.0.0.1:0"
                       server { upgrade-socket = none, access-log = false }
                       upstreams { app { backends = [ "unix:app.sock" ] } }
                       streams = [ { name = app-tcp, address = "127.0.0.1:0", upstream = app } ]
                     }
                     """)) {
            java.net.InetSocketAddress stream = relay.injector.getInstance(StreamsModule.StreamServices.class)
                    .services().get(0).boundAddresses().get(0);
            try (RawHttpConnection connection = new RawHttpConnection(stream)) {
                connection.send("GET /over-the-stream HTTP/1.1\r\nHost: site.test\r\n\r\n");
                Response response = connection.readResponse();
                assertEquals(200, response.status());
                assertEquals("unix", response.header("X-Origin"));
            }
            assertEquals(List.of("site.test"), unix.hosts());
        }
    }

    @Test
    void aRoundRobinGroupMixesTcpAndUnixBackends() throws Exception {
        try (TestOrigin tcp = TestOrigin.builder().name("tcp").build().start();
             UnixOrigin unix = UnixOrigin.start("unix", dir.resolve("app.sock"));
             InProcessRelay relay = relay("[ \"127.0.0.1:0\" ]",
                     "web { backends = [ \"" + tcp.address() + "\", \"unix:app.sock\" ], selection = round-robin }")) {
            Map<String, Integer> served = new HashMap<>();
            for (int i = 0; i < 6; i++) {
                Response r = RawHttpConnection.get(relay.proxy(), "site.test", "/r" + i);
                assertEquals(200, r.status());
                served.merge(r.header("X-Origin"), 1, Integer::sum);
            }

            assertEquals(Map.of("tcp", 3, "unix", 3), served);
            // The client's Host goes to the unix backend: a socket path is no authority.
            assertEquals(List.of("site.test"), unix.hosts().stream().distinct().toList());
            assertEquals("true", relay.backendField("unix:" + unix.path(), "healthy"), relay.upstreamsJson());
        }
    }

    @Test
    void aTcpHealthCheckMarksAUnixBackendDownWhenItsSocketIsGone() throws Exception {
        Path socket = dir.resolve("app.sock");
        String address = "unix:" + socket;
        try (TestOrigin tcp = TestOrigin.builder().name("tcp").build().start();
             InProcessRelay relay = relay("[ \"127.0.0.1:0\" ]", "web { backends = [ \"" + tcp.address()
                     + "\", \"unix:app.sock\" ], health-check { type = tcp, interval = 50ms } }")) {
            try (UnixOrigin unix = UnixOrigin.start("unix", socket)) {
                Await.until(() -> "true".equals(relay.backendField(address, "healthy")), WAIT, relay::upstreamsJson);
            }
            assertFalse(Files.exists(socket));
            Await.until(() -> "false".equals(relay.backendField(address, "healthy")), WAIT, relay::upstreamsJson);
            for (int i = 0; i < 4; i++) {
                assertEquals("tcp", RawHttpConnection.get(relay.proxy(), "site.test", "/").header("X-Origin"));
            }

            try (UnixOrigin back = UnixOrigin.start("unix", socket)) {
                Await.until(() -> "true".equals(relay.backendField(address, "healthy")), WAIT, relay::upstreamsJson);
            }
        }
    }

    @Test
    void anHttpHealthCheckProbesAUnixBackendOverItsSocket() throws Exception {
        Path socket = dir.resolve("app.sock");
        String address = "unix:" + socket;
        try (InProcessRelay relay = relay("[ \"127.0.0.1:0\" ]", "web { backends = [ \"unix:app.sock\" ], "
                + "health-check { type = http, path = \"/healthz\", host = \"health.test\", interval = 50ms } }")) {
            try (UnixOrigin unix = UnixOrigin.start("unix", socket)) {
                Await.until(() -> unix.hosts().contains("health.test")
                        && "true".equals(relay.backendField(address, "healthy")), WAIT, relay::upstreamsJson);
            }
            Await.until(() -> "false".equals(relay.backendField(address, "healthy")), WAIT, relay::upstreamsJson);
        }
    }

    private static boolean onPath(String binary) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, binary))) {
                return true;
            }
        }
        return false;
    }
}
