package dev.relay.server.internal;

import dev.relay.server.testing.InProcessRelay;
import dev.relay.testing.Await;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.RawHttpConnection.Response;
import dev.relay.testing.RawResponseOrigin;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The load-balancing and resilience keys end to end: the configured server in process, real origins
 * on loopback, its state read from the admin listener's {@code /upstreams}.
 */
@Timeout(60)
class LoadBalancingEndToEndTest {
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

    private TestOrigin origin(String name) {
        return closeLater(TestOrigin.builder().name(name).build().start());
    }

    /** A server on {@code upstreams} (the body of {@code proxy.upstreams}) with an admin listener. */
    private InProcessRelay relay(String upstreams) throws IOException {
        return relay("[ \"127.0.0.1:0\" ]", "", upstreams);
    }

    private InProcessRelay relay(String listeners, String server, String upstreams) throws IOException {
        return closeLater(new InProcessRelay(dir.resolve("relay.conf"), """
                proxy {
                  listeners = %s
                  admin.address = "127.0.0.1:0"
                  server { upgrade-socket = none, access-log = false
                %s }
                  upstreams {
                %s
                  }
                }
                """.formatted(listeners, server, upstreams)));
    }

    /** The {@code field} of backend {@code address} in {@code /upstreams}. */
    private static String backendField(InProcessRelay relay, String address, String field) {
        return relay.backendField(address, field);
    }

    private static String upstreams(InProcessRelay relay) {
        return relay.upstreamsJson();
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    // (a) ------------------------------------------------------------------------------------------

    @Test
    void ketamaOnAHeaderSendsTheSameUserToTheSameBackend() throws IOException {
        TestOrigin a = origin("a");
        TestOrigin b = origin("b");
        TestOrigin c = origin("c");
        InProcessRelay relay = relay("""
                web { backends = [ "%s", "%s", "%s" ], selection = ketama, hash-key = "header:X-User" }
                """.formatted(a.address(), b.address(), c.address()));

        Map<String, String> backendOf = new HashMap<>();
        for (int round = 0; round < 3; round++) {
            for (int user = 0; user < 20; user++) {
                Response r = RawHttpConnection.get(relay.proxy(), "site.test", "/", Map.of("X-User", "user-" + user));
                assertEquals(200, r.status());
                String before = backendOf.putIfAbsent("user-" + user, r.header("X-Origin"));
                if (before != null) {
                    assertEquals(before, r.header("X-Origin"), "user-" + user + " moved in round " + round);
                }
            }
        }
        assertTrue(new HashSet<>(backendOf.values()).size() >= 2, "users spread over the backends: " + backendOf);
        assertTrue(upstreams(relay).contains("\"selection\":\"ketama\",\"hash_key\":\"header:X-User\""), upstreams(relay));
    }

    @Test
    void ketamaFailsOverToTheNextBackendOnTheRingAndBackWhenTheBackendReturns() throws IOException {
        TestOrigin a = origin("a");
        TestOrigin b = origin("b");
        InProcessRelay relay = relay("""
                web { backends = [ "%s", "%s" ], selection = ketama, hash-key = "cookie:sid", outlier-detection = off }
                """.formatted(a.address(), b.address()));
        Map<String, String> cookie = Map.of("Cookie", "sid=42");
        String home = RawHttpConnection.get(relay.proxy(), "site.test", "/", cookie).header("X-Origin");
        TestOrigin homeOrigin = home.equals("a") ? a : b;

        homeOrigin.pause();
        // And no pooled connection to it either: the next request must connect, and be refused.
        homeOrigin.closeConnections();
        Await.until(() -> homeOrigin.openConnections() == 0, WAIT, () -> "connections closed");
        Response failedOver = RawHttpConnection.get(relay.proxy(), "site.test", "/", cookie);
        assertEquals(200, failedOver.status());
        assertEquals(home.equals("a") ? "b" : "a", failedOver.header("X-Origin"));
        homeOrigin.resume();
        assertEquals(home, RawHttpConnection.get(relay.proxy(), "site.test", "/", cookie).header("X-Origin"));
    }

    // (b) ------------------------------------------------------------------------------------------

    @Test
    void leastConnectionsPrefersTheIdleBackendOverOneHoldingASlowRequest() throws IOException {
        TestOrigin a = origin("a");
        TestOrigin b = origin("b");
        InProcessRelay relay = relay("""
                web { backends = [ "%s", "%s" ], selection = least-connections }
                """.formatted(a.address(), b.address()));

        // /hang is never answered: the request stays in flight on whichever backend got it.
        try (Socket slow = new Socket()) {
            slow.connect(relay.proxy(), 5_000);
            OutputStream out = slow.getOutputStream();
            out.write("GET /hang HTTP/1.1\r\nHost: site.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            Await.until(() -> a.requestCount("/hang") + b.requestCount("/hang") == 1, WAIT, () -> "the slow request arrives");
            TestOrigin busy = a.requestCount("/hang") == 1 ? a : b;
            TestOrigin idle = busy == a ? b : a;
            assertEquals("1", backendField(relay, busy.address(), "in_flight"), upstreams(relay));
            assertEquals("0", backendField(relay, idle.address(), "in_flight"), upstreams(relay));

            for (int i = 0; i < 10; i++) {
                Response r = RawHttpConnection.get(relay.proxy(), "site.test", "/fast-" + i);
                assertEquals(200, r.status());
                assertEquals(idle.name(), r.header("X-Origin"), "request " + i);
            }
        }
        // The client went away: its attempt ends (cancelled), the count goes back.
        Await.until(() -> "0".equals(backendField(relay, a.address(), "in_flight"))
                && "0".equals(backendField(relay, b.address(), "in_flight")), WAIT, () -> upstreams(relay));
    }

    // (c) ------------------------------------------------------------------------------------------

    @Test
    void anHttpHealthCheckTakesASickBackendOutAndBringsItBack() throws IOException {
        AtomicBoolean sick = new AtomicBoolean();
        TestOrigin a = origin("a");
        TestOrigin b = closeLater(TestOrigin.builder().name("b")
                .handler("/healthz", (request, response) -> response.status(sick.get() ? 503 : 200).body("b\n"))
                .handler("/app", (request, response) -> response.status(sick.get() ? 500 : 200).body("b\n"))
                .build().start());
        InProcessRelay relay = relay("""
                web {
                  backends = [ "%s", "%s" ]
                  health-check { type = http, path = "/healthz", interval = 50ms, connect-timeout = 1s, read-timeout = 1s }
                  outlier-detection = off
                }
                """.formatted(a.address(), b.address()));
        Set<String> served = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            served.add(RawHttpConnection.get(relay.proxy(), "site.test", "/app").header("X-Origin"));
        }
        assertEquals(Set.of("a", "b"), served);
        assertTrue(b.requestCount("/healthz") > 0, "checked");

        sick.set(true);
        Await.until(() -> "false".equals(backendField(relay, b.address(), "healthy")), WAIT, () -> upstreams(relay));
        assertEquals("false", backendField(relay, b.address(), "ready"));
        for (int i = 0; i < 20; i++) {
            Response r = RawHttpConnection.get(relay.proxy(), "site.test", "/app");
            assertEquals(200, r.status(), "request " + i + " after the check took b out");
            assertEquals("a", r.header("X-Origin"));
        }

        sick.set(false);
        Await.until(() -> "true".equals(backendField(relay, b.address(), "healthy")), WAIT, () -> upstreams(relay));
        Await.until(() -> {
            try {
                return "b".equals(RawHttpConnection.get(relay.proxy(), "site.test", "/app").header("X-Origin"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, WAIT, () -> "b serves again");
        assertTrue(upstreams(relay).contains("\"health_check\":\"http GET /healthz every 50ms\""), upstreams(relay));
    }

    @Test
    void whenEveryBackendFailsItsHealthCheckRequestsStillGoToThemAsWithNginx() throws IOException {
        TestOrigin a = origin("a");
        TestOrigin b = origin("b");
        // A wrong check: /status/404 is 404 everywhere.
        InProcessRelay relay = relay("""
                web { backends = [ "%s", "%s" ], health-check { type = http, path = "/status/404", interval = 50ms } }
                """.formatted(a.address(), b.address()));
        Await.until(() -> "false".equals(backendField(relay, a.address(), "healthy"))
                && "false".equals(backendField(relay, b.address(), "healthy")), WAIT, () -> upstreams(relay));
        for (int i = 0; i < 4; i++) {
            assertEquals(200, RawHttpConnection.get(relay.proxy(), "site.test", "/").status());
        }
    }

    @Test
    void aTcpHealthCheckMarksABackendThatRefusesConnectionsUnhealthy() throws IOException {
        TestOrigin a = origin("a");
        TestOrigin b = origin("b");
        InProcessRelay relay = relay("""
                web { backends = [ "%s", "%s" ], health-check { type = tcp, interval = 50ms } }
                """.formatted(a.address(), b.address()));
        b.pause();
        Await.until(() -> "false".equals(backendField(relay, b.address(), "healthy")), WAIT, () -> upstreams(relay));
        assertEquals("true", backendField(relay, a.address(), "healthy"));
        b.resume();
        Await.until(() -> "true".equals(backendField(relay, b.address(), "healthy")), WAIT, () -> upstreams(relay));
    }

    // (d) ------------------------------------------------------------------------------------------

    @Test
    void fileDiscoveryPicksUpABackendAddedToTheFileWithoutARestart() throws IOException {
        TestOrigin a = origin("a");
        TestOrigin b = origin("b");
        Path list = Files.writeString(dir.resolve("backends.txt"), "# web pool\n" + a.address() + "\n");
        InProcessRelay relay = relay("""
                web { discovery { type = file, path = "backends.txt", poll-interval = 50ms } }
                """);
        // The first discovery ran before the server took requests.
        assertEquals("a", RawHttpConnection.get(relay.proxy(), "site.test", "/").header("X-Origin"));
        assertEquals(null, backendField(relay, b.address(), "ready"));

        Files.writeString(list, "# web pool\n" + a.address() + "\n" + b.address() + " weight=2\n");
        Await.until(() -> "true".equals(backendField(relay, b.address(), "ready")), WAIT, () -> upstreams(relay));
        Set<String> served = new HashSet<>();
        for (int i = 0; i < 6; i++) {
            Response r = RawHttpConnection.get(relay.proxy(), "site.test", "/");
            assertEquals(200, r.status());
            served.add(r.header("X-Origin"));
        }
        assertEquals(Set.of("a", "b"), served);
        assertEquals("2", backendField(relay, b.address(), "weight"));
        assertTrue(upstreams(relay).contains("\"discovery\":\"file " + list.toAbsolutePath() + "\""), upstreams(relay));

        // A backend removed from the file stops taking requests.
        Files.writeString(list, b.address() + "\n");
        Await.until(() -> backendField(relay, a.address(), "ready") == null, WAIT, () -> upstreams(relay));
        assertEquals("b", RawHttpConnection.get(relay.proxy(), "site.test", "/").header("X-Origin"));
    }

    // (e) ------------------------------------------------------------------------------------------

    @Test
    void aRequestThatFailsOnBothBackendsEjectsOneAndAReloadThatKeepsTheGroupKeepsTheEjection() throws IOException {
        int dead1 = TestOrigin.closedPort();
        int dead2 = TestOrigin.closedPort();
        String group = """
                web { backends = [ "127.0.0.1:%d", "127.0.0.1:%d" ], outlier-detection { consecutive-failures = 1 } }
                """.formatted(dead1, dead2);
        InProcessRelay relay = relay(group);

        assertEquals(502, RawHttpConnection.get(relay.proxy(), "site.test", "/").status());
        // The first failure ejects its backend; the second may not: never the last ready backend.
        String json = upstreams(relay);
        assertEquals(1, count(json, "\"ejected\":true"), json);
        assertEquals(1, count(json, "\"ejected\":false"), json);
        assertTrue(json.contains("\"outlier_detection\":true"), json);

        // Same group, one more, and routes: the group keeps its load balancer, and so its ejection.
        String listener = "\"127.0.0.1:" + relay.proxy().getPort() + "\"";
        relay.rewrite(Files.readString(relay.file)
                .replace("[ \"127.0.0.1:0\" ]", "[ " + listener + " ]")
                .replace("  upstreams {", "  routes = [ { name = all, upstream = web } ]\n  upstreams {")
                .replace(group, group + "other { backends = [ \"127.0.0.1:" + dead1 + "\" ] }\n"));
        HttpResponse<String> reload;
        try {
            reload = relay.adminPost("/reload");
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        assertEquals(200, reload.statusCode(), reload.body());
        json = upstreams(relay);
        assertTrue(json.contains("\"generation\":2"), json);
        assertTrue(json.contains("\"other\":"), json);
        assertEquals(1, count(json.substring(json.indexOf("\"web\":"), json.indexOf("\"other\":")), "\"ejected\":true"), json);
    }

    /**
     * Backends that close new connections without answering (going down, or nginx's {@code return 444}):
     * a GET goes to the next backend, each backend is tried once, and then the client gets 502; a backend
     * that answers serves it.
     */
    @Test
    void aGetOnBackendsThatCloseWithoutAnAnswerTriesEachOnceThen502OrTheOneThatAnswers() throws IOException {
        RawResponseOrigin closing1 = closeLater(RawResponseOrigin.start(RawResponseOrigin.Delivery.WHOLE,
                request -> RawResponseOrigin.Reply.thenClose("")));
        RawResponseOrigin closing2 = closeLater(RawResponseOrigin.start(RawResponseOrigin.Delivery.WHOLE,
                request -> RawResponseOrigin.Reply.thenClose("")));
        InProcessRelay relay = relay("""
                web { backends = [ "%s", "%s" ], outlier-detection = off }
                """.formatted(closing1.address(), closing2.address()));

        assertEquals(502, RawHttpConnection.get(relay.proxy(), "site.test", "/").status());
        assertEquals(1, closing1.requests().size(), "each backend once, not max-attempts times");
        assertEquals(1, closing2.requests().size());

        TestOrigin answering = origin("answering");
        InProcessRelay mixed = relay("""
                web { backends = [ "%s", "%s" ], outlier-detection = off }
                """.formatted(closing1.address(), answering.address()));
        for (int i = 0; i < 4; i++) {
            assertEquals(200, RawHttpConnection.get(mixed.proxy(), "site.test", "/small").status());
        }
        assertEquals(4, answering.requestCount("/small"));
    }

    // (f) ------------------------------------------------------------------------------------------

    @Test
    void aListenersHeaderReadTimeoutAnswers408AndTheServiceWideOneAppliesToTheOthers() throws IOException {
        TestOrigin a = origin("a");
        int second;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            second = s.getLocalPort();
        }
        InProcessRelay relay = relay("""
                [ { address = "127.0.0.1:0", header-read-timeout = 200ms }, { address = "127.0.0.1:%d", keepalive-timeout = 5s } ]
                """.formatted(second), "header-read-timeout = 300ms", """
                web { backends = [ "%s" ] }
                """.formatted(a.address()));
        List<InetSocketAddress> listeners = relay.service().boundAddresses();
        assertEquals(2, listeners.size());
        for (InetSocketAddress listener : listeners) {
            // A header that never ends.
            String answer;
            try (RawHttpConnection connection = new RawHttpConnection(listener)) {
                connection.send("GET / HTTP/1.1\r\nHost: site.test\r\nX-Slow: ");
                answer = connection.readToEnd();
            }
            assertTrue(answer.startsWith("HTTP/1.1 408 "), listener + ": " + answer);
            // A whole one is served.
            assertEquals(200, RawHttpConnection.get(listener, "site.test", "/").status());
        }
        assertEquals(2, a.requests().size(), "only the whole requests reached the origin");
    }
}
