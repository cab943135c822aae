package dev.relay.transport;

import dev.relay.core.Alpn;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.testing.Await;
import dev.relay.testing.ExternalTool;
import dev.relay.testing.H2Origin;
import dev.relay.testing.RecordedRequest;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * HTTP/1.1 clients through the proxy to HTTP/2 origins ({@link H2Origin}, over TLS with ALPN and over
 * h2c): bodies both ways, header translation, trailers, interim responses, the multiplexed pool and its
 * counters, GOAWAY and REFUSED_STREAM retried elsewhere, h2-or-h1 negotiation, PING failure.
 */
@Timeout(60)
class Http2UpstreamTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static H2Origin h2c;
    private static H2Origin h2tls;

    @BeforeAll
    static void startOrigins() {
        h2c = H2Origin.builder().name("h2c").build().start();
        h2tls = H2Origin.builder().name("h2tls").tls(TestCertificates.localhost()).build().start();
    }

    @AfterAll
    static void stopOrigins() {
        h2c.close();
        h2tls.close();
    }

    static PeerOptions.Builder h2(Alpn alpn) {
        return PeerOptions.builder().alpn(alpn).trustedCertificates(List.of(TestCertificates.caCertificate()))
                .readTimeout(Duration.ofSeconds(10));
    }

    static HttpPeer h2cPeer(H2Origin origin, PeerOptions options) {
        return HttpPeer.plain(origin.address()).withOptions(options);
    }

    static HttpPeer tlsPeer(String address, PeerOptions options) {
        return HttpPeer.tls(address, "localhost").withOptions(options);
    }

    private static HttpResponse<byte[]> get(ProxyFixture fixture, String path) throws Exception {
        return fixture.client.send(HttpRequest.newBuilder(fixture.uri(path)).timeout(WAIT).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    // ---- bodies and headers -------------------------------------------------------------------------

    @Test
    void largeGetFromAnH2cOriginArrivesWhole() throws Exception {
        var proxy = new ProxyFixture.SimpleProxy(s -> h2cPeer(h2c, h2(Alpn.H2).build()));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            HttpResponse<byte[]> response = get(fixture, "/bytes/5000000");

            assertEquals(200, response.statusCode());
            assertArrayEquals(TestOrigin.patternBytes(0, 5_000_000), response.body());
            assertEquals("5000000", response.headers().firstValue("content-length").orElseThrow());
            assertEquals("h2c", response.headers().firstValue("x-origin").orElseThrow());
            assertNull(proxy.nextLogged("/bytes/5000000").error());
        }
    }

    @Test
    void largePostToAnOriginOverTlsIsEchoedAndDigested() throws Exception {
        byte[] body = new byte[3 * 1024 * 1024 + 17];
        new Random(42).nextBytes(body);
        var proxy = new ProxyFixture.SimpleProxy(s -> tlsPeer(h2tls.address(), h2(Alpn.H2).build()));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            HttpResponse<byte[]> echo = fixture.client.send(HttpRequest.newBuilder(fixture.uri("/echo")).timeout(WAIT)
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, echo.statusCode());
            assertEquals(sha256(body), sha256(echo.body()));

            // A streamed body of unknown length (chunked from the client) goes as DATA frames.
            HttpResponse<String> sink = fixture.client.send(HttpRequest.newBuilder(fixture.uri("/sink")).timeout(WAIT)
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(body))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals("{\"bytes\":" + body.length + ",\"sha256\":\"" + sha256(body) + "\"}", sink.body());
            RecordedRequest seen = h2tls.requests().stream().filter(r -> r.path().equals("/sink")).reduce((a, b) -> b)
                    .orElseThrow();
            assertEquals("HTTP/2.0", seen.version());
            assertTrue(seen.tls());
            assertEquals("https", seen.header(":scheme"));
        }
    }

    @Test
    void requestHeaderIsTranslatedWithoutConnectionFieldsButWithTeTrailers() throws Exception {
        var proxy = new ProxyFixture.SimpleProxy(s -> h2cPeer(h2c, h2(Alpn.H2).build()));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            String response = fixture.raw("GET /headers?x=1 HTTP/1.1\r\nHost: app.example\r\nTE: trailers\r\n"
                    + "Connection: TE, close, X-Hop\r\nX-Hop: gone\r\nKeep-Alive: timeout=5\r\nX-Custom: Kept\r\n"
                    + "Cookie: a=1\r\nCookie: b=2\r\n\r\n");

            assertTrue(response.startsWith("HTTP/1.1 200"), response);
            String body = response.substring(response.indexOf("\r\n\r\n") + 4);
            assertTrue(body.contains(":method: GET\n"), body);
            assertTrue(body.contains(":path: /headers?x=1\n"), body);
            assertTrue(body.contains(":scheme: http\n"), body);
            assertTrue(body.contains(":authority: app.example\n"), body);
            assertTrue(body.contains("te: trailers\n"), body);
            assertTrue(body.contains("x-custom: Kept\n"), body);
            assertTrue(body.contains("cookie: a=1"), body);
            assertTrue(body.contains("b=2"), body);
            for (String hop : List.of("connection", "keep-alive", "x-hop", "host", "transfer-encoding")) {
                assertFalse(body.contains("\n" + hop + ":") || body.startsWith(hop + ":"), hop + " in " + body);
            }
        }
    }

    @Test
    void trailersReachAChunkedHttp11Client() throws Exception {
        var proxy = new ProxyFixture.SimpleProxy(s -> h2cPeer(h2c, h2(Alpn.H2).build()));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            String response = fixture.raw("GET /trailers HTTP/1.1\r\nHost: a\r\nTE: trailers\r\nConnection: close\r\n\r\n")
                    .toLowerCase(java.util.Locale.ROOT);

            assertTrue(response.startsWith("http/1.1 200"), response);
            assertTrue(response.contains("transfer-encoding: chunked"), response);
            String afterBody = response.substring(response.indexOf("5\r\nhello\r\n0\r\n"));
            assertTrue(afterBody.contains("x-checksum: " + TestOrigin.sha256Hex("hello".getBytes())), afterBody);
            assertTrue(afterBody.contains("grpc-status: 0"), afterBody);
        }
    }

    @Test
    void theTrailersOfAChunkedRequestGoUpAsATrailingHeadersFrame() throws Exception {
        H2Origin origin = H2Origin.builder().name("trailers-up").build().start();
        var proxy = new ProxyFixture.SimpleProxy(s -> h2cPeer(origin, h2(Alpn.H2).build()));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            String response = fixture.raw("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                    + "Connection: close\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 5\r\n\r\n");

            assertTrue(response.startsWith("HTTP/1.1 200"), response);
            assertTrue(response.endsWith("5\r\nhello\r\n0\r\n\r\n"), "the echo, then the end: " + response);
            RecordedRequest seen = origin.requests().get(0);
            assertEquals(5, seen.bodyBytes());
            assertEquals("5", seen.trailer("x-sum"), "trailers: " + seen.trailers());
            assertNull(seen.header("x-sum"), "a trailer, not a header field");
        } finally {
            origin.close();
        }
    }

    @Test
    void aTrailersOnlyResponseIsAHeaderWithAnEmptyBody() throws Exception {
        var proxy = new ProxyFixture.SimpleProxy(s -> h2cPeer(h2c, h2(Alpn.H2).build()));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            HttpResponse<byte[]> response = get(fixture, "/trailers-only");

            assertEquals(200, response.statusCode());
            assertEquals("7", response.headers().firstValue("grpc-status").orElseThrow());
            assertEquals("denied", response.headers().firstValue("grpc-message").orElseThrow());
            assertEquals(0, response.body().length);
            assertNull(proxy.nextLogged("/trailers-only").error());
        }
    }

    @Test
    void anInterimResponseIsRelayedBeforeTheFinalOne() throws Exception {
        var proxy = new ProxyFixture.SimpleProxy(s -> h2cPeer(h2c, h2(Alpn.H2).build()));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            HttpResponse<byte[]> response = get(fixture, "/early-hints");
            assertEquals(200, response.statusCode());
            assertEquals("hinted", new String(response.body()));

            // The JDK client hides interim responses: the raw answer shows the 103 and its field first.
            String raw = fixture.raw("GET /early-hints HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertTrue(raw.startsWith("HTTP/1.1 103 Early Hints\r\n"), raw);
            int end = raw.indexOf("\r\n\r\n");
            assertTrue(raw.substring(0, end).toLowerCase(java.util.Locale.ROOT).contains("\r\nlink: "), raw);
            assertTrue(raw.startsWith("HTTP/1.1 200", end + 4), raw);
        }
    }

    @Test
    void aBodyShorterThanItsContentLengthFailsTheResponse() throws Exception {
        var proxy = new ProxyFixture.SimpleProxy(s -> h2cPeer(h2c, h2(Alpn.H2).build()));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            // Netty's HTTP/2 decoder checks content-length against the DATA received (RFC 9113 §8.1.1).
            assertThrows(java.io.IOException.class, () -> get(fixture, "/short-body"));
            assertEquals(ErrorType.H2_ERROR, proxy.nextLogged("/short-body").error().type());
        }
    }

    @Test
    void aSlowClientHoldsTheOriginBackAndItsHangUpResetsTheStream() throws Exception {
        H2Origin origin = H2Origin.builder().name("flow").build().start();
        var proxy = new ProxyFixture.SimpleProxy(s -> h2cPeer(origin, h2(Alpn.H2).build()));
        try (ProxyFixture fixture = new ProxyFixture(proxy);
             java.net.Socket socket = new java.net.Socket("127.0.0.1", fixture.address.getPort())) {
            socket.setReceiveBufferSize(64 * 1024);
            socket.getOutputStream().write("GET /bytes/200000000 HTTP/1.1\r\nHost: a\r\n\r\n".getBytes());
            assertTrue(socket.getInputStream().readNBytes(1000).length == 1000);
            // The client reads no more: the origin stops when the stream's window is spent (the proxy
            // withholds WINDOW_UPDATE while the client is not writable), far short of the 200 MB.
            long[] last = {-1};
            Await.until(() -> {
                long now = origin.bytesSent();
                boolean stalled = now == last[0];
                last[0] = now;
                if (!stalled) {
                    try {
                        Thread.sleep(200);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return stalled;
            }, WAIT, () -> "the origin keeps sending: " + origin.bytesSent());
            assertTrue(origin.bytesSent() < 32L * 1024 * 1024, "sent " + origin.bytesSent());
            socket.close();
            // The client's hang-up reaches the origin as RST_STREAM CANCEL.
            Await.until(() -> origin.resetsReceived() == 1, WAIT, () -> "no RST_STREAM at the origin");
            assertEquals(1, origin.openConnections());
        } finally {
            origin.close();
        }
    }

    @Test
    void aReadTimeoutCancelsTheStreamAndKeepsTheConnection() throws Exception {
        H2Origin origin = H2Origin.builder().name("slow").build().start();
        var proxy = new ProxyFixture.SimpleProxy(s -> h2cPeer(origin, h2(Alpn.H2)
                .readTimeout(Duration.ofMillis(300)).build()));
        // One event loop: the second request finds the connection of the first whichever client connection it uses.
        TransportRuntime oneLoop = TransportRuntime.create(TransportRuntime.Kind.AUTO, 1);
        try (ProxyFixture fixture = new ProxyFixture(proxy, ProxyOptions.defaults(), oneLoop)) {
            assertEquals(504, get(fixture, "/delay/3000").statusCode());
            assertEquals(ErrorType.READ_TIMEDOUT, proxy.nextLogged("/delay/3000").error().type());
            Await.until(() -> origin.resetsReceived() == 1, WAIT, () -> "no RST_STREAM at the origin");
            assertEquals(200, get(fixture, "/").statusCode());
            assertEquals(1, origin.connectionsAccepted());
        } finally {
            oneLoop.close();
            origin.close();
        }
    }

    // ---- the multiplexed pool -----------------------------------------------------------------------

    @Test
    void concurrentRequestsShareConnectionsUpToTheStreamCap() throws Exception {
        H2Origin origin = H2Origin.builder().name("mux").build().start();
        // One event loop: the pool is per loop, so the bound below is the whole proxy's.
        TransportRuntime oneLoop = TransportRuntime.create(TransportRuntime.Kind.AUTO, 1);
        var proxy = new ProxyFixture.SimpleProxy(s -> h2cPeer(origin, h2(Alpn.H2).maxH2Streams(10).build()));
        ProxyFixture fixture = new ProxyFixture(proxy, ProxyOptions.defaults(), oneLoop);
        HttpProxyServer server = fixture.server;
        HttpClient client = fixture.client;
        try {
            String base = "http://127.0.0.1:";
            int port = fixture.address.getPort();
            List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                responses.add(client.sendAsync(HttpRequest.newBuilder(java.net.URI.create(base + port + "/delay/400"))
                        .timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString()));
            }
            for (CompletableFuture<HttpResponse<String>> r : responses) {
                assertEquals("delayed", r.get().body());
            }

            assertTrue(origin.connectionsAccepted() <= 10, "connections: " + origin.connectionsAccepted());
            assertTrue(origin.maxConcurrentStreamsSeen() <= 10, "streams at once: " + origin.maxConcurrentStreamsSeen());
            assertEquals(100, server.upstreamH2StreamsOpened());
            assertEquals(origin.connectionsAccepted(), server.upstreamH2ConnectionsOpened());

            // Later requests go on the pooled connections: counted as reused, no new connection.
            long reusedBefore = server.upstreamH2StreamsReused();
            for (int i = 0; i < 5; i++) {
                assertEquals(200, client.send(HttpRequest.newBuilder(java.net.URI.create(base + port + "/"))
                        .timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            }
            assertEquals(reusedBefore + 5, server.upstreamH2StreamsReused());
            assertEquals(105, server.upstreamH2StreamsOpened());
            assertEquals(origin.connectionsAccepted(), server.upstreamH2ConnectionsOpened());
            assertEquals(0, server.upstreamH2ActiveStreams(0));
            assertEquals(origin.openConnections(), server.upstreamH2Connections(0));
        } finally {
            fixture.close();
            oneLoop.close();
            origin.close();
        }
    }

    @Test
    void aLowPeerStreamLimitOpensMoreConnections() throws Exception {
        H2Origin origin = H2Origin.builder().name("low").maxConcurrentStreams(2).build().start();
        TransportRuntime oneLoop = TransportRuntime.create(TransportRuntime.Kind.AUTO, 1);
        var proxy = new ProxyFixture.SimpleProxy(s -> h2cPeer(origin, h2(Alpn.H2).build()));
        ProxyFixture fixture = new ProxyFixture(proxy, ProxyOptions.defaults(), oneLoop);
        HttpClient client = fixture.client;
        try {
            int port = fixture.address.getPort();
            List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                responses.add(client.sendAsync(HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port
                        + "/delay/400")).timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString()));
            }
            for (CompletableFuture<HttpResponse<String>> r : responses) {
                assertEquals(200, r.get().statusCode());
            }
            // The peer's limit (2) is below the cap (100): never more than 2 on one connection.
            assertEquals(2, origin.maxConcurrentStreamsSeen());
            assertTrue(origin.connectionsAccepted() >= 3 && origin.connectionsAccepted() <= 6,
                    "connections: " + origin.connectionsAccepted());
        } finally {
            fixture.close();
            oneLoop.close();
            origin.close();
        }
    }

    // ---- failures and retries -----------------------------------------------------------------------

    @Test
    void streamsAboveGoAwayLastStreamIdAreRetriedElsewhere() throws Exception {
        H2Origin goingAway = H2Origin.builder().name("going-away").goAwayAfter(5).build().start();
        H2Origin other = H2Origin.builder().name("other").build().start();
        PeerOptions options = h2(Alpn.H2).build();
        FailoverProxy proxy = new FailoverProxy(h2cPeer(goingAway, options), h2cPeer(other, options));
        // One event loop, so that all five streams share the one connection.
        TransportRuntime oneLoop = TransportRuntime.create(TransportRuntime.Kind.AUTO, 1);
        try (ProxyFixture fixture = new ProxyFixture(proxy, ProxyOptions.defaults(), oneLoop)) {
            List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                responses.add(fixture.client.sendAsync(HttpRequest.newBuilder(fixture.uri("/delay/500")).timeout(WAIT)
                        .build(), HttpResponse.BodyHandlers.ofString()));
            }
            List<String> servedBy = new ArrayList<>();
            for (CompletableFuture<HttpResponse<String>> r : responses) {
                HttpResponse<String> response = r.get();
                assertEquals(200, response.statusCode());
                servedBy.add(response.headers().firstValue("x-origin").orElseThrow());
            }

            // The first stream is processed where it went; the four above the GOAWAY's last stream id
            // were not, and went to the other origin: no client saw an error.
            assertEquals(1, servedBy.stream().filter("going-away"::equals).count(), servedBy.toString());
            assertEquals(4, servedBy.stream().filter("other"::equals).count(), servedBy.toString());
            int retried = 0;
            for (int i = 0; i < 5; i++) {
                FailoverProxy.Outcome outcome = proxy.nextOutcome();
                assertNull(outcome.error());
                if (outcome.attempts() == 2) {
                    assertEquals(List.of("proxy:H2_ERROR"), outcome.failures());
                    retried++;
                }
            }
            assertEquals(4, retried);
            // The drained connection closes once its last stream is done.
            Await.until(() -> goingAway.openConnections() == 0, WAIT, () -> "the drained connection closes");
        } finally {
            oneLoop.close();
            goingAway.close();
            other.close();
        }
    }

    @Test
    void aRefusedStreamIsRetriedAndAnotherResetIsNot() throws Exception {
        TestOrigin h1 = TestOrigin.builder().name("h1").build().start();
        FailoverProxy proxy = new FailoverProxy(h2cPeer(h2c, h2(Alpn.H2).build()), HttpPeer.plain(h1.address()));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            int refusedBefore = h2c.resets("refused");
            HttpResponse<byte[]> refused = get(fixture, "/reset?code=refused");
            assertEquals(200, refused.statusCode());
            assertEquals("h1", refused.headers().firstValue("X-Origin").orElseThrow());
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertEquals(List.of("proxy:H2_ERROR"), outcome.failures());
            assertEquals(List.of(h2c.address(), h1.address()), outcome.tried());
            assertEquals(refusedBefore + 1, h2c.resets("refused"));

            // INTERNAL_ERROR: the origin may have acted on the request; it is not sent again.
            HttpResponse<byte[]> internal = get(fixture, "/reset?code=internal");
            assertEquals(502, internal.statusCode());
            FailoverProxy.Outcome failed = proxy.nextOutcome();
            assertEquals(1, failed.attempts());
            assertEquals(ErrorType.H2_ERROR, failed.error().type());
            assertEquals(1, h1.requestCount("/reset"));
        } finally {
            h1.close();
        }
    }

    /**
     * A reload that replaces a group retires its HTTP/2 connections: the stream in flight finishes on
     * its connection, which takes no new stream and closes once that stream is done, while new requests
     * (the new group's) open a connection of their own.
     */
    @Test
    void aRetiredGroupsConnectionTakesNoNewStreamAndClosesWhenItsStreamIsDone() throws Exception {
        H2Origin h2c = H2Origin.builder().name("retiring").build().start();
        HttpPeer before = h2cPeer(h2c, h2(Alpn.H2).build()).withGroupKey(7);
        java.util.concurrent.atomic.AtomicReference<HttpPeer> current = new java.util.concurrent.atomic.AtomicReference<>(before);
        var proxy = new ProxyFixture.SimpleProxy(s -> current.get());
        // One event loop: one pool partition, so every stream of a group shares one connection.
        TransportRuntime oneLoop = TransportRuntime.create(TransportRuntime.Kind.AUTO, 1);
        try (ProxyFixture fixture = new ProxyFixture(proxy, ProxyOptions.defaults(), oneLoop)) {
            assertEquals(200, get(fixture, "/").statusCode());
            CompletableFuture<Integer> inFlight = CompletableFuture.supplyAsync(() -> {
                try {
                    return get(fixture, "/delay/1000").statusCode();
                } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            Await.until(() -> h2c.requestCount("/delay/1000") == 1, WAIT, () -> "the delayed request reached the origin");

            current.set(before.withGroupKey(8));
            fixture.server.closeIdleUpstreamConnections(7);
            assertEquals(200, get(fixture, "/").statusCode());
            assertEquals(2, h2c.connectionsAccepted(), "the new group's request opened a connection of its own");
            assertEquals(2, h2c.openConnections(), "the retired one still carries its stream");

            assertEquals(200, inFlight.get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS));
            Await.until(() -> h2c.openConnections() == 1, WAIT,
                    () -> "the retired connection is still open: " + h2c.openConnections() + " open");

            // An idle connection of a retired group closes at once.
            fixture.server.closeIdleUpstreamConnections(8);
            Await.until(() -> h2c.openConnections() == 0, WAIT,
                    () -> "the idle retired connection is still open: " + h2c.openConnections() + " open");
        } finally {
            oneLoop.close();
            h2c.close();
        }
    }

    @Test
    void aConnectionLostAfterTheRequestWentOutIsRetriedForAnIdempotentRequestOnly() throws Exception {
        H2Origin crashing = H2Origin.builder().name("crashing").build().start();
        FailoverProxy proxy = new FailoverProxy(h2cPeer(crashing, h2(Alpn.H2).build()));
        // One event loop: every request after the first goes on a pooled connection (a reused one).
        TransportRuntime oneLoop = TransportRuntime.create(TransportRuntime.Kind.AUTO, 1);
        try (ProxyFixture fixture = new ProxyFixture(proxy, ProxyOptions.defaults(), oneLoop)) {
            assertEquals(200, get(fixture, "/").statusCode());
            proxy.nextOutcome();

            // The origin read the POST and died without a GOAWAY: it may have acted on it, so it is not sent again.
            HttpResponse<String> post = fixture.client.send(HttpRequest.newBuilder(fixture.uri("/drop-connection"))
                    .timeout(WAIT).POST(HttpRequest.BodyPublishers.ofString("order=1")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(502, post.statusCode());
            FailoverProxy.Outcome refused = proxy.nextOutcome();
            assertEquals(List.of(true), refused.reused(), "the POST went on a pooled connection");
            assertEquals(1, refused.attempts(), refused.toString());
            assertEquals(ErrorType.CONNECTION_CLOSED, refused.error().type());
            assertEquals(1, crashing.requestCount("/drop-connection"));

            // A GET is safe to send twice: retried as after an HTTP/1.1 keep-alive race, and on every new
            // connection that dies the same way (a backend going down) until the attempts run out.
            assertEquals(200, get(fixture, "/").statusCode());
            proxy.nextOutcome();
            assertEquals(502, get(fixture, "/drop-connection").statusCode());
            FailoverProxy.Outcome retried = proxy.nextOutcome();
            int attempts = ProxyOptions.defaults().maxAttempts();
            assertEquals(attempts, retried.attempts(), retried.toString());
            assertEquals(true, retried.reused().get(0), "the first GET went on a pooled connection");
            assertEquals(List.of(false), retried.reused().subList(1, attempts).stream().distinct().toList());
            assertEquals(1 + attempts, crashing.requestCount("/drop-connection"));
        } finally {
            oneLoop.close();
            crashing.close();
        }
    }

    @Test
    void h2OrH1SpeaksWhatTheTlsOriginChooses() throws Exception {
        TestOrigin h1Only = TestOrigin.builder().name("h1-only").tls(TestCertificates.localhost()).build().start();
        PeerOptions either = h2(Alpn.H2_OR_H1).build();
        var proxy = new ProxyFixture.SimpleProxy(s -> tlsPeer(s.requestHeader().uri().startsWith("/h1")
                ? h1Only.address() : h2tls.address(), either));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            long h2Before = h2tls.connectionsAccepted();
            for (int i = 0; i < 3; i++) {
                HttpResponse<byte[]> viaH1 = get(fixture, "/h1/x");
                assertEquals(200, viaH1.statusCode());
                assertEquals("h1-only", viaH1.headers().firstValue("X-Origin").orElseThrow());
                HttpResponse<byte[]> viaH2 = get(fixture, "/h2/x");
                assertEquals(200, viaH2.statusCode());
                assertEquals("h2tls", viaH2.headers().firstValue("x-origin").orElseThrow());
            }
            assertEquals("HTTP/1.1", h1Only.requests().get(0).version());
            assertEquals("HTTP/2.0", h2tls.requests().stream().filter(r -> r.path().equals("/h2/x")).findFirst()
                    .orElseThrow().version());
            // Each origin's choice was remembered: one connection each carried all three requests.
            assertEquals(1, h1Only.connectionsAccepted());
            assertEquals(h2Before + 1, h2tls.connectionsAccepted());
            assertEquals(1, fixture.server.upstreamH2ConnectionsOpened());
            assertEquals(2, fixture.server.upstreamH2StreamsReused());
        } finally {
            h1Only.close();
        }
    }

    @Test
    void aConnectionWhosePingIsNotAnsweredIsDropped() throws Exception {
        H2Origin deaf = H2Origin.builder().name("deaf").answerPings(false).build().start();
        var proxy = new ProxyFixture.SimpleProxy(s -> h2cPeer(deaf, h2(Alpn.H2)
                .h2PingInterval(Duration.ofMillis(200)).build()));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            assertEquals(200, get(fixture, "/").statusCode());
            assertEquals(1, deaf.openConnections());

            // Idle, well inside the idle timeout (60 s): only the unanswered PING can close it.
            Await.until(() -> deaf.openConnections() == 0, WAIT, () -> "the connection is dropped");
            assertTrue(deaf.pingsReceived() >= 1);
            assertEquals(1, fixture.server.upstreamH2PingFailures());
            assertEquals(200, get(fixture, "/").statusCode());
            assertEquals(2, deaf.connectionsAccepted());
        } finally {
            deaf.close();
        }
    }

    @Test
    void curlHttp11ClientGetsAnH2OriginsAnswer() throws Exception {
        var proxy = new ProxyFixture.SimpleProxy(s -> tlsPeer(h2tls.address(), h2(Alpn.H2).build()));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            ExternalTool.Result curl = ExternalTool.run(WAIT, "curl", "-sS", "--http1.1", "-D", "-",
                    "http://127.0.0.1:" + fixture.address.getPort() + "/bytes/100000", "-o", "/dev/null",
                    "-w", "%{size_download}");
            assertEquals(0, curl.exitCode(), curl.stderr());
            assertTrue(curl.stdout().startsWith("HTTP/1.1 200"), curl.stdout());
            assertTrue(curl.stdout().endsWith("100000"), curl.stdout());
        }
    }
}
