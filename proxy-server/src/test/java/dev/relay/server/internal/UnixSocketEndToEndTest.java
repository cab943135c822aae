package dev.relay.server.internal;

import dev.relay.server.testing.InProcessRelay;
import dev.relay.testing.Await;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.RawHttpConnection.Response;
import dev.relay.testing.TestOrigin;
import dev.relay.testing.UnixOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closeLater(T c) {
        cleanup.add(c);
        return c;
    }

    private InProcessRelay relay(String listeners, String upstreams) throws IOException {
        return closeLater(new InProcessRelay(dir.resolve("relay.conf"), """
                proxy {
                  listeners = %s
                  admin.address = "127.0.0.1:0"
                  server { upgrade-socket = none, access-log = false }
                  upstreams {
                %s
                  }
                }
                """.formatted(listeners, upstreams)));
    }

    @Test
    void curlReachesTheProxyThroughAUnixListenerWithItsMode() throws Exception {
        assumeTrue(onPath("curl"), "curl is not installed");
        TestOrigin origin = closeLater(TestOrigin.builder().name("a").build().start());
        // A path relative to the configuration file.
        relay("[ { address = \"unix:relay.sock\", mode = \"0660\" } ]",
                "web { backends = [ \"" + origin.address() + "\" ] }");
        Path socket = dir.resolve("relay.sock");
        assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));

        Process curl = new ProcessBuilder("curl", "-sS", "--max-time", "10", "--unix-socket", socket.toString(),
                "-D", "-", "http://site.test/hello").redirectErrorStream(true).start();
        assertTrue(curl.waitFor(15, TimeUnit.SECONDS), "curl did not finish");
        String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

        assertTrue(out.startsWith("HTTP/1.1 200"), out);
        assertTrue(out.contains("X-Origin: a") || out.contains("x-origin: a"), out);
        assertEquals("site.test", origin.awaitRequests(1, WAIT).get(0).header("Host"));
    }

    @Test
    void aRoundRobinGroupMixesTcpAndUnixBackends() throws Exception {
        TestOrigin tcp = closeLater(TestOrigin.builder().name("tcp").build().start());
        UnixOrigin unix = closeLater(UnixOrigin.start("unix", dir.resolve("app.sock")));
        InProcessRelay relay = relay("[ \"127.0.0.1:0\" ]",
                "web { backends = [ \"" + tcp.address() + "\", \"unix:app.sock\" ], selection = round-robin }");

        Map<String, Integer> served = new HashMap<>();
        for (int i = 0; i < 6; i++) {
            Response r = RawHttpConnection.get(relay.proxy(), "site.test", "/r" + i);
            assertEquals(200, r.status());
            served.merge(r.header("X-Origin"), 1, Integer::sum);
        }
        assertEquals(Map.of("tcp", 3, "unix", 3), served);
        // The client's Host goes to the unix backend: a socket path is no authority.
        assertEquals(List.of("site.test"), unix.hosts().stream().distinct().toList());
        assertTrue(upstreams(relay).contains("\"address\":\"unix:" + unix.path() + "\""), upstreams(relay));
    }

    @Test
    void aTcpHealthCheckMarksAUnixBackendDownWhenItsSocketIsGone() throws Exception {
        TestOrigin tcp = closeLater(TestOrigin.builder().name("tcp").build().start());
        Path socket = dir.resolve("app.sock");
        UnixOrigin unix = UnixOrigin.start("unix", socket);
        InProcessRelay relay = relay("[ \"127.0.0.1:0\" ]", "web { backends = [ \"" + tcp.address()
                + "\", \"unix:app.sock\" ], health-check { type = tcp, interval = 50ms } }");
        String address = "unix:" + socket;
        Await.until(() -> "true".equals(backendField(relay, address, "healthy")), WAIT, () -> upstreams(relay));

        unix.close();
        assertFalse(Files.exists(socket));
        Await.until(() -> "false".equals(backendField(relay, address, "healthy")), WAIT, () -> upstreams(relay));
        for (int i = 0; i < 4; i++) {
            assertEquals("tcp", RawHttpConnection.get(relay.proxy(), "site.test", "/").header("X-Origin"));
        }

        closeLater(UnixOrigin.start("unix", socket));
        Await.until(() -> "true".equals(backendField(relay, address, "healthy")), WAIT, () -> upstreams(relay));
    }

    @Test
    void anHttpHealthCheckProbesAUnixBackendOverItsSocket() throws Exception {
        Path socket = dir.resolve("app.sock");
        UnixOrigin unix = UnixOrigin.start("unix", socket);
        InProcessRelay relay = relay("[ \"127.0.0.1:0\" ]", "web { backends = [ \"unix:app.sock\" ], "
                + "health-check { type = http, path = \"/healthz\", host = \"health.test\", interval = 50ms } }");
        String address = "unix:" + socket;
        try {
            Await.until(() -> unix.hosts().contains("health.test"), WAIT, () -> String.valueOf(unix.hosts()));
            assertEquals("true", backendField(relay, address, "healthy"));
        } finally {
            unix.close();
        }
        Await.until(() -> "false".equals(backendField(relay, address, "healthy")), WAIT, () -> upstreams(relay));
    }

    private static boolean onPath(String binary) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, binary))) {
                return true;
            }
        }
        return false;
    }

    /** The {@code field} of backend {@code address} in {@code /upstreams}. */
    private static String backendField(InProcessRelay relay, String address, String field) {
        Matcher m = Pattern.compile("\\{\"address\":\"" + Pattern.quote(address) + "\"[^}]*}").matcher(upstreams(relay));
        if (!m.find()) {
            return null;
        }
        Matcher f = Pattern.compile("\"" + field + "\":([^,}]*)").matcher(m.group());
        return f.find() ? f.group(1) : null;
    }

    private static String upstreams(InProcessRelay relay) {
        try {
            HttpResponse<String> r = relay.adminGet("/upstreams");
            assertEquals(200, r.statusCode());
            return r.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
