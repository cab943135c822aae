package dev.relay.transport;

import dev.relay.core.Alpn;
import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.core.ProxyError;
import dev.relay.core.RequestHeader;
import dev.relay.testing.H2Origin;
import dev.relay.testing.RecordedRequest;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.TestOrigin;
import io.netty.util.internal.InternalThreadLocalMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link UpstreamClient} against real origins: HTTP/1.1 plain and over TLS ({@link TestOrigin}), HTTP/2 over
 * TLS with ALPN ({@link H2Origin}); pooled connections reused, bodies both ways, the body limit, the
 * discarding mode, timeouts and refused connects failing with the right {@link ProxyError} (and, through
 * the leak detection every test class runs under, without a leaked buffer).
 */
@Timeout(60)
class UpstreamClientTest {
    private static final byte[] NO_BODY = new byte[0];
    private static TestOrigin plain;
    private static TestOrigin tls;
    private static H2Origin h2;

    @BeforeAll
    static void startOrigins() {
        plain = TestOrigin.builder().name("plain").build().start();
        tls = TestOrigin.builder().name("tls").tls(TestCertificates.localhost()).build().start();
        h2 = H2Origin.builder().name("h2").tls(TestCertificates.localhost()).build().start();
    }

    @AfterAll
    static void stopOrigins() {
        plain.close();
        tls.close();
        h2.close();
    }

    private static PeerOptions.Builder options() {
        return PeerOptions.builder().trustedCertificates(List.of(TestCertificates.caCertificate()))
                .readTimeout(Duration.ofSeconds(10));
    }

    private static UpstreamResponse await(CompletionStage<UpstreamResponse> stage) {
        return stage.toCompletableFuture().orTimeout(20, java.util.concurrent.TimeUnit.SECONDS).join();
    }

    private static ProxyError failure(CompletionStage<UpstreamResponse> stage) {
        CompletionException e = assertThrows(CompletionException.class, () -> await(stage));
        return assertInstanceOf(ProxyError.class, e.getCause());
    }

    @Test
    void getOverHttp1ThenTheNextRequestReusesThePooledConnection() {
        HttpPeer peer = HttpPeer.plain(plain.address());
        int acceptedBefore = plain.connectionsAccepted();
        try (UpstreamClient client = UpstreamClient.create()) {
            UpstreamResponse first = await(client.send(peer, RequestHeader.of("GET", "/small"), NO_BODY));
            UpstreamResponse second = await(client.send(peer, RequestHeader.of("GET", "/small"), NO_BODY));

            assertEquals(200, first.status());
            assertArrayEquals(TestOrigin.patternBytes(0, 100), first.body());
            assertEquals("plain", first.header().headers().get("X-Origin"));
            first.header().headers().set("X-Origin", "changed by the caller");
            assertEquals("plain", first.header().headers().get("X-Origin"), "the response is immutable");
            assertFalse(first.connectionReused());
            assertTrue(second.connectionReused());
            assertEquals(1, plain.connectionsAccepted() - acceptedBefore);
            assertEquals(1, client.connectionsOpened());
            assertEquals(1, client.connectionsReused());
        }
    }

    @Test
    void requestCarriesItsHostAndBodyAndGetsADefaultHostOtherwise() {
        byte[] body = new byte[200_000];
        new Random(7).nextBytes(body);
        try (UpstreamClient client = UpstreamClient.create()) {
            RequestHeader post = RequestHeader.of("POST", "/echo").insertHeader("Host", "api.example")
                    .insertHeader("Connection", "close");
            UpstreamResponse echo = await(client.send(HttpPeer.plain(plain.address()), post, body.clone()));
            UpstreamResponse plainGet = await(client.send(HttpPeer.plain(plain.address()),
                    RequestHeader.of("GET", "/headers"), NO_BODY));

            assertArrayEquals(body, echo.body());
            RecordedRequest seen = plain.requests().stream().filter(r -> r.path().equals("/echo"))
                    .reduce((a, b) -> b).orElseThrow();
            assertEquals("api.example", seen.header("Host"));
            assertEquals(String.valueOf(body.length), seen.header("Content-Length"));
            assertEquals(null, seen.header("Connection"), "connection-specific fields are the client's own");
            assertTrue(plainGet.bodyText().toLowerCase(java.util.Locale.ROOT).contains("host: " + plain.address()),
                    plainGet.bodyText());
        }
    }

    @Test
    void emptyBodyGoesWithContentLengthZeroWhateverTheHeaderAnnounced() {
        HttpPeer peer = HttpPeer.plain(plain.address());
        try (UpstreamClient client = UpstreamClient.create()) {
            RequestHeader delete = RequestHeader.of("DELETE", "/headers").insertHeader("Content-Length", "5");
            UpstreamResponse deleted = await(client.send(peer, delete, NO_BODY));
            // The same connection next: had the 5 announced bytes not come, they would be taken from this one.
            UpstreamResponse next = await(client.send(peer, RequestHeader.of("GET", "/small"), NO_BODY));

            assertEquals(200, deleted.status());
            assertTrue(deleted.bodyText().toLowerCase(java.util.Locale.ROOT).contains("content-length: 0"),
                    deleted.bodyText());
            assertEquals(200, next.status());
            assertTrue(next.connectionReused());
            assertArrayEquals(TestOrigin.patternBytes(0, 100), next.body());
        }
    }

    @Test
    void tlsPeerIsVerifiedAndPooled() {
        HttpPeer peer = HttpPeer.tls(tls.address(), "localhost").withOptions(options().build());
        try (UpstreamClient client = UpstreamClient.create()) {
            UpstreamResponse first = await(client.send(peer, RequestHeader.of("GET", "/"), NO_BODY));
            UpstreamResponse second = await(client.send(peer, RequestHeader.of("GET", "/"), NO_BODY));

            assertEquals("origin tls\n", first.bodyText());
            assertTrue(second.connectionReused());
            RecordedRequest seen = tls.requests().get(tls.requests().size() - 1);
            assertTrue(seen.tls());
        }
    }

    @Test
    void untrustedCertificateFailsTheHandshake() {
        HttpPeer peer = HttpPeer.tls(tls.address(), "localhost");
        try (UpstreamClient client = UpstreamClient.create()) {
            ProxyError e = failure(client.send(peer, RequestHeader.of("GET", "/"), NO_BODY));
            assertEquals(ErrorType.INVALID_CERT, e.type(), e.getMessage());
        }
    }

    @Test
    void http2PeerMultiplexesRequestsOnOneConnection() {
        HttpPeer peer = HttpPeer.tls(h2.address(), "localhost").withOptions(options().alpn(Alpn.H2).build());
        int acceptedBefore = h2.connectionsAccepted();
        try (UpstreamClient client = UpstreamClient.create()) {
            byte[] body = "over h2".getBytes(StandardCharsets.UTF_8);
            UpstreamResponse first = await(client.send(peer, RequestHeader.of("POST", "/echo"), body));
            UpstreamResponse second = await(client.send(peer, RequestHeader.of("GET", "/"), NO_BODY));

            assertEquals(200, first.status());
            assertEquals("over h2", first.bodyText());
            assertEquals(200, second.status());
            assertTrue(second.connectionReused());
            assertEquals(1, h2.connectionsAccepted() - acceptedBefore);
        }
    }

    @Test
    void bodyOverTheLimitFailsAndItsConnectionIsNotReused() {
        HttpPeer peer = HttpPeer.plain(plain.address());
        try (UpstreamClient client = UpstreamClient.builder().maxResponseBodyBytes(64 * 1024).build()) {
            ProxyError e = failure(client.send(peer, RequestHeader.of("GET", "/bytes/1000000"), NO_BODY));
            assertEquals(ErrorType.READ_ERROR, e.type());
            assertTrue(e.getMessage().contains("65536"), e.getMessage());

            UpstreamResponse next = await(client.send(peer, RequestHeader.of("GET", "/64k"), NO_BODY));
            assertEquals(64 * 1024, next.bodyLength(), "exactly the limit is allowed");
            assertFalse(next.connectionReused());
        }
    }

    @Test
    void discardingModeDrainsAnyBodyAndKeepsTheConnection() {
        HttpPeer peer = HttpPeer.plain(plain.address());
        try (UpstreamClient client = UpstreamClient.builder().maxResponseBodyBytes(1024).build()) {
            UpstreamResponse drained = await(client.sendDiscardingBody(peer,
                    RequestHeader.of("GET", "/chunked/3000000"), NO_BODY));
            UpstreamResponse next = await(client.sendDiscardingBody(peer, RequestHeader.of("GET", "/"), NO_BODY));

            assertEquals(200, drained.status());
            assertEquals(0, drained.bodyLength());
            assertTrue(next.connectionReused());
        }
    }

    @Test
    void refusedConnectAndReadTimeoutFailWithTheirTypes() {
        try (UpstreamClient client = UpstreamClient.create()) {
            ProxyError refused = failure(client.send(HttpPeer.plain("127.0.0.1:" + TestOrigin.closedPort()),
                    RequestHeader.of("GET", "/"), NO_BODY));
            assertEquals(ErrorType.CONNECT_REFUSED, refused.type());

            HttpPeer impatient = HttpPeer.plain(plain.address())
                    .withOptions(PeerOptions.builder().readTimeout(Duration.ofMillis(200)).build());
            ProxyError timedOut = failure(client.send(impatient, RequestHeader.of("GET", "/hang"), NO_BODY));
            assertEquals(ErrorType.READ_TIMEDOUT, timedOut.type());
            assertEquals(impatient, timedOut.peer());
        }
    }

    @Test
    void requestTimeoutBoundsAnOriginThatTricklesOrNeverAnswers() {
        try (TestOrigin origin = TestOrigin.builder().name("trickle").build().start();
             UpstreamClient client = UpstreamClient.builder().requestTimeout(Duration.ofMillis(300)).build()) {
            // A byte every 50 ms: the 10 s read timeout never fires, the deadline does.
            HttpPeer peer = HttpPeer.plain(origin.address()).withOptions(options().build());
            ProxyError trickled = failure(client.send(peer, RequestHeader.of("GET", "/drip-body?bytes=1000&interval=50"),
                    NO_BODY));
            assertEquals(ErrorType.DEADLINE_EXCEEDED, trickled.type(), trickled.toString());
            assertEquals(peer, trickled.peer());

            // No read timeout at all (the defaults), a deadline for this request only.
            ProxyError silent = failure(client.sendDiscardingBody(HttpPeer.plain(origin.address()),
                    RequestHeader.of("GET", "/hang"), NO_BODY, Duration.ofMillis(200)));
            assertEquals(ErrorType.DEADLINE_EXCEEDED, silent.type(), silent.toString());
            origin.awaitOpenConnections(0, Duration.ofSeconds(10));
        }
        assertThrows(IllegalArgumentException.class, () -> UpstreamClient.builder().requestTimeout(Duration.ZERO));
    }

    @Test
    void originClosingMidBodyFailsTheRequest() {
        try (UpstreamClient client = UpstreamClient.create()) {
            ProxyError e = failure(client.send(HttpPeer.plain(plain.address()),
                    RequestHeader.of("GET", "/reset-mid-body?after=5000"), NO_BODY));
            assertTrue(e.type() == ErrorType.CONNECTION_CLOSED || e.type() == ErrorType.READ_ERROR, e.toString());
        }
    }

    @Test
    void staleKeepAliveConnectionIsRetriedOnceOnANewOne() {
        HttpPeer peer = HttpPeer.plain(plain.address());
        try (UpstreamClient client = UpstreamClient.create()) {
            await(client.send(peer, RequestHeader.of("GET", "/close-on-next?reset=1"), NO_BODY));
            int smallBefore = plain.requestCount("/small");
            int discardedBefore = plain.discardedRequests();
            UpstreamResponse retried = await(client.send(peer, RequestHeader.of("GET", "/small"), NO_BODY));
            assertEquals(200, retried.status());
            assertFalse(retried.connectionReused());
            assertEquals(2, client.connectionsOpened(), "the retry went on a new connection");
            assertEquals(1, plain.discardedRequests() - discardedBefore, "the stale connection got the first try");
            assertEquals(1, plain.requestCount("/small") - smallBefore, "the origin processed the request once");
        }
        try (UpstreamClient once = UpstreamClient.builder().retryStaleConnections(false).build()) {
            await(once.send(peer, RequestHeader.of("GET", "/close-on-next"), NO_BODY));
            ProxyError e = failure(once.send(peer, RequestHeader.of("GET", "/small"), NO_BODY));
            assertEquals(ErrorType.CONNECTION_CLOSED, e.type(), e.toString());
        }
    }

    @Test
    void staleConnectionRetryOfAnH2OrH1PeerOnHttp1NeverTakesAnotherPooledConnection() {
        // Without TLS there is no ALPN: an h2-or-h1 peer ends up on HTTP/1.1 and its pool, as with an origin
        // that picks http/1.1 in the handshake.
        HttpPeer peer = HttpPeer.plain(plain.address()).withOptions(options().alpn(Alpn.H2_OR_H1).build());
        try (UpstreamClient client = UpstreamClient.create()) {
            // Two connections at once, each answered and pooled, each closing on its next request. The origin
            // holds both answers until both requests are in, else the second could reuse the first's connection.
            plain.holdResponses();
            CompletionStage<UpstreamResponse> a = client.send(peer, RequestHeader.of("GET", "/close-on-next?reset=1"),
                    NO_BODY);
            CompletionStage<UpstreamResponse> b = client.send(peer, RequestHeader.of("GET", "/close-on-next?reset=1"),
                    NO_BODY);
            plain.awaitHeldResponses(2, Duration.ofSeconds(10));
            plain.releaseResponses();
            await(a);
            await(b);
            assertEquals(2, client.idleConnections());
            int smallBefore = plain.requestCount("/small");

            UpstreamResponse retried = await(client.send(peer, RequestHeader.of("GET", "/small"), NO_BODY));

            assertEquals(200, retried.status());
            assertFalse(retried.connectionReused());
            assertEquals(3, client.connectionsOpened());
            assertEquals(1, plain.requestCount("/small") - smallBefore);
        }
    }

    @Test
    void builderRefusesConflictingSettings() {
        try (TransportRuntime runtime = TransportRuntime.create(TransportRuntime.Kind.NIO, 1)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> UpstreamClient.builder().runtime(runtime).threads(2).build());
            assertTrue(e.getMessage().startsWith("threads: 2"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> UpstreamClient.builder().maxResponseBodyBytes(-1));
    }

    @Test
    void clientOnASharedRuntimeLeavesItRunning() {
        try (TransportRuntime runtime = TransportRuntime.create(TransportRuntime.Kind.NIO, 2)) {
            try (UpstreamClient client = UpstreamClient.create(runtime)) {
                assertEquals(200, await(client.send(HttpPeer.plain(plain.address()), RequestHeader.of("GET", "/"),
                        NO_BODY)).status());
            }
            try (UpstreamClient again = UpstreamClient.create(runtime)) {
                assertEquals(200, await(again.send(HttpPeer.plain(plain.address()), RequestHeader.of("GET", "/"),
                        NO_BODY)).status());
            }
        }
    }

    @Test
    void sendAfterCloseFailsAndOpensNoConnection() {
        HttpPeer peer = HttpPeer.plain(plain.address());
        try (TransportRuntime runtime = TransportRuntime.create(TransportRuntime.Kind.NIO, 1)) {
            UpstreamClient shared = UpstreamClient.create(runtime);
            shared.close();
            ProxyError e = failure(shared.send(peer, RequestHeader.of("GET", "/"), NO_BODY));
            assertEquals(ErrorType.INTERNAL, e.type());
            assertTrue(e.getMessage().contains("client closed"), e.getMessage());
            assertEquals(0, shared.connectionsOpened(), "the runtime still runs: nothing may connect on it");
        }
        UpstreamClient standalone = UpstreamClient.create();
        standalone.close();
        ProxyError e = failure(standalone.send(peer, RequestHeader.of("GET", "/"), NO_BODY));
        assertTrue(e.getMessage().contains("client closed"), e.getMessage());
    }

    @Test
    void closeFailsTheRequestsInFlightAndLeavesNoConnection() {
        try (TestOrigin origin = TestOrigin.builder().name("in-flight").build().start();
             TransportRuntime runtime = TransportRuntime.create(TransportRuntime.Kind.NIO, 1)) {
            UpstreamClient client = UpstreamClient.create(runtime);
            HttpPeer peer = HttpPeer.plain(origin.address());
            CompletionStage<UpstreamResponse> first = client.send(peer, RequestHeader.of("GET", "/hang"), NO_BODY);
            CompletionStage<UpstreamResponse> second = client.sendDiscardingBody(peer, RequestHeader.of("GET", "/hang"),
                    NO_BODY);
            origin.awaitRequests(2, Duration.ofSeconds(10));

            client.close();

            assertEquals(ErrorSource.UPSTREAM, failure(first).source());
            assertEquals(ErrorSource.UPSTREAM, failure(second).source());
            origin.awaitOpenConnections(0, Duration.ofSeconds(10));
            assertEquals(2, origin.connectionsAccepted());
        }
    }

    @Test
    void closeIdleConnectionsOfAGroupClosesItsIdleHttp1AndHttp2ConnectionsOnly() {
        try (TestOrigin origin = TestOrigin.builder().name("groups").build().start();
             H2Origin h2Origin = H2Origin.builder().name("h2-groups").tls(TestCertificates.localhost()).build().start();
             UpstreamClient client = UpstreamClient.create()) {
            HttpPeer dropped = HttpPeer.plain(origin.address()).withGroupKey(7);
            HttpPeer kept = HttpPeer.plain(origin.address()).withGroupKey(8);
            HttpPeer droppedH2 = HttpPeer.tls(h2Origin.address(), "localhost")
                    .withOptions(options().alpn(Alpn.H2).build()).withGroupKey(7);
            await(client.send(dropped, RequestHeader.of("GET", "/small"), NO_BODY));
            await(client.send(kept, RequestHeader.of("GET", "/small"), NO_BODY));
            await(client.send(droppedH2, RequestHeader.of("GET", "/"), NO_BODY));
            assertEquals(2, client.idleConnections());

            client.closeIdleConnections(7);

            origin.awaitOpenConnections(1, Duration.ofSeconds(10));
            dev.relay.testing.Await.until(() -> h2Origin.openConnections() == 0, Duration.ofSeconds(10),
                    () -> "open HTTP/2 connections: " + h2Origin.openConnections());
            assertTrue(await(client.send(kept, RequestHeader.of("GET", "/small"), NO_BODY)).connectionReused());
            // A request that still names the retired group gets a connection that is not pooled after it.
            assertFalse(await(client.send(dropped, RequestHeader.of("GET", "/small"), NO_BODY)).connectionReused());
            assertEquals(1, client.idleConnections());
        }
    }

    @Test
    void closedClientLeavesNoThreadLocalsOnASharedRuntime() throws Exception {
        try (TransportRuntime runtime = TransportRuntime.create(TransportRuntime.Kind.NIO, 1)) {
            io.netty.util.concurrent.EventExecutor loop = runtime.workers().next();
            // The first client also makes Netty's own per-thread state (allocator caches ...), which stays.
            useBothPoolsAndClose(runtime);
            int before = loop.submit(() -> InternalThreadLocalMap.get().size()).get();

            useBothPoolsAndClose(runtime);

            assertEquals(before, (int) loop.submit(() -> InternalThreadLocalMap.get().size()).get(),
                    "a closed client's pool partitions must not stay on the runtime's loop");
        }
    }

    private static void useBothPoolsAndClose(TransportRuntime runtime) {
        try (UpstreamClient client = UpstreamClient.create(runtime)) {
            await(client.send(HttpPeer.plain(plain.address()), RequestHeader.of("GET", "/"), NO_BODY));
            await(client.send(HttpPeer.tls(h2.address(), "localhost").withOptions(options().alpn(Alpn.H2).build()),
                    RequestHeader.of("GET", "/"), NO_BODY));
            assertEquals(2, client.connectionsOpened());
        }
    }
}
