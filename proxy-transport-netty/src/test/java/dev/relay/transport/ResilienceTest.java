package dev.relay.transport;

import dev.relay.core.BodyChunk;
import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.core.ProxyError;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine against an origin that misbehaves on purpose (stalls, resets, malformed or over-long
 * responses), against filters that throw, and against a client that leaves: what the client sees, what
 * {@code logging} gets, whether anything was retried, and that the pool keeps no broken connection.
 * Each test gets fresh origins (so their connection counts are its own) and its own proxy (so is the pool).
 */
@Timeout(60)
class ResilienceTest {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final PeerOptions READ_300MS = PeerOptions.builder().readTimeout(Duration.ofMillis(300)).build();
    private static final Set<ErrorType> MALFORMED = Set.of(ErrorType.INVALID_HTTP_HEADER, ErrorType.H1_ERROR);

    private TestOrigin a;
    private TestOrigin b;

    @BeforeEach
    void startOrigins() {
        a = TestOrigin.builder().name("a").build().start();
        b = TestOrigin.builder().name("b").build().start();
    }

    @AfterEach
    void stopOrigins() {
        a.close();
        b.close();
    }

    private FailoverProxy aThenB(PeerOptions options) {
        return new FailoverProxy(FailoverProxy.peer(a.address(), options), FailoverProxy.peer(b.address(), options));
    }

    private static ProxyFixture fixture(FailoverProxy proxy) {
        return new ProxyFixture(proxy, ProxyOptions.builder().maxAttempts(3).build());
    }

    private static HttpResponse<String> get(ProxyFixture fixture, String path) throws Exception {
        return fixture.client.send(HttpRequest.newBuilder(fixture.uri(path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static RawHttpConnection.Response rawGet(ProxyFixture fixture, String path) throws Exception {
        try (RawHttpConnection client = new RawHttpConnection(fixture.address.getPort())) {
            client.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
            RawHttpConnection.Response response = client.readResponse();
            if (!response.complete()) {
                assertTrue(response.reset() || client.closedByPeer(), "a cut response ends the connection");
            }
            return response;
        }
    }

    /** A following request through the same proxy succeeds, on a connection that is then pooled. */
    private void assertProxyStillWorks(ProxyFixture fixture, FailoverProxy proxy) throws Exception {
        HttpResponse<String> next = get(fixture, "/small");
        assertEquals(200, next.statusCode());
        assertEquals(100, next.body().length());
        FailoverProxy.Outcome outcome = proxy.nextOutcome();
        assertNull(outcome.error());
        assertEquals(List.of(a.address()), outcome.tried());
        assertEquals(1, fixture.server.idleUpstreamConnections());
    }

    // ---- stalls and resets ---------------------------------------------------------------------------------

    @Test
    void stallMidBodyTruncatesTheResponseAndDropsTheUpstreamConnection() throws Exception {
        FailoverProxy proxy = aThenB(READ_300MS);
        try (ProxyFixture fixture = fixture(proxy)) {
            RawHttpConnection.Response response = rawGet(fixture, "/stall-body?after=100&length=1000");
            assertEquals(200, response.status());
            assertEquals("1000", response.header("Content-Length"));
            assertFalse(response.complete(), "the client sees the body cut short");
            assertArrayEquals(TestOrigin.patternBytes(0, 100), response.body());

            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertEquals(ErrorType.READ_TIMEDOUT, outcome.error().type());
            assertEquals(List.of(a.address()), outcome.tried());
            assertEquals(0, outcome.failToProxy().errorCode(), "no error page after the response started");
            assertEquals(0, fixture.server.idleUpstreamConnections());
            a.awaitOpenConnections(0, WAIT);
            assertProxyStillWorks(fixture, proxy);
        }
    }

    @Test
    void resetBeforeResponseOnAFreshConnectionIs502AndNotRetriedForAPost() throws Exception {
        FailoverProxy proxy = aThenB(PeerOptions.defaults());
        try (ProxyFixture fixture = fixture(proxy)) {
            HttpResponse<String> response = fixture.client.send(HttpRequest.newBuilder(fixture.uri("/reset-before-response"))
                    .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString("order=1")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(502, response.statusCode());
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertTrue(Set.of(ErrorType.READ_ERROR, ErrorType.CONNECTION_CLOSED).contains(outcome.error().type()),
                    outcome.error().toString());
            assertEquals(ErrorSource.UPSTREAM, outcome.error().source());
            // REUSED_ONLY on a fresh connection: the origin got the POST and may have acted on it.
            assertEquals(List.of(false), outcome.reused());
            assertEquals(List.of(a.address()), outcome.tried());
            assertFalse(outcome.error().isRetry());
            assertEquals(1, a.requestCount("/reset-before-response"));
            assertEquals(0, b.requests().size());
            assertEquals(0, fixture.server.idleUpstreamConnections());
            assertProxyStillWorks(fixture, proxy);
        }
    }

    @Test
    void resetBeforeResponseOnFreshConnectionsIsRetriedForAGetUntilTheAttemptsRunOut() throws Exception {
        FailoverProxy proxy = aThenB(PeerOptions.defaults());
        try (ProxyFixture fixture = fixture(proxy)) {
            assertEquals(502, get(fixture, "/reset-before-response").statusCode());
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertTrue(Set.of(ErrorType.READ_ERROR, ErrorType.CONNECTION_CLOSED).contains(outcome.error().type()),
                    outcome.error().toString());
            // Idempotent: each new connection closed before any response byte is worth the next backend.
            assertEquals(List.of(false, false, false), outcome.reused());
            assertEquals(List.of(a.address(), b.address(), a.address()), outcome.tried());
            assertEquals(2, a.requestCount("/reset-before-response"));
            assertEquals(1, b.requestCount("/reset-before-response"));
            assertEquals(0, fixture.server.idleUpstreamConnections());
            assertProxyStillWorks(fixture, proxy);
        }
    }

    @Test
    void resetMidBodyAbortsTheClientConnectionAndLogsTheError() throws Exception {
        FailoverProxy proxy = aThenB(PeerOptions.defaults());
        try (ProxyFixture fixture = fixture(proxy)) {
            RawHttpConnection.Response response = rawGet(fixture, "/reset-mid-body?after=100&length=1000");
            assertEquals(200, response.status());
            assertFalse(response.complete());
            assertArrayEquals(TestOrigin.patternBytes(0, 100), response.body());

            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertTrue(Set.of(ErrorType.READ_ERROR, ErrorType.CONNECTION_CLOSED).contains(outcome.error().type()),
                    outcome.error().toString());
            assertEquals(ErrorSource.UPSTREAM, outcome.error().source());
            assertEquals(List.of(a.address()), outcome.tried());
            assertEquals(1, a.requestCount("/reset-mid-body"));
            assertEquals(0, b.requests().size());
            assertEquals(0, fixture.server.idleUpstreamConnections());
            assertProxyStillWorks(fixture, proxy);
        }
    }

    // ---- malformed responses -------------------------------------------------------------------------------

    private void assertMalformedResponseIs502(String path) throws Exception {
        FailoverProxy proxy = aThenB(PeerOptions.defaults());
        try (ProxyFixture fixture = fixture(proxy)) {
            HttpResponse<String> response = get(fixture, path);
            assertEquals(502, response.statusCode(), path + " answered " + response.statusCode() + ": "
                    + response.headers().map() + " " + response.body());
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertNotNull(outcome.error(), path);
            assertTrue(MALFORMED.contains(outcome.error().type()), path + ": " + outcome.error());
            assertEquals(List.of(a.address()), outcome.tried(), "a malformed response is not retried");
            assertEquals(1, a.requestCount(path.replaceFirst("\\?.*", "")));
            assertEquals(0, fixture.server.idleUpstreamConnections(), path + ": the connection is not pooled");
            a.awaitOpenConnections(0, WAIT);
            assertProxyStillWorks(fixture, proxy);
        }
    }

    @Test
    void malformedStatusLineIs502AndTheConnectionIsDropped() throws Exception {
        assertMalformedResponseIs502("/bad-status-line");
    }

    @Test
    void headerLineWithoutAColonIs502AndTheConnectionIsDropped() throws Exception {
        assertMalformedResponseIs502("/bad-header");
    }

    /**
     * Header lines that are not {@code field-name ":" OWS field-value OWS} (RFC 9112 §5) with a token as the
     * name (RFC 9110 §5.1): no rule lets a recipient repair them, so a gateway answers 502 rather than
     * forward a header the origin never sent (a colon-less line as a field {@code This}, or
     * {@code X-Bad Name: value} as {@code X-Bad: value}).
     */
    @ParameterizedTest
    @ValueSource(strings = {"no-colon", "no-colon-spaces", "space-in-name", "control-char"})
    void invalidHeaderLineIs502(String kind) throws Exception {
        assertMalformedResponseIs502("/bad-header?kind=" + kind);
    }

    /**
     * Malformations RFC 9112 lets a proxy repair: whitespace before the colon (§5.1: "A proxy MUST remove any
     * such whitespace ... before forwarding") and obsolete line folding (§5.2: 502, or replace each obs-fold
     * with SP). Either 502, or a response whose header is clean.
     */
    @ParameterizedTest
    @ValueSource(strings = {"space-before-colon", "obs-fold"})
    void repairableHeaderLineIsRepairedOrRejected(String kind) throws Exception {
        FailoverProxy proxy = aThenB(PeerOptions.defaults());
        try (ProxyFixture fixture = fixture(proxy);
             RawHttpConnection client = new RawHttpConnection(fixture.address.getPort())) {
            client.send("GET /bad-header?kind=" + kind + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            String answer = client.readToEnd();
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            if (answer.startsWith("HTTP/1.1 502")) {
                assertTrue(MALFORMED.contains(outcome.error().type()), String.valueOf(outcome.error()));
                return;
            }
            assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
            String head = answer.substring(0, answer.indexOf("\r\n\r\n") + 2);
            if (kind.equals("space-before-colon")) {
                assertTrue(head.contains("\r\nX-Bad-Name: value\r\n"), head);
            } else {
                assertTrue(head.contains("\r\nX-Folded: first continued\r\n")
                        || head.contains("\r\nX-Folded: first  continued\r\n"), head);
            }
            assertTrue(answer.endsWith("\r\n\r\nhello"), answer);
        }
    }

    @Test
    void responseWithBothContentLengthAndChunkedIs502AndTheConnectionIsDropped() throws Exception {
        assertMalformedResponseIs502("/cl-and-te");
    }

    @Test
    void responseLongerThanItsContentLengthLeavesNoConnectionInThePool() throws Exception {
        FailoverProxy proxy = aThenB(PeerOptions.defaults());
        try (ProxyFixture fixture = fixture(proxy)) {
            HttpResponse<String> response = get(fixture, "/too-many-bytes");
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            if (response.statusCode() == 200) {
                // The announced five bytes are a complete response; what follows them is the origin's fault.
                assertEquals("hello", response.body());
            } else {
                assertEquals(502, response.statusCode());
                assertTrue(MALFORMED.contains(outcome.error().type()), String.valueOf(outcome.error()));
            }
            assertEquals(0, fixture.server.idleUpstreamConnections(),
                    "a connection that carried bytes beyond the response must not be reused");
        }
    }

    @Test
    void requestsAfterAResponseLongerThanItsContentLengthSucceed() throws Exception {
        FailoverProxy proxy = aThenB(PeerOptions.defaults());
        try (ProxyFixture fixture = fixture(proxy)) {
            get(fixture, "/too-many-bytes");
            proxy.nextOutcome();
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> next = get(fixture, "/small");
                FailoverProxy.Outcome outcome = proxy.nextOutcome();
                assertEquals(200, next.statusCode(), "request " + i + " after /too-many-bytes: " + outcome.error());
                assertEquals(100, next.body().length());
            }
        }
    }

    // ---- filters that fail ---------------------------------------------------------------------------------

    @Test
    void requestFilterThatThrowsGives500AndReachesNoOrigin() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(a.address())) {
            @Override
            public CompletionStage<Boolean> requestFilter(Session session, Ctx ctx) {
                throw new IllegalStateException("filter bug");
            }
        };
        try (ProxyFixture fixture = fixture(proxy)) {
            assertEquals(500, get(fixture, "/small").statusCode());
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertEquals(ErrorType.INTERNAL, outcome.error().type());
            assertTrue(outcome.tried().isEmpty());
            assertEquals(0, a.connectionsAccepted());
        }
    }

    @Test
    void upstreamResponseFilterThatThrowsGives500AndIsNotRetried() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(a.address()), FailoverProxy.peer(b.address())) {
            @Override
            public void upstreamResponseFilter(Session session, ResponseHeader upstreamResponse, Ctx ctx) {
                if (session.requestHeader().uri().equals("/boom")) {
                    throw new IllegalStateException("filter bug");
                }
            }
        };
        try (ProxyFixture fixture = fixture(proxy)) {
            assertEquals(500, get(fixture, "/boom").statusCode());
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertEquals(ErrorType.INTERNAL, outcome.error().type());
            assertEquals(List.of(a.address()), outcome.tried());
            assertEquals(1, a.requests().size());
            assertEquals(0, b.requests().size());
            assertEquals(0, fixture.server.idleUpstreamConnections());
            assertProxyStillWorks(fixture, proxy);
        }
    }

    @Test
    void responseBodyFilterThatThrowsAfterTheResponseStartedAbortsIt() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(a.address())) {
            @Override
            public Duration responseBodyFilter(Session session, BodyChunk body, boolean endOfStream, Ctx ctx) {
                if (session.requestHeader().uri().startsWith("/bytes/") && session.responseBodyBytesSent() > 0) {
                    throw new IllegalStateException("filter bug");
                }
                return null;
            }
        };
        try (ProxyFixture fixture = fixture(proxy)) {
            RawHttpConnection.Response response = rawGet(fixture, "/bytes/1000000");
            assertEquals(200, response.status());
            assertFalse(response.complete(), "the response cannot be finished");
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertEquals(ErrorType.INTERNAL, outcome.error().type());
            assertEquals(0, outcome.failToProxy().errorCode());
            assertEquals(0, fixture.server.idleUpstreamConnections());
            assertProxyStillWorks(fixture, proxy);
        }
    }

    private void assertUpstreamPeerFailure(CompletionStage<HttpPeer> answer, int status, ErrorType type)
            throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(a.address())) {
            @Override
            public CompletionStage<HttpPeer> upstreamPeer(Session session, Ctx ctx) {
                return answer;
            }
        };
        try (ProxyFixture fixture = fixture(proxy)) {
            assertEquals(status, get(fixture, "/").statusCode());
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertEquals(type, outcome.error().type());
            assertEquals(1, outcome.attempts(), "a failed upstreamPeer is not retried");
            assertEquals(0, a.connectionsAccepted());
        }
    }

    @Test
    void upstreamPeerFailingWithAnExceptionGives500() throws Exception {
        assertUpstreamPeerFailure(CompletableFuture.failedFuture(new IllegalStateException("no idea")),
                500, ErrorType.INTERNAL);
    }

    @Test
    void upstreamPeerFailingWithNoPeerGives502() throws Exception {
        assertUpstreamPeerFailure(CompletableFuture.failedFuture(ProxyError.of(ErrorType.NO_PEER,
                ErrorSource.INTERNAL, "every backend is down", null)), 502, ErrorType.NO_PEER);
    }

    @Test
    void upstreamPeerGivingNullGives502() throws Exception {
        assertUpstreamPeerFailure(CompletableFuture.completedFuture(null), 502, ErrorType.NO_PEER);
    }

    @Test
    void upstreamPeerFailingLaterOnAnotherThreadGives500() throws Exception {
        assertUpstreamPeerFailure(CompletableFuture.supplyAsync(() -> {
            throw new IllegalStateException("lookup failed");
        }), 500, ErrorType.INTERNAL);
    }

    @Test
    void upstreamPeerFailingWithAStatusGivesThatStatus() throws Exception {
        assertUpstreamPeerFailure(CompletableFuture.failedFuture(ProxyError.httpStatus(503)), 503,
                ErrorType.HTTP_STATUS);
    }

    // ---- the client leaves ---------------------------------------------------------------------------------

    @Test
    void clientDisconnectingMidResponseClosesTheUpstreamAndIsNotAServerError() throws Exception {
        FailoverProxy proxy = aThenB(PeerOptions.defaults());
        try (ProxyFixture fixture = fixture(proxy)) {
            try (RawHttpConnection client = new RawHttpConnection(fixture.address.getPort())) {
                client.send("GET /bytes/1000000000 HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals(200, client.readHead().status());
                client.readBytes(256 * 1024);
            }
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertEquals(ErrorSource.DOWNSTREAM, outcome.error().source(), outcome.error().toString());
            // The proxy was writing when the client left: never a READ_ERROR.
            assertTrue(Set.of(ErrorType.CONNECTION_CLOSED, ErrorType.WRITE_ERROR)
                    .contains(outcome.error().type()), outcome.error().toString());
            assertEquals(0, outcome.error().defaultStatus());
            assertEquals(0, outcome.failToProxy().errorCode(), "nobody to answer: status 0");
            assertEquals(List.of(a.address()), outcome.tried(), "a client leaving is never retried");
            assertEquals(0, b.requests().size());
            a.awaitOpenConnections(0, WAIT);
            assertEquals(0, fixture.server.idleUpstreamConnections());
            assertProxyStillWorks(fixture, proxy);
        }
    }

    @Test
    void closingTheServerClosesItsPooledUpstreamConnections() throws Exception {
        FailoverProxy proxy = aThenB(PeerOptions.defaults());
        try (ProxyFixture fixture = fixture(proxy)) {
            assertEquals(200, get(fixture, "/small").statusCode());
            assertEquals(1, fixture.server.idleUpstreamConnections());
            assertEquals(1, a.openConnections());
        }
        // HttpProxyServer.close(): "closes the listeners and every connection at once".
        a.awaitOpenConnections(0, WAIT);
    }

    @Test
    void closeAfterHeadersOnAFreshConnectionCutsTheResponse() throws Exception {
        FailoverProxy proxy = aThenB(PeerOptions.defaults());
        try (ProxyFixture fixture = fixture(proxy)) {
            RawHttpConnection.Response response = rawGet(fixture, "/close-after-headers");
            assertEquals(200, response.status());
            assertFalse(response.complete());
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertEquals(ErrorType.CONNECTION_CLOSED, outcome.error().type());
            assertEquals(List.of(a.address()), outcome.tried());
            assertProxyStillWorks(fixture, proxy);
        }
    }
}
