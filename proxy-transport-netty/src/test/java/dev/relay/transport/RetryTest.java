package dev.relay.transport;

import dev.relay.core.BodyChunk;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.HttpModules;
import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.core.ResponseHeader;
import dev.relay.core.RetryType;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.testing.Await;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.RawResponseOrigin;
import dev.relay.testing.RecordedRequest;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * When the engine tries again and when it must not: connect failures fail over, a pooled connection that
 * the origin closed before answering is retried (GET and a small POST), a new one only for an idempotent
 * method, a request the origin may have
 * acted on is never replayed, a body past the replay buffer ends retries, a body read whole by
 * {@code readRequestBody} is always replayable, back-off spaces the attempts, and a body part taken back
 * from an abandoned attempt passes the modules once per request.
 */
@Timeout(60)
class RetryTest {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final Set<ErrorType> STALE = Set.of(ErrorType.CONNECTION_CLOSED, ErrorType.READ_ERROR,
            ErrorType.WRITE_ERROR);

    private TestOrigin a;
    private TestOrigin b;
    private String dead;

    @BeforeEach
    void startOrigins() {
        a = TestOrigin.builder().name("a").build().start();
        b = TestOrigin.builder().name("b").build().start();
        dead = "127.0.0.1:" + TestOrigin.closedPort();
    }

    @AfterEach
    void stopOrigins() {
        a.close();
        b.close();
    }

    private static HttpResponse<String> get(ProxyFixture fixture, String path) throws Exception {
        return fixture.client.send(HttpRequest.newBuilder(fixture.uri(path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(ProxyFixture fixture, String path, byte[] body) throws Exception {
        return fixture.client.send(HttpRequest.newBuilder(fixture.uri(path)).timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String sinkAnswer(byte[] body) {
        return "{\"bytes\":" + body.length + ",\"sha256\":\"" + TestOrigin.sha256Hex(body) + "\"}";
    }

    // ---- connect failures ----------------------------------------------------------------------------------

    @Test
    void retriesOnAnotherBackendWhenConnectIsRefused() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(dead), FailoverProxy.peer(a.address()));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            HttpResponse<String> response = get(fixture, "/");
            assertEquals(200, response.statusCode());
            assertEquals("a", response.headers().firstValue("X-Origin").orElseThrow());
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertNull(outcome.error());
            assertEquals(List.of(dead, a.address()), outcome.tried());
            assertEquals(List.of("connect:CONNECT_REFUSED"), outcome.failures());
            assertEquals(2, outcome.attempts());
            assertEquals(1, fixture.server.idleUpstreamConnections());
        }
    }

    @Test
    void singleDeadBackendGives502WithConnectRefusedAfterMaxAttempts() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(dead));
        try (ProxyFixture fixture = new ProxyFixture(proxy, ProxyOptions.builder().maxAttempts(3).build())) {
            assertEquals(502, get(fixture, "/").statusCode());
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertEquals(ErrorType.CONNECT_REFUSED, outcome.error().type());
            assertEquals(3, outcome.attempts());
            assertEquals(List.of(dead, dead, dead), outcome.tried());
            assertEquals(502, outcome.failToProxy().errorCode());
            proxy.assertNoMoreOutcomes();
            assertEquals(0, fixture.server.idleUpstreamConnections());
        }
    }

    @Test
    void pausedBackendIsFailedOverAndUsedAgainAfterResume() throws Exception {
        // No pooling, so that each request really connects.
        PeerOptions noPool = PeerOptions.builder().idleTimeout(Duration.ZERO).build();
        FailoverProxy unpooled = new FailoverProxy(FailoverProxy.peer(a.address(), noPool),
                FailoverProxy.peer(b.address(), noPool));
        try (ProxyFixture fixture = new ProxyFixture(unpooled)) {
            a.pause();
            try {
                HttpResponse<String> failedOver = get(fixture, "/");
                assertEquals("b", failedOver.headers().firstValue("X-Origin").orElseThrow());
                FailoverProxy.Outcome outcome = unpooled.nextOutcome();
                assertEquals(List.of(a.address(), b.address()), outcome.tried());
                assertEquals(List.of("connect:CONNECT_REFUSED"), outcome.failures());
            } finally {
                a.resume();
            }
            HttpResponse<String> back = get(fixture, "/");
            assertEquals("a", back.headers().firstValue("X-Origin").orElseThrow());
            assertEquals(List.of(a.address()), unpooled.nextOutcome().tried());
        }
    }

    // ---- the keep-alive race: a pooled connection the origin closed ------------------------------------------

    private void assertStaleConnectionIsRetried(String armPath, boolean post) throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(a.address()));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            assertEquals(200, get(fixture, armPath).statusCode());
            proxy.nextOutcome();
            assertEquals(1, fixture.server.idleUpstreamConnections());

            HttpResponse<String> response;
            byte[] body = "a small, replayable body".getBytes(StandardCharsets.UTF_8);
            if (post) {
                response = post(fixture, "/sink", body);
            } else {
                response = get(fixture, "/small");
            }
            assertEquals(200, response.statusCode());
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertNull(outcome.error());
            assertEquals(List.of(a.address(), a.address()), outcome.tried());
            assertEquals(List.of(true, false), outcome.reused(), "the pooled connection, then a fresh one");
            assertEquals(1, outcome.failures().size());
            assertTrue(STALE.contains(ErrorType.valueOf(outcome.failures().get(0).substring("proxy:".length()))),
                    outcome.failures().toString());
            assertEquals(1, a.discardedRequests());
            assertEquals(2, a.connectionsAccepted());
            if (post) {
                assertEquals(sinkAnswer(body), response.body());
                assertEquals(1, a.requestCount("/sink"));
            } else {
                assertEquals(100, response.body().length());
                assertEquals(1, a.requestCount("/small"));
            }
            assertEquals(1, fixture.server.idleUpstreamConnections());
        }
    }

    @Test
    void reusedConnectionClosedBeforeTheResponseIsRetriedForGet() throws Exception {
        assertStaleConnectionIsRetried("/close-on-next", false);
    }

    @Test
    void reusedConnectionResetBeforeTheResponseIsRetriedForGet() throws Exception {
        assertStaleConnectionIsRetried("/close-on-next?reset=1", false);
    }

    @Test
    void reusedConnectionClosedBeforeTheResponseIsRetriedForASmallPost() throws Exception {
        assertStaleConnectionIsRetried("/close-on-next", true);
    }

    @Test
    void reusedConnectionResetBeforeTheResponseIsRetriedForASmallPost() throws Exception {
        assertStaleConnectionIsRetried("/close-on-next?reset=1", true);
    }

    /**
     * The pooled connection a request met had been closed by the origin, and so had the other idle one:
     * the retry opens a new connection instead of trying the next pooled one (an origin that restarted
     * closed them all).
     */
    @Test
    void afterAStalePooledConnectionTheRetryOpensANewOne() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(a.address()));
        // One event loop: both pooled connections are in the one partition the request looks in.
        TransportRuntime oneLoop = TransportRuntime.create(TransportRuntime.Kind.AUTO, 1);
        try (ProxyFixture fixture = new ProxyFixture(proxy, ProxyOptions.defaults(), oneLoop)) {
            a.holdResponses();
            CompletableFuture<HttpResponse<String>> first = CompletableFuture.supplyAsync(() -> getUnchecked(fixture));
            CompletableFuture<HttpResponse<String>> second = CompletableFuture.supplyAsync(() -> getUnchecked(fixture));
            a.awaitHeldResponses(2, WAIT);
            a.releaseResponses();
            assertEquals(200, first.get(10, TimeUnit.SECONDS).statusCode());
            assertEquals(200, second.get(10, TimeUnit.SECONDS).statusCode());
            proxy.nextOutcome();
            proxy.nextOutcome();
            Await.until(() -> fixture.server.idleUpstreamConnections() == 2, WAIT,
                    () -> "idle upstream connections: " + fixture.server.idleUpstreamConnections());

            assertEquals(200, get(fixture, "/small").statusCode());
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertEquals(List.of(true, false), outcome.reused(), "a stale pooled connection, then a new one");
            assertEquals(1, a.discardedRequests());
            assertEquals(3, a.connectionsAccepted());
        } finally {
            oneLoop.close();
        }
    }

    private static HttpResponse<String> getUnchecked(ProxyFixture fixture) {
        try {
            return get(fixture, "/close-on-next");
        } catch (Exception e) {
            throw new java.util.concurrent.CompletionException(e);
        }
    }

    @Test
    void poolDropsAConnectionTheOriginClosedWhileIdle() throws Exception {
        try (TestOrigin idle = TestOrigin.builder().name("idle").closeIdleConnectionsAfter(Duration.ofMillis(50))
                .build().start()) {
            FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(idle.address()));
            try (ProxyFixture fixture = new ProxyFixture(proxy)) {
                assertEquals(200, get(fixture, "/small").statusCode());
                proxy.nextOutcome();
                idle.awaitOpenConnections(0, WAIT);
                assertEquals(1, idle.idleConnectionsClosed());
                Await.until(() -> fixture.server.idleUpstreamConnections() == 0, WAIT,
                        () -> "idle upstream connections: " + fixture.server.idleUpstreamConnections());
                assertEquals(200, get(fixture, "/small").statusCode());
                FailoverProxy.Outcome outcome = proxy.nextOutcome();
                assertEquals(List.of(false), outcome.reused(), "a fresh connection, no failed attempt");
                assertEquals(1, outcome.attempts());
            }
        }
    }

    @Test
    void resetBeforeTheResponseOnAReusedConnectionIsRetriedOnceElsewhereForAPost() throws Exception {
        // Pingora's REUSED_ONLY: on a pooled connection, a reset before any response byte looks exactly like
        // the keep-alive race, so even a POST is tried again; the second (fresh) connection is not retried.
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(a.address()), FailoverProxy.peer(b.address()));
        try (ProxyFixture fixture = new ProxyFixture(proxy, ProxyOptions.builder().maxAttempts(5).build())) {
            assertEquals(200, get(fixture, "/small").statusCode());
            proxy.nextOutcome();
            assertEquals(502, post(fixture, "/reset-before-response", "order=1".getBytes(StandardCharsets.UTF_8))
                    .statusCode());
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertEquals(List.of(a.address(), b.address()), outcome.tried());
            assertEquals(List.of(true, false), outcome.reused());
            assertEquals(1, a.requestCount("/reset-before-response"));
            assertEquals(1, b.requestCount("/reset-before-response"));
            assertEquals(0, fixture.server.idleUpstreamConnections());
        }
    }

    /**
     * A backend going down closes the connections it accepted without answering (nginx's fast shutdown,
     * or its {@code return 444}): a GET on such a new connection goes to the next backend, as nginx's
     * {@code proxy_next_upstream error} does, and the client never sees the restart.
     */
    @Test
    void getOnANewConnectionClosedWithoutAnAnswerIsRetriedOnTheNextBackend() throws Exception {
        try (RawResponseOrigin closing = RawResponseOrigin.start(RawResponseOrigin.Delivery.WHOLE,
                request -> RawResponseOrigin.Reply.thenClose(""))) {
            FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(closing.address()), FailoverProxy.peer(b.address()));
            try (ProxyFixture fixture = new ProxyFixture(proxy)) {
                HttpResponse<String> response = get(fixture, "/small");

                assertEquals(200, response.statusCode());
                assertEquals(100, response.body().length());
                FailoverProxy.Outcome outcome = proxy.nextOutcome();
                assertNull(outcome.error());
                assertEquals(List.of(closing.address(), b.address()), outcome.tried());
                assertEquals(List.of(false, false), outcome.reused(), "two new connections");
                assertEquals(1, closing.requests().size());
                assertEquals(1, b.requestCount("/small"));
            }
        }
    }

    /** The same close after a POST: the origin may have acted on it, so it is not sent again. */
    @Test
    void postOnANewConnectionClosedWithoutAnAnswerIsNotRetried() throws Exception {
        try (RawResponseOrigin closing = RawResponseOrigin.start(RawResponseOrigin.Delivery.WHOLE,
                request -> RawResponseOrigin.Reply.thenClose(""))) {
            FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(closing.address()), FailoverProxy.peer(b.address()));
            try (ProxyFixture fixture = new ProxyFixture(proxy)) {
                assertEquals(502, post(fixture, "/sink", "order=1".getBytes(StandardCharsets.UTF_8)).statusCode());

                FailoverProxy.Outcome outcome = proxy.nextOutcome();
                assertTrue(STALE.contains(outcome.error().type()), outcome.error().toString());
                assertEquals(List.of(closing.address()), outcome.tried());
                assertEquals(1, closing.requests().size(), "the POST reached the origin once");
                assertEquals(0, b.requestCount("/sink"));
            }
        }
    }

    // ---- never replay what the origin may have acted on ------------------------------------------------------

    @Test
    void postIsNeverReplayedAfterTheOriginResetMidResponse() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(a.address()));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            try (RawHttpConnection client = new RawHttpConnection(fixture.address.getPort())) {
                warmUp(client, proxy, "/small");
                client.send("POST /reset-mid-body?after=10&length=100 HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n"
                        + "order=1");
                RawHttpConnection.Response response = client.readResponse();
                assertEquals(200, response.status());
                assertFalse(response.complete());
            }
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertTrue(STALE.contains(outcome.error().type()), outcome.error().toString());
            assertEquals(List.of(true), outcome.reused(), "sent on the pooled connection");
            assertEquals(List.of(a.address()), outcome.tried());
            assertEquals(1, a.requestCount("/reset-mid-body"), "the POST must reach the origin exactly once");
        }
    }

    @Test
    void postIsNeverReplayedWhenTheOriginResetsWhileAnAsyncResponseFilterRuns() throws Exception {
        // The response head has arrived (the origin acted on the POST) but is not written to the client yet,
        // because responseFilter is still running: a reset now must not make the engine send the POST again.
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(a.address())) {
            @Override
            public CompletionStage<Void> responseFilter(Session session, ResponseHeader upstreamResponse, Ctx ctx) {
                if (!session.requestHeader().uri().startsWith("/reset-mid-body")) {
                    return Stages.done();
                }
                return CompletableFuture.runAsync(() -> { },
                        CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS));
            }
        };
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            try (RawHttpConnection client = new RawHttpConnection(fixture.address.getPort())) {
                warmUp(client, proxy, "/small");
                client.send("POST /reset-mid-body?after=0&delay=50 HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n"
                        + "order=2");
                try {
                    client.readResponse();
                } catch (java.io.IOException ignored) {
                    // Whatever the client sees, the origin must have seen the POST once.
                }
            }
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertEquals(List.of(true), outcome.reused().subList(0, 1), "sent on the pooled connection");
            assertEquals(List.of(a.address()), outcome.tried(), "attempts: " + outcome.tried()
                    + ", failures: " + outcome.failures());
            assertEquals(1, a.requestCount("/reset-mid-body"), "the POST must reach the origin exactly once");
        }
    }

    @Test
    void asyncUpstreamRequestFilterOfAnAbandonedAttemptDoesNotResumeTheNextAttempt() throws Exception {
        // Attempt 1 takes a pooled connection and its upstreamRequestFilter (say, signing) takes 300 ms;
        // meanwhile the origin closes that idle connection (after 100 ms), so the engine retries on a fresh
        // one. When attempt 1's filter completes, it belongs to an attempt that is over: it must not make the
        // engine send attempt 2's request before attempt 2's own filter has finished (and signed it), nor
        // send it twice.
        try (TestOrigin idle = TestOrigin.builder().name("idle").closeIdleConnectionsAfter(Duration.ofMillis(100))
                .build().start()) {
            FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(idle.address())) {
                @Override
                public CompletionStage<Void> upstreamRequestFilter(Session session,
                                                                   dev.relay.core.RequestHeader upstreamRequest,
                                                                   Ctx ctx) {
                    String attempt = Integer.toString(session.attempts());
                    upstreamRequest.insertHeader("X-Attempt", attempt);
                    // The signature is added when the filter completes, on the session's event loop.
                    return CompletableFuture.runAsync(() -> upstreamRequest.insertHeader("X-Signed", attempt),
                            CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS, session.eventLoop()));
                }
            };
            try (ProxyFixture fixture = new ProxyFixture(proxy);
                 RawHttpConnection client = new RawHttpConnection(fixture.address.getPort())) {
                warmUp(client, proxy, "/small");
                client.send("GET /small HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals(200, client.readResponse().status());
                FailoverProxy.Outcome outcome = proxy.nextOutcome();
                assertNull(outcome.error());
                assertEquals(List.of(true, false), outcome.reused(), "the stale pooled connection, then a fresh one");
                // A duplicate, if any, goes out when the second attempt's own filter completes (300 ms after it
                // began): no third request may arrive.
                assertThrows(AssertionError.class, () -> idle.awaitRequests(3, Duration.ofMillis(600)),
                        () -> "X-Attempt of every request the origin received: "
                                + idle.requests().stream().map(r -> r.header("X-Attempt")).toList());
                List<String> attempts = idle.requests().stream().map(r -> r.header("X-Attempt")).toList();
                assertEquals(List.of("1", "2"), attempts, "X-Attempt of every request the origin received");
                List<String> signed = idle.requests().stream().map(r -> String.valueOf(r.header("X-Signed"))).toList();
                assertEquals(List.of("1", "2"), signed, "each request goes out only once its own filter completed");
            }
        }
    }

    /**
     * Sends {@code GET path} on {@code client}'s connection, so that the upstream connection it leaves in the
     * pool belongs to the event loop of that same client connection (the pool is partitioned per loop).
     */
    private static void warmUp(RawHttpConnection client, FailoverProxy proxy, String path) throws Exception {
        client.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals(200, client.readResponse().status());
        assertNull(proxy.nextOutcome().error());
    }

    /** Sends a POST with {@code bodyBytes} in one write on a pooled connection that the origin will drop. */
    private FailoverProxy.Outcome postOnAStaleConnection(int retryBufferBytes, int bodyBytes) throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(a.address()));
        try (ProxyFixture fixture = new ProxyFixture(proxy,
                ProxyOptions.builder().retryBufferBytes(retryBufferBytes).build())) {
            byte[] body = TestOrigin.patternBytes(0, bodyBytes);
            try (RawHttpConnection client = new RawHttpConnection(fixture.address.getPort())) {
                warmUp(client, proxy, "/close-on-next");
                byte[] head = ("POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: " + bodyBytes + "\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1);
                byte[] request = Arrays.copyOf(head, head.length + body.length);
                System.arraycopy(body, 0, request, head.length, body.length);
                client.send(request);
                RawHttpConnection.Response response = client.readResponse();
                FailoverProxy.Outcome outcome = proxy.nextOutcome();
                if (response.status() == 200) {
                    assertEquals(sinkAnswer(body), response.bodyText());
                }
                assertEquals(outcome.status(), response.status());
                return outcome;
            }
        }
    }

    @Test
    void bodyLargerThanTheRetryBufferIsNotRetriedOnAReusedConnection() throws Exception {
        FailoverProxy.Outcome outcome = postOnAStaleConnection(1024, 8 * 1024);
        assertEquals(502, outcome.status());
        assertTrue(STALE.contains(outcome.error().type()), outcome.error().toString());
        assertEquals(RetryType.NO, outcome.error().retryType());
        assertEquals(List.of(true), outcome.reused());
        assertEquals(1, outcome.attempts());
        assertEquals(0, a.requestCount("/sink"));
    }

    @Test
    void bodyWithinTheRetryBufferIsRetriedOnAReusedConnection() throws Exception {
        FailoverProxy.Outcome outcome = postOnAStaleConnection(16 * 1024, 8 * 1024);
        assertEquals(200, outcome.status());
        assertEquals(List.of(true, false), outcome.reused());
        assertEquals(1, a.requestCount("/sink"));
    }

    // ---- request body filters across attempts ---------------------------------------------------------------

    /**
     * Attempt 1 sends the header on a pooled connection that the origin closes as soon as the head arrives,
     * while an asynchronous {@code ProxyHttp.requestBodyFilter} still holds the body part: attempt 2 sends
     * that part. The module (per request, like a decoder that must see each byte once) XORs every byte, so
     * running it twice would undo it; the ProxyHttp phase (per attempt) stamps its attempt's number over the
     * first byte (keeping the length the header announced), and must see the part as the module left it,
     * not as the abandoned run had changed it.
     */
    @Test
    void bodyPartHeldByTheProxyHttpPhaseOfAnAbandonedAttemptPassesTheModulesOnce() throws Exception {
        BodyFilteringProxy proxy = new BodyFilteringProxy(FailoverProxy.peer(a.address()));
        String body = "order=42&amount=1000";
        String xored = xor(body);
        try (ProxyFixture fixture = new ProxyFixture(proxy);
             RawHttpConnection client = new RawHttpConnection(fixture.address.getPort())) {
            warmUp(client, proxy, "/close-on-next");
            proxy.moduleSaw.clear();
            client.send("POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
            RawHttpConnection.Response response = client.readResponse();

            assertEquals(200, response.status());
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertEquals(List.of(true, false), outcome.reused(), "the stale pooled connection, then a fresh one");
            assertEquals(List.of("1:" + xored, "2:" + xored), proxy.proxyPhaseSaw,
                    "the ProxyHttp phase held the part on attempt 1, then saw it again as the module left it");
            assertEquals(List.of(body), proxy.moduleSaw, "the module saw the part once");
            assertEquals(sinkAnswer(("2" + xored.substring(1)).getBytes(StandardCharsets.ISO_8859_1)),
                    response.bodyText());
            assertEquals(1, a.requestCount("/sink"));
        }
    }

    /** The same for a request without a body: its one empty end-of-stream chunk passes the module once. */
    @Test
    void endOfABodilessRequestHeldByAnAbandonedAttemptPassesTheModulesOnce() throws Exception {
        BodyFilteringProxy proxy = new BodyFilteringProxy(FailoverProxy.peer(a.address()));
        try (ProxyFixture fixture = new ProxyFixture(proxy);
             RawHttpConnection client = new RawHttpConnection(fixture.address.getPort())) {
            warmUp(client, proxy, "/close-on-next");
            proxy.moduleSaw.clear();
            client.send("GET /small HTTP/1.1\r\nHost: x\r\n\r\n");

            assertEquals(200, client.readResponse().status());
            assertEquals(List.of(true, false), proxy.nextOutcome().reused());
            assertEquals(List.of("1:", "2:"), proxy.proxyPhaseSaw, "the ProxyHttp phase, once per attempt");
            assertEquals(List.of(""), proxy.moduleSaw, "the module saw the end of the request once");
            assertEquals(1, a.requestCount("/small"));
        }
    }

    /**
     * Runs {@link #xorEveryByte} as a module; its ProxyHttp phase records each part with the attempt, stamps
     * the attempt's number over its first byte, and holds it for 300 ms on attempt 1 (not on the warm-up).
     */
    static final class BodyFilteringProxy extends FailoverProxy {
        final List<String> moduleSaw = new CopyOnWriteArrayList<>();
        final List<String> proxyPhaseSaw = new CopyOnWriteArrayList<>();

        BodyFilteringProxy(HttpPeer peer) {
            super(peer);
        }

        @Override
        public void initDownstreamModules(HttpModules modules) {
            modules.add(xorEveryByte(moduleSaw));
        }

        @Override
        public CompletionStage<Void> requestBodyFilter(Session session, BodyChunk body, boolean endOfStream, Ctx ctx) {
            if (session.requestHeader().uri().equals("/close-on-next")) {
                return Stages.done();
            }
            int attempt = session.attempts();
            String seen = body.toString(StandardCharsets.ISO_8859_1);
            proxyPhaseSaw.add(attempt + ":" + seen);
            if (!seen.isEmpty()) {
                body.replace((attempt + seen.substring(1)).getBytes(StandardCharsets.ISO_8859_1));
            }
            return attempt > 1 ? Stages.done() : CompletableFuture.runAsync(() -> { },
                    CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS, session.eventLoop()));
        }
    }

    /** A module that XORs every request body byte with 0x01, recording each part it was given. */
    private static HttpModuleFactory xorEveryByte(List<String> saw) {
        return new HttpModuleFactory() {
            @Override
            public String name() {
                return "xor-every-byte";
            }

            @Override
            public HttpModule newModule() {
                return new HttpModule() {
                    @Override
                    public void requestBodyFilter(Session session, BodyChunk body, boolean endOfStream) {
                        String text = body.toString(StandardCharsets.ISO_8859_1);
                        saw.add(text);
                        body.replace(xor(text).getBytes(StandardCharsets.ISO_8859_1));
                    }
                };
            }
        };
    }

    private static String xor(String text) {
        char[] out = text.toCharArray();
        for (int i = 0; i < out.length; i++) {
            out[i] ^= 0x01;
        }
        return new String(out);
    }

    // ---- Session.readRequestBody ---------------------------------------------------------------------------

    private static final Pattern BACKEND = Pattern.compile("\"backend\"\\s*:\\s*\"([^\"]*)\"");

    /** Reads the body in requestFilter and routes on its {@code "backend"} field. */
    static class BodyRoutingProxy extends FailoverProxy {
        final int limit;
        final Map<String, List<HttpPeer>> routes;

        BodyRoutingProxy(int limit, Map<String, List<HttpPeer>> routes) {
            super(routes.values().iterator().next());
            this.limit = limit;
            this.routes = routes;
        }

        @Override
        public CompletionStage<Boolean> requestFilter(Session session, Ctx ctx) {
            return session.readRequestBody(limit).thenApply(body -> {
                ctx.body = body;
                return false;
            });
        }

        @Override
        protected HttpPeer choose(Session session, Ctx ctx) {
            Matcher m = BACKEND.matcher(new String(ctx.body, StandardCharsets.UTF_8));
            List<HttpPeer> candidates = routes.get(m.find() ? m.group(1) : "");
            if (candidates == null) {
                return null;
            }
            return candidates.get(ctx.tried.size() % candidates.size());
        }
    }

    private BodyRoutingProxy bodyRouting(int limit) {
        return new BodyRoutingProxy(limit, Map.of(
                "a", List.of(FailoverProxy.peer(a.address())),
                "b", List.of(FailoverProxy.peer(b.address())),
                "dead-then-a", List.of(FailoverProxy.peer(dead), FailoverProxy.peer(a.address()))));
    }

    @Test
    void routesOnAJsonFieldOfTheRequestBody() throws Exception {
        BodyRoutingProxy proxy = bodyRouting(4096);
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            for (String backend : List.of("b", "a", "b")) {
                byte[] body = ("{\"user\":42,\"backend\":\"" + backend + "\",\"note\":\"x\"}")
                        .getBytes(StandardCharsets.UTF_8);
                HttpResponse<String> response = post(fixture, "/sink", body);
                assertEquals(200, response.statusCode());
                assertEquals(backend, response.headers().firstValue("X-Origin").orElseThrow());
                assertEquals(sinkAnswer(body), response.body());
                assertNull(proxy.nextOutcome().error());
            }
            RecordedRequest seen = b.requests().get(0);
            assertEquals(Long.toString(seen.bodyBytes()), seen.header("Content-Length"));
            assertEquals(2, b.requestCount("/sink"));
            assertEquals(1, a.requestCount("/sink"));
        }
    }

    @Test
    void requestWithoutABodyReadsAnEmptyBody() throws Exception {
        // A GET: readRequestBody must complete with no bytes, whenever the end of the request is seen.
        BodyRoutingProxy proxy = new BodyRoutingProxy(4096, Map.of("", List.of(FailoverProxy.peer(a.address()))));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> response = get(fixture, "/bodiless");
                assertEquals(200, response.statusCode());
                assertNull(proxy.nextOutcome().error());
            }
            // Read or not, an absent body stays absent: a GET without framing fields gets none upstream
            // (Java's client sends Content-Length: 0, so this one is written by hand).
            try (RawHttpConnection client = new RawHttpConnection(fixture.address.getPort())) {
                client.send("GET /bodiless-raw HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals(200, client.readResponse().status());
            }
        }
        assertEquals(5, a.requestCount("/bodiless"));
        RecordedRequest raw = a.requests().stream().filter(r -> r.path().equals("/bodiless-raw")).findFirst().orElseThrow();
        assertNull(raw.header("Content-Length"), raw.headers().toString());
        assertNull(raw.header("Transfer-Encoding"), raw.headers().toString());
    }

    @Test
    void chunkedBodyReadWholeReachesTheOriginWithAContentLength() throws Exception {
        BodyRoutingProxy proxy = bodyRouting(4096);
        String json = "{\"backend\":\"a\",\"items\":[1,2,3]}";
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        try (ProxyFixture fixture = new ProxyFixture(proxy);
             RawHttpConnection client = new RawHttpConnection(fixture.address.getPort())) {
            String first = json.substring(0, 10);
            String rest = json.substring(10);
            client.send("POST /sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + Integer.toHexString(first.length()) + "\r\n" + first + "\r\n"
                    + Integer.toHexString(rest.length()) + "\r\n" + rest + "\r\n0\r\n\r\n");
            RawHttpConnection.Response response = client.readResponse();
            assertEquals(200, response.status());
            assertEquals(sinkAnswer(body), response.bodyText());
        }
        RecordedRequest seen = a.requests().get(0);
        assertEquals(Integer.toString(body.length), seen.header("Content-Length"));
        assertNull(seen.header("Transfer-Encoding"));
        assertEquals(TestOrigin.sha256Hex(body), seen.bodySha256());
    }

    @Test
    void bodyOverTheReadLimitGets413AndReachesNoOrigin() throws Exception {
        BodyRoutingProxy proxy = bodyRouting(16);
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            byte[] body = ("{\"backend\":\"a\",\"padding\":\"" + "x".repeat(100) + "\"}").getBytes(StandardCharsets.UTF_8);
            assertEquals(413, post(fixture, "/sink", body).statusCode());
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertEquals(ErrorType.HTTP_STATUS, outcome.error().type());
            assertEquals(413, outcome.error().httpStatus());
            assertTrue(outcome.tried().isEmpty());
        }
        assertEquals(0, a.connectionsAccepted());
        assertEquals(0, b.connectionsAccepted());
    }

    @Test
    void bodyReadWholeIsReplayedAfterConnectRefusedWhateverTheRetryBuffer() throws Exception {
        BodyRoutingProxy proxy = bodyRouting(64 * 1024);
        try (ProxyFixture fixture = new ProxyFixture(proxy, ProxyOptions.builder().retryBufferBytes(16).build())) {
            byte[] body = ("{\"backend\":\"dead-then-a\",\"padding\":\"" + "y".repeat(20_000) + "\"}")
                    .getBytes(StandardCharsets.UTF_8);
            HttpResponse<String> response = post(fixture, "/sink", body);
            assertEquals(200, response.statusCode());
            assertEquals(sinkAnswer(body), response.body());
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertEquals(List.of(dead, a.address()), outcome.tried());
            assertEquals(Integer.toString(body.length), a.requests().get(0).header("Content-Length"));
        }
    }

    @Test
    void bodyReadWholeIsReplayedOnAStaleReusedConnection() throws Exception {
        BodyRoutingProxy proxy = bodyRouting(64 * 1024);
        try (ProxyFixture fixture = new ProxyFixture(proxy, ProxyOptions.builder().retryBufferBytes(16).build())) {
            assertEquals(200, post(fixture, "/close-on-next", "{\"backend\":\"a\"}".getBytes(StandardCharsets.UTF_8))
                    .statusCode());
            proxy.nextOutcome();
            byte[] body = ("{\"backend\":\"a\",\"padding\":\"" + "z".repeat(5_000) + "\"}").getBytes(StandardCharsets.UTF_8);
            HttpResponse<String> response = post(fixture, "/sink", body);
            assertEquals(200, response.statusCode());
            assertEquals(sinkAnswer(body), response.body());
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertEquals(List.of(true, false), outcome.reused());
        }
    }

    // ---- back-off ------------------------------------------------------------------------------------------

    @Test
    void retryBackoffSpacesTheAttemptsAndDoublesEachTime() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(dead), FailoverProxy.peer(dead),
                FailoverProxy.peer(a.address()));
        long backoffMillis = 100;
        try (ProxyFixture fixture = new ProxyFixture(proxy,
                ProxyOptions.builder().retryBackoff(Duration.ofMillis(backoffMillis)).build())) {
            assertEquals(200, get(fixture, "/").statusCode());
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertEquals(List.of(dead, dead, a.address()), outcome.tried());
            assertEquals(3, outcome.attempts());
            List<Long> starts = outcome.attemptStartNanos();
            List<Long> failures = outcome.attemptFailedNanos();
            assertEquals(3, starts.size());
            assertEquals(2, failures.size());
            // Each attempt starts after the previous one failed, and no earlier than the back-off after it.
            long firstPause = TimeUnit.NANOSECONDS.toMillis(starts.get(1) - failures.get(0));
            long secondPause = TimeUnit.NANOSECONDS.toMillis(starts.get(2) - failures.get(1));
            assertTrue(failures.get(0) < starts.get(1) && failures.get(1) < starts.get(2));
            assertTrue(firstPause >= backoffMillis, "first retry after " + firstPause + " ms");
            assertTrue(secondPause >= 2 * backoffMillis, "second retry after " + secondPause + " ms");
        }
    }
}
