package dev.relay.transport;

import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.testing.Await;
import dev.relay.transport.internal.ManualEngineClock;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.RecordedRequest;
import dev.relay.testing.SilentServer;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every timer of the engine against an origin (or a client) that is too slow on purpose: the upstream read
 * timeout (and that progress resets it), the TLS handshake part of the total connection timeout, the client
 * body read, header read and keep-alive timeouts, and the request deadline.
 *
 * <p>Tests that a timeout fires run the proxy on a {@link ManualEngineClock}: the origin or client just
 * stalls, and the test moves the proxy's time past the timeout, so nothing waits on a real timer. Tests
 * that a timeout does <em>not</em> fire while bytes trickle in keep real time where the trickle is the
 * origin's own real-time pacing.
 */
@Timeout(60)
class TimeoutTest {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final PeerOptions READ_300MS = PeerOptions.builder().readTimeout(Duration.ofMillis(300)).build();

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

    private static HttpResponse<String> get(ProxyFixture fixture, String path) throws Exception {
        return fixture.client.send(HttpRequest.newBuilder(fixture.uri(path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    // ---- upstream read timeout ---------------------------------------------------------------------------

    private static final Duration STEP = Duration.ofMillis(100);

    /**
     * Sends {@code path}, waits until {@code origin} has it (so the proxy's timers of the attempt are
     * armed), then moves the proxy's clock on until the response arrives.
     */
    private static HttpResponse<String> getAdvancing(ProxyFixture fixture, ManualEngineClock clock, String path,
                                                     TestOrigin origin) throws Exception {
        CompletableFuture<HttpResponse<String>> response = fixture.client.sendAsync(HttpRequest.newBuilder(
                fixture.uri(path)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        String pathOnly = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
        Await.until(() -> origin.requestCount(pathOnly) > 0 || response.isDone(), WAIT,
                () -> "the origin did not get " + path);
        clock.advanceUntil(STEP, 1000, response::isDone);
        return response.get();
    }

    @Test
    void hangingOriginTimesOutWith504AndIsNotRetried() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(a.address(), READ_300MS),
                FailoverProxy.peer(b.address(), READ_300MS));
        ManualEngineClock clock = new ManualEngineClock();
        try (ProxyFixture fixture = new ProxyFixture(proxy, ProxyOptions.builder().maxAttempts(3).build(), clock)) {
            assertEquals(504, getAdvancing(fixture, clock, "/hang", a).statusCode());
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertEquals(ErrorType.READ_TIMEDOUT, outcome.error().type());
            assertEquals(ErrorSource.UPSTREAM, outcome.error().source());
            // The request may have reached the origin (it did): a read timeout is never retried.
            assertEquals(List.of(a.address()), outcome.tried());
            assertEquals(1, outcome.attempts());
            assertEquals(1, a.requestCount("/hang"));
            assertEquals(0, b.requests().size());
            assertEquals(0, fixture.server.idleUpstreamConnections());
            a.awaitOpenConnections(0, WAIT);
            assertEquals(200, get(fixture, "/small").statusCode());
            proxy.nextOutcome();
            assertEquals(1, fixture.server.idleUpstreamConnections());
        }
    }

    @Test
    void slowHeadersWithinTheReadTimeoutSucceed() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(a.address(),
                PeerOptions.builder().readTimeout(Duration.ofMillis(500)).build()));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            HttpResponse<String> response = get(fixture, "/slow-headers?delay=200");
            assertEquals(200, response.statusCode());
            assertEquals("slow headers\n", response.body());
            assertNull(proxy.nextOutcome().error());
            assertEquals(1, fixture.server.idleUpstreamConnections(), "a slow but sound connection is pooled");
        }
    }

    @Test
    void readTimeoutResetsOnEveryBodyByte() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(a.address(), READ_300MS));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            // Eight bytes 100 ms apart: 800 ms in all, never 300 ms without progress.
            HttpResponse<byte[]> response = fixture.client.send(HttpRequest.newBuilder(
                    fixture.uri("/drip-body?bytes=8&interval=100")).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, response.statusCode());
            assertEquals(8, response.body().length);
            assertNull(proxy.nextOutcome().error());
        }
    }

    @Test
    void readTimeoutResetsWhileTheResponseHeadArrivesLineByLine() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(a.address(), READ_300MS));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            // The status line after 150 ms, then a header line every 150 ms: 900 ms for the head, but bytes
            // arrive every 150 ms. PeerOptions.readTimeout is "the longest wait for each read, reset on every
            // read", like Pingora's read_timeout.
            HttpResponse<String> response = get(fixture, "/slow-headers?delay=150&interval=150");
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertNull(outcome.error(), "read timeout fired although bytes kept arriving: " + outcome.error());
            assertEquals(200, response.statusCode());
            assertEquals("slow headers\n", response.body());
        }
    }

    // ---- connect: TLS handshake that never completes --------------------------------------------------------

    @Test
    void tlsHandshakeThatNeverCompletesTimesOut() throws Exception {
        try (SilentServer silent = SilentServer.start()) {
            HttpPeer tls = HttpPeer.tls(silent.address(), "localhost")
                    .withOptions(PeerOptions.builder().totalConnectionTimeout(Duration.ofMillis(300)).build());
            FailoverProxy proxy = new FailoverProxy(tls);
            try (ProxyFixture fixture = new ProxyFixture(proxy, ProxyOptions.builder().maxAttempts(1).build())) {
                HttpResponse<String> response = get(fixture, "/");
                FailoverProxy.Outcome outcome = proxy.nextOutcome();
                assertTrue(Set.of(ErrorType.TLS_HANDSHAKE_TIMEDOUT, ErrorType.CONNECT_TIMEDOUT)
                        .contains(outcome.error().type()), outcome.error().toString());
                assertEquals(outcome.error().defaultStatus(), response.statusCode());
                assertEquals(504, response.statusCode());
                assertEquals(List.of("connect:" + outcome.error().type()), outcome.failures());
                assertEquals(1, silent.connectionsAccepted());
            }
        }
    }

    @Test
    void tlsHandshakeTimeoutFailsOverToAnotherBackend() throws Exception {
        try (SilentServer silent = SilentServer.start()) {
            HttpPeer tls = HttpPeer.tls(silent.address(), "localhost")
                    .withOptions(PeerOptions.builder().totalConnectionTimeout(Duration.ofMillis(300)).build());
            FailoverProxy proxy = new FailoverProxy(tls, FailoverProxy.peer(a.address()));
            try (ProxyFixture fixture = new ProxyFixture(proxy, ProxyOptions.builder().maxAttempts(2).build())) {
                HttpResponse<String> response = get(fixture, "/");
                assertEquals(200, response.statusCode());
                assertEquals("a", response.headers().firstValue("X-Origin").orElseThrow());
                FailoverProxy.Outcome outcome = proxy.nextOutcome();
                assertNull(outcome.error());
                assertEquals(List.of(silent.address(), a.address()), outcome.tried());
            }
        }
    }

    // ---- downstream timers ---------------------------------------------------------------------------------

    @Test
    void clientTooSlowToSendItsBodyGets408() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(a.address()));
        ManualEngineClock clock = new ManualEngineClock();
        try (ProxyFixture fixture = new ProxyFixture(proxy,
                ProxyOptions.builder().bodyReadTimeout(Duration.ofMillis(300)).build(), clock);
             RawHttpConnection client = new RawHttpConnection(fixture.address.getPort())) {
            client.send("POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
            // The upstream connection opened means the head and the three bytes went out with it.
            Await.until(() -> fixture.server.upstreamConnectionsOpened() == 1, WAIT, () -> "no upstream connection");
            CompletableFuture<RawHttpConnection.Response> answer = readAsync(client::readResponse);
            clock.advanceUntil(STEP, 100, answer::isDone);
            RawHttpConnection.Response response = answer.get();
            assertEquals(408, response.status());
            assertEquals("close", response.header("Connection"));
            assertTrue(client.closedByPeer(), "the connection is closed after a 408");
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertEquals(ErrorType.READ_TIMEDOUT, outcome.error().type());
            assertEquals(ErrorSource.DOWNSTREAM, outcome.error().source());
            assertEquals(408, outcome.status());
            assertEquals(1L, fixture.server.clientErrorCounts().get("timeout"), "the client's fault, counted so");
            // The upstream got the head and three bytes, then its connection was closed.
            RecordedRequest seen = a.awaitRequests(1, WAIT).get(0);
            assertFalse(seen.bodyComplete());
            assertEquals(3, seen.bodyBytes());
            assertEquals(0, fixture.server.idleUpstreamConnections());
        }
    }

    @Test
    void requestDeadlineAnswers504() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(a.address()), FailoverProxy.peer(b.address()));
        ManualEngineClock clock = new ManualEngineClock();
        try (ProxyFixture fixture = new ProxyFixture(proxy,
                ProxyOptions.builder().requestDeadline(Duration.ofMillis(300)).build(), clock)) {
            assertEquals(504, getAdvancing(fixture, clock, "/hang", a).statusCode());
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertEquals(ErrorType.DEADLINE_EXCEEDED, outcome.error().type());
            assertEquals(List.of(a.address()), outcome.tried());
            assertEquals(0, b.requests().size());
            assertEquals(0, fixture.server.idleUpstreamConnections());
            a.awaitOpenConnections(0, WAIT);
        }
    }

    @Test
    void requestHeaderThatNeverCompletesGets408AndClose() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(a.address()));
        ManualEngineClock clock = new ManualEngineClock();
        try (ProxyFixture fixture = new ProxyFixture(proxy,
                ProxyOptions.builder().headerReadTimeout(Duration.ofMillis(300)).build(), clock);
             RawHttpConnection client = new RawHttpConnection(fixture.address.getPort())) {
            client.send("GET /sma");
            CompletableFuture<String> read = readAsync(client::readToEnd);
            clock.advanceUntil(STEP, 100, read::isDone);
            String answer = read.get();
            assertTrue(answer.startsWith("HTTP/1.1 408"), answer);
            assertTrue(answer.toLowerCase().contains("connection: close"), answer);
            assertEquals(0, a.connectionsAccepted());
        }
    }

    @Test
    void idleKeepAliveClientConnectionIsClosed() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(a.address()));
        ManualEngineClock clock = new ManualEngineClock();
        try (ProxyFixture fixture = new ProxyFixture(proxy,
                ProxyOptions.builder().keepAliveTimeout(Duration.ofMillis(300)).build(), clock);
             RawHttpConnection client = new RawHttpConnection(fixture.address.getPort())) {
            client.send("GET /small HTTP/1.1\r\nHost: x\r\n\r\n");
            RawHttpConnection.Response response = client.readResponse();
            assertEquals(200, response.status());
            assertNull(response.header("Connection"), "kept alive");
            clock.advanceUntil(STEP, 100, () -> fixture.server.openConnections() == 0);
            assertEquals(-1, client.read(), "the idle connection is closed by the proxy");
        }
    }

    @Test
    void keepAliveTimeoutDoesNotCutARequestInProgress() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(a.address()));
        ManualEngineClock clock = new ManualEngineClock();
        try (ProxyFixture fixture = new ProxyFixture(proxy,
                ProxyOptions.builder().keepAliveTimeout(Duration.ofMillis(200)).build(), clock)) {
            // While the origin takes half a real second, the proxy's clock runs many keep-alive periods.
            HttpResponse<String> response = getAdvancing(fixture, clock, "/slow-headers?delay=500", a);
            assertEquals(200, response.statusCode());
            assertNull(proxy.nextOutcome().error());
        }
    }

    private static <T> CompletableFuture<T> readAsync(java.util.concurrent.Callable<T> read) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try {
                result.complete(read.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        }, "timeout-test-reader");
        reader.setDaemon(true);
        reader.start();
        return result;
    }
}
