package dev.relay.server.internal;

import dev.relay.server.testing.InProcessRelay;
import dev.relay.testing.Await;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.RawHttpConnection.Response;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code rate-limit} filter in the configured server, in front of a real origin: 429 with
 * {@code Retry-After} and the draft's fields past the limit, keys kept apart, {@code max-in-flight}
 * with a response the origin holds back, a client that leaves, and a reload.
 */
@Timeout(60)
class RateLimitEndToEndTest {
    private static final String HOST = "site.test";
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private TestOrigin origin;

    @BeforeEach
    void startOrigin() {
        origin = TestOrigin.builder().name("origin")
                .fallbackHandler((request, response) -> response.body("hello " + request.path()))
                .build().start();
    }

    @AfterEach
    void tearDown() throws Exception {
        origin.releaseResponses();
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
        origin.close();
    }

    /** A configuration whose one route carries {@code filter}, listening on {@code listener}. */
    private String conf(String listener, String filter) {
        return """
                proxy {
                  listeners = [ "%s" ]
                  admin.address = "127.0.0.1:0"
                  server { upgrade-socket = none }
                  upstreams { web { backends = [ "%s" ] } }
                  routes = [ { upstream = web, filters = [ %s ] } ]
                }
                """.formatted(listener, origin.address(), filter);
    }

    private InProcessRelay start(String filter) throws Exception {
        InProcessRelay relay = new InProcessRelay(dir.resolve("relay.conf"), conf("127.0.0.1:0", filter));
        cleanup.add(relay);
        return relay;
    }

    private static Response get(InProcessRelay relay, String path, String apiKey) throws Exception {
        return RawHttpConnection.get(relay.proxy(), HOST, path, apiKey == null ? Map.of() : Map.of("X-Api-Key", apiKey));
    }

    @Test
    void answers429WithRetryAfterAndTheDraftFieldsPastTheLimitAndKeepsKeysApart() throws Exception {
        InProcessRelay relay = start("{ name = rate-limit, key = \"header:X-Api-Key\", limit = 3, period = 1h }");

        for (int remaining = 2; remaining >= 0; remaining--) {
            Response ok = get(relay, "/a", "alpha");
            assertEquals(200, ok.status());
            assertEquals("hello /a", ok.bodyText());
            assertEquals("\"default\";q=3;w=3600", ok.header("RateLimit-Policy"));
            assertTrue(ok.header("RateLimit").startsWith("\"default\";r=" + remaining + ";t="), ok.header("RateLimit"));
        }
        Response refused = get(relay, "/a", "alpha");
        assertEquals(429, refused.status());
        assertEquals("429 Too Many Requests\n", refused.bodyText());
        long retryAfter = Long.parseLong(refused.header("Retry-After"));
        // The window alone is full: the rest of this hour, then a third of the next, when 3 x 2/3 + 1 fits.
        assertTrue(retryAfter > 4700 && retryAfter <= 4800, "Retry-After: " + retryAfter);
        assertEquals("\"default\";q=3;w=3600", refused.header("RateLimit-Policy"));
        assertEquals("\"default\";r=0;t=" + retryAfter, refused.header("RateLimit"));

        Response otherKey = get(relay, "/a", "beta");
        assertEquals(200, otherKey.status());
        assertTrue(otherKey.header("RateLimit").startsWith("\"default\";r=2;"), otherKey.header("RateLimit"));
        Response noKey = get(relay, "/a", null);
        assertEquals(200, noKey.status());
        assertNull(noKey.header("RateLimit"), "a request without the key is not limited");

        assertEquals(5, origin.requestCount("/a"), "the refused request never reached the origin");
    }

    @Test
    void maxInFlightAnswers503WhileTheOriginHoldsAResponseAndFreesTheSlotAfterIt() throws Exception {
        InProcessRelay relay = start("{ name = rate-limit, key = client-ip, max-in-flight = 1 }");
        origin.holdResponses();
        CompletableFuture<Response> slow = CompletableFuture.supplyAsync(() -> getQuietly(relay, "/slow"));
        origin.awaitHeldResponses(1, WAIT);

        Response busy = get(relay, "/other", null);
        assertEquals(503, busy.status());
        assertEquals(0, origin.requestCount("/other"));

        origin.releaseResponses();
        assertEquals(200, slow.get().status());
        // The slot comes back in responseDone, just after the client has its response: a request on another
        // connection may arrive first and be refused (a 503 costs no slot), so each waits for its 200.
        awaitAdmitted(relay, "the slot was given back with the response");
        awaitAdmitted(relay, "and only once: not counted below zero either");
        // Two at once again: the second is refused, so the count is back to exactly one slot.
        origin.holdResponses();
        CompletableFuture<Response> held = CompletableFuture.supplyAsync(() -> {
            // The last /other's slot may still be on its way back: a refusal here is that race, not the count.
            Response response;
            while ((response = getQuietly(relay, "/slow")).status() == 503) {
                Thread.onSpinWait();
            }
            return response;
        });
        origin.awaitHeldResponses(1, WAIT);
        assertEquals(503, get(relay, "/other", null).status());
        origin.releaseResponses();
        assertEquals(200, held.get().status());
    }

    @Test
    void aClientThatLeavesGivesItsSlotBack() throws Exception {
        InProcessRelay relay = start("{ name = rate-limit, key = client-ip, max-in-flight = 1 }");
        origin.holdResponses();
        try (RawHttpConnection leaving = new RawHttpConnection(relay.proxy())) {
            leaving.send("GET /slow HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n");
            origin.awaitHeldResponses(1, WAIT);
        }
        // The proxy sees the client go, abandons the request and gives the slot back: a new request of
        // the same client is admitted (and held by the origin in turn) instead of refused.
        Await.until(() -> {
            Response next = getQuietly(relay, "/after", Duration.ofMillis(300));
            return next == null || next.status() != 503;
        }, WAIT, () -> "still refused with 503 after the client left");
        origin.releaseResponses();
        Await.until(() -> origin.requestCount("/after") >= 1, WAIT, () -> "requests: " + origin.requests());
    }

    @Test
    void aReloadBringsTheNewLimitIntoForce() throws Exception {
        InProcessRelay relay = start("{ name = rate-limit, key = \"header:X-Api-Key\", limit = 2, period = 1h }");
        String listener = "127.0.0.1:" + relay.proxy().getPort();
        assertEquals(200, get(relay, "/r", "alpha").status());
        assertEquals(200, get(relay, "/r", "alpha").status());
        assertEquals(429, get(relay, "/r", "alpha").status());

        relay.rewrite(conf(listener, "{ name = rate-limit, key = \"header:X-Api-Key\", limit = 1, period = 1h, headers = false }"));
        assertEquals(200, relay.adminPost("/reload").statusCode());

        Response first = get(relay, "/r", "beta");
        assertEquals(200, first.status());
        assertNull(first.header("RateLimit"), "headers = false now");
        Response second = get(relay, "/r", "beta");
        assertEquals(429, second.status());
        assertEquals("\"default\";q=1;w=3600", second.header("RateLimit-Policy"), "a 429 always says why");
        assertEquals(200, get(relay, "/r", "alpha").status(), "the reloaded filter counts afresh");
        assertEquals(429, get(relay, "/r", "alpha").status());

        relay.rewrite(conf(listener, "{ name = rate-limit, key = \"header:X-Api-Key\", limit = 0, period = 1h }"));
        assertEquals(400, relay.adminPost("/reload").statusCode(), "limit = 0 is refused");
        assertEquals(429, get(relay, "/r", "beta").status(), "and the running filter stays");
        assertFalse(origin.requests().isEmpty());
    }

    private static Response getQuietly(InProcessRelay relay, String path) {
        try {
            return get(relay, path, null);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A GET that gives up after {@code patience} (null then): the request is held by the origin. */
    private static Response getQuietly(InProcessRelay relay, String path, Duration patience) {
        try (RawHttpConnection connection = new RawHttpConnection(relay.proxy())) {
            connection.setReadTimeout((int) patience.toMillis());
            connection.send("GET " + path + " HTTP/1.1\r\nHost: " + HOST + "\r\nConnection: close\r\n\r\n");
            return connection.readResponse();
        } catch (java.net.SocketTimeoutException e) {
            return null;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void awaitAdmitted(InProcessRelay relay, String what) {
        Await.until(() -> getQuietly(relay, "/other").status() == 200, WAIT, () -> what);
    }
}
