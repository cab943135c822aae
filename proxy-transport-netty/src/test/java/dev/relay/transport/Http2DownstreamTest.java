package dev.relay.transport;

import dev.relay.core.BodyChunk;
import dev.relay.core.HttpPeer;
import dev.relay.core.Session;
import dev.relay.testing.Await;
import dev.relay.testing.ExternalTool;
import dev.relay.testing.RecordedRequest;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.TestOrigin;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * HTTP/2 towards clients, through to an HTTP/1.1 {@link TestOrigin}: curl over TLS (ALPN h2) and
 * with prior knowledge (h2c), h2load for many streams on one connection, and {@link H2TestClient}
 * for frames (trailers, resets, GOAWAY, a client that does not read).
 */
@Timeout(90)
class Http2DownstreamTest {
    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private TestOrigin origin;
    private RecordingProxy proxy;
    private ProxyFixture fixture;

    /** Forwards to the origin; keeps what the phases saw and counts response bytes passing through. */
    static final class RecordingProxy extends ProxyFixture.SimpleProxy {
        final BlockingQueue<String> versions = new LinkedBlockingQueue<>();
        final BlockingQueue<String> alpn = new LinkedBlockingQueue<>();
        final AtomicLong responseBytes = new AtomicLong();

        RecordingProxy(String upstream) {
            super(session -> HttpPeer.plain(upstream));
        }

        @Override
        public CompletionStage<Boolean> requestFilter(Session session, Object ctx) {
            versions.add(session.requestHeader().version());
            alpn.add(session.downstreamTls() == null ? "plain" : String.valueOf(session.downstreamTls().alpn()));
            return CompletableFuture.completedFuture(false);
        }

        @Override
        public Duration responseBodyFilter(Session session, BodyChunk chunk, boolean endOfStream, Object ctx) {
            responseBytes.addAndGet(chunk.length());
            return null;
        }
    }

    @BeforeEach
    void start() {
        origin = TestOrigin.builder().name("h2-origin").build().start();
        proxy = new RecordingProxy(origin.address());
        fixture = new ProxyFixture(proxy);
    }

    @AfterEach
    void stop() {
        fixture.close();
        origin.close();
    }

    private InetSocketAddress bindTls(Boolean http2) {
        TlsSettings tls = TlsSettings.builder().certificate(TestCertificates.localhost().certificateChainPem(),
                TestCertificates.localhost().privateKeyPem()).build();
        return fixture.server.bind("127.0.0.1:0", ListenerOptions.builder().tls(tls).http2(http2).build());
    }

    private static ExternalTool.Result curl(String... args) throws Exception {
        List<String> command = ExternalTool.args("curl", "-sS", "--max-time", "30");
        command.addAll(List.of(args));
        return ExternalTool.run(TOOL_TIMEOUT, command.toArray(new String[0]));
    }

    private static String tlsUrl(InetSocketAddress at, String path) {
        return "https://localhost:" + at.getPort() + path;
    }

    private String plainUrl(String path) {
        return "http://127.0.0.1:" + fixture.address.getPort() + path;
    }

    private static String[] tlsArgs(InetSocketAddress at) {
        return new String[] {"--cacert", TestCertificates.caCertificatePem().toString(),
                "--resolve", "localhost:" + at.getPort() + ":127.0.0.1"};
    }

    @Test
    void curlNegotiatesH2ByAlpnAndThePhasesSeeHttp2() throws Exception {
        InetSocketAddress at = bindTls(null);
        List<String> args = ExternalTool.args(tlsArgs(at));
        args.addAll(List.of("--http2", "-H", "Cookie: a=1", "-H", "Cookie: b=2", "-w", "\n%{http_version}",
                tlsUrl(at, "/headers")));
        ExternalTool.Result r = curl(args.toArray(new String[0]));
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(r.stdout().endsWith("\n2"), r.stdout());
        assertEquals("HTTP/2.0", proxy.versions.poll(5, TimeUnit.SECONDS));
        assertEquals("h2", proxy.alpn.poll(5, TimeUnit.SECONDS));
        RecordedRequest seen = origin.awaitRequests(1, Duration.ofSeconds(5)).get(0);
        assertEquals("HTTP/1.1", seen.version());
        assertEquals("localhost:" + at.getPort(), seen.header("Host"), "Host from :authority");
        assertEquals(List.of("a=1; b=2"), seen.headerValues("Cookie"), "cookies joined into one field");
        assertNull(seen.header("x-http2-stream-id"));
        assertNull(seen.header("x-http2-scheme"));
    }

    @Test
    void priorKnowledgeOnAPlainListenerAndHttp1OnTheSamePort() throws Exception {
        ExternalTool.Result h2 = curl("--http2-prior-knowledge", "-w", "\n%{http_version}", plainUrl("/small"));
        assertEquals(0, h2.exitCode(), h2.stderr());
        assertTrue(h2.stdout().endsWith("\n2"), h2.stdout());
        assertEquals("HTTP/2.0", proxy.versions.poll(5, TimeUnit.SECONDS));
        assertEquals("plain", proxy.alpn.poll(5, TimeUnit.SECONDS));

        ExternalTool.Result h1 = curl("--http1.1", "-w", "\n%{http_version}", plainUrl("/small"));
        assertEquals(0, h1.exitCode(), h1.stderr());
        assertTrue(h1.stdout().endsWith("\n1.1"), h1.stdout());
        assertEquals("HTTP/1.1", proxy.versions.poll(5, TimeUnit.SECONDS));
        assertEquals(2, origin.requestCount("/small"));
    }

    @Test
    void http2FalseMakesTheListenerSpeakHttp1Only() throws Exception {
        InetSocketAddress tls = bindTls(false);
        List<String> args = ExternalTool.args(tlsArgs(tls));
        args.addAll(List.of("--http2", "-w", "\n%{http_version}", tlsUrl(tls, "/small")));
        ExternalTool.Result r = curl(args.toArray(new String[0]));
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(r.stdout().endsWith("\n1.1"), "ALPN offered only http/1.1: " + r.stdout());

        InetSocketAddress plain = fixture.server.bind("127.0.0.1:0", ListenerOptions.builder().http2(false).build());
        ExternalTool.Result pk = curl("--http2-prior-knowledge", "http://127.0.0.1:" + plain.getPort() + "/small");
        assertTrue(pk.exitCode() != 0, "a preface is not HTTP/2 on this listener: " + pk.stdout());
        assertEquals(1, origin.requestCount("/small"), "only the TLS request reached the origin");
    }

    @Test
    void postLargerThanTheWindowsArrivesWhole() throws Exception {
        byte[] body = TestOrigin.patternBytes(0, 8 * 1024 * 1024);
        Path file = dir.resolve("body.bin");
        Files.write(file, body);
        ExternalTool.Result r = curl("--http2-prior-knowledge", "--data-binary", "@" + file, plainUrl("/sink"));
        assertEquals(0, r.exitCode(), r.stderr());
        RecordedRequest seen = origin.awaitRequests(1, Duration.ofSeconds(5)).get(0);
        assertEquals(body.length, seen.bodyBytes());
        assertEquals(TestOrigin.sha256Hex(body), seen.bodySha256());
        assertTrue(r.stdout().contains(TestOrigin.sha256Hex(body)), r.stdout());
    }

    @Test
    void aClientThatDoesNotReadHoldsTheResponseBackAtTheOrigin() throws Exception {
        int length = 32 * 1024 * 1024;
        try (H2TestClient client = H2TestClient.connect(fixture.address, false)) {
            Http2FrameStream stream = client.send(H2TestClient.request("GET", "/bytes/" + length, "proxy.test"), true);
            // Wait until the proxy stops passing bytes on: the client's 64 KiB window is full.
            long before;
            long after = proxy.responseBytes.get();
            do {
                before = after;
                Thread.sleep(300);
                after = proxy.responseBytes.get();
            } while (after != before || after == 0);
            assertTrue(after < 4 * 1024 * 1024, "the proxy passed " + after + " of " + length
                    + " bytes to a client with a 64 KiB window: it buffers instead of pausing the origin");
            assertTrue(client.receivedBytes() <= 65_535, "within the window: " + client.receivedBytes());
            // Now read: the whole response arrives, in order.
            long given = 0;
            while (client.receivedBytes() < length) {
                long owed = client.receivedBytes() - given;
                if (owed > 0) {
                    client.giveBack(stream, (int) owed);
                    given += owed;
                } else {
                    Thread.sleep(1);
                }
            }
            assertEquals(length, client.receivedBytes());
            assertEquals(TestOrigin.sha256Hex(TestOrigin.patternBytes(0, length)), client.receivedSha256());
        }
    }

    @Test
    void manyConcurrentStreamsOnOneConnection() throws Exception {
        ExternalTool.Result r = ExternalTool.run(TOOL_TIMEOUT, "h2load", "-c", "1", "-m", "50", "-n", "2000",
                plainUrl("/small"));
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(r.stdout().contains("2000 succeeded, 0 failed, 0 errored"), r.stdout());
        assertEquals(2000, origin.requestCount("/small"));
    }

    @Test
    void upgradeToH2cIsNeitherPerformedNorForwarded() throws Exception {
        String response = fixture.raw("GET /headers HTTP/1.1\r\nHost: proxy.test\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nX-Keep: yes\r\nConnection: close\r\n\r\n");
        assertTrue(response.startsWith("HTTP/1.1 200"), response);
        RecordedRequest seen = origin.awaitRequests(1, Duration.ofSeconds(5)).get(0);
        assertNull(seen.header("Upgrade"));
        assertNull(seen.header("HTTP2-Settings"));
        assertEquals("yes", seen.header("X-Keep"));
        // HTTP2-Settings not named in Connection is dropped too.
        fixture.raw("GET /headers HTTP/1.1\r\nHost: proxy.test\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n"
                + "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nConnection: close\r\n\r\n");
        RecordedRequest second = origin.awaitRequests(2, Duration.ofSeconds(5)).get(1);
        assertNull(second.header("Upgrade"));
        assertNull(second.header("HTTP2-Settings"));
    }

    @Test
    void anEarlyHintsResponseReachesHttp2AndHttp11ClientsBeforeTheFinalOne() throws Exception {
        assertHintsBeforeTheFinalResponse(curl("-v", "--http2-prior-knowledge", plainUrl("/early-hints")), "http/2");
        assertHintsBeforeTheFinalResponse(curl("-v", "--http1.1", plainUrl("/early-hints")), "http/1.1");

        // An HTTP/1.0 client understands no interim response (RFC 9110 §15.2): it gets the final one only.
        String raw = fixture.raw("GET /early-hints HTTP/1.0\r\n\r\n");
        assertTrue(raw.startsWith("HTTP/1.1 200"), raw);
    }

    /** curl's trace shows the 103 with its Link field, then the 200; the body is the final response's. */
    private static void assertHintsBeforeTheFinalResponse(ExternalTool.Result r, String version) {
        assertEquals(0, r.exitCode(), r.stderr());
        String trace = r.stderr().toLowerCase(java.util.Locale.ROOT);
        int hints = trace.indexOf("< " + version + " 103");
        assertTrue(hints >= 0, r.stderr());
        assertTrue(trace.indexOf("< link: </style.css>; rel=preload", hints) > hints, r.stderr());
        assertTrue(trace.indexOf("< " + version + " 200", hints) > hints, r.stderr());
        assertEquals("hinted", r.stdout());
    }

    @Test
    void trailersOfAChunkedOriginResponseReachTheClientAsAHeadersFrame() throws Exception {
        try (H2TestClient client = H2TestClient.connect(fixture.address, true)) {
            Http2FrameStream stream = client.send(H2TestClient.request("GET", "/trailers", "proxy.test"), true);
            List<Object> events = client.untilStreamEnd(stream.id(), 10);
            Http2HeadersFrame last = (Http2HeadersFrame) events.get(events.size() - 1);
            assertTrue(last.isEndStream());
            assertNotNull(last.headers().get("x-checksum"), "trailers: " + last.headers());
            Http2HeadersFrame first = (Http2HeadersFrame) events.stream().filter(Http2HeadersFrame.class::isInstance)
                    .findFirst().orElseThrow();
            assertEquals("200", first.headers().status().toString());
            assertNull(first.headers().get("transfer-encoding"), "no HTTP/1.1 framing on HTTP/2");
            assertEquals(5, client.receivedBytes());
        }
    }

    @Test
    void aResponseWithoutBodyIsOneHeadersFrameWithEndStream() throws Exception {
        // What gRPC's trailers-only answer needs: its status in a HEADERS frame that ends the stream
        // (a client that gets an empty DATA frame after it reports INTERNAL instead of the status).
        try (H2TestClient client = H2TestClient.connect(fixture.address, true)) {
            Http2FrameStream stream = client.send(H2TestClient.request("GET", "/status/204", "proxy.test"), true);
            List<Object> events = client.untilStreamEnd(stream.id(), 10);
            List<Object> ofStream = events.stream().filter(e -> e instanceof Http2HeadersFrame h && h.stream().id() == stream.id()
                    || e instanceof H2TestClient.Data d && d.streamId() == stream.id()).toList();
            assertEquals(1, ofStream.size(), "frames of the stream: " + ofStream);
            Http2HeadersFrame only = (Http2HeadersFrame) ofStream.get(0);
            assertTrue(only.isEndStream());
            assertEquals("204", only.headers().status().toString());
        }
    }

    @Test
    void connectionSpecificRequestFieldsResetTheStream() throws Exception {
        try (H2TestClient client = H2TestClient.connect(fixture.address, true)) {
            Http2Headers headers = H2TestClient.request("GET", "/small", "proxy.test");
            headers.add("connection", "keep-alive");
            Http2FrameStream stream = client.send(headers, true);
            Http2ResetFrame reset = client.next(Http2ResetFrame.class);
            assertEquals(stream.id(), reset.stream().id());
            assertEquals(Http2Error.PROTOCOL_ERROR.code(), reset.errorCode());

            Http2Headers te = H2TestClient.request("GET", "/small", "proxy.test");
            te.add("te", "gzip");
            Http2FrameStream second = client.send(te, true);
            Http2ResetFrame teReset = client.next(Http2ResetFrame.class);
            assertEquals(second.id(), teReset.stream().id());
            assertEquals(Http2Error.PROTOCOL_ERROR.code(), teReset.errorCode());
            assertTrue(client.isOpen(), "a stream error, not a connection error");
        }
        assertEquals(0, origin.requestCount("/small"));
    }

    @Test
    void aHeaderListBeyondTheLimitGets431() throws Exception {
        try (H2TestClient client = H2TestClient.connect(fixture.address, true)) {
            Http2Headers headers = H2TestClient.request("GET", "/small", "proxy.test");
            headers.add("x-big", "a".repeat(33 * 1024));
            Http2FrameStream stream = client.send(headers, true);
            List<Object> events = client.untilStreamEnd(stream.id(), 5);
            Http2HeadersFrame answer = (Http2HeadersFrame) events.stream()
                    .filter(e -> e instanceof Http2HeadersFrame h && h.stream().id() == stream.id())
                    .findFirst().orElseThrow(() -> new AssertionError("no answer: " + events));
            assertEquals("431", answer.headers().status().toString());
        }
        assertEquals(0, origin.requestCount("/small"));
    }

    @Test
    void connectIsRefusedWith405() throws Exception {
        try (H2TestClient client = H2TestClient.connect(fixture.address, true)) {
            Http2Headers headers = new io.netty.handler.codec.http2.DefaultHttp2Headers(false).method("CONNECT")
                    .authority("example.com:443");
            Http2FrameStream stream = client.send(headers, false);
            Http2HeadersFrame answer = client.next(Http2HeadersFrame.class);
            assertEquals(stream.id(), answer.stream().id());
            assertEquals("405", answer.headers().status().toString());
        }
    }

    @Test
    void traceIsRefusedWith405AndNeverReachesTheOrigin() throws Exception {
        try (H2TestClient client = H2TestClient.connect(fixture.address, true)) {
            Http2FrameStream stream = client.send(H2TestClient.request("TRACE", "/traced", "proxy.test"), true);
            Http2HeadersFrame answer = client.next(Http2HeadersFrame.class);
            assertEquals(stream.id(), answer.stream().id());
            assertEquals("405", answer.headers().status().toString());
        }
        assertEquals(0, origin.requestCount("/traced"));
    }

    @Test
    void fieldNamesWithAnUnderscoreAreDroppedAsOnHttp1() throws Exception {
        try (H2TestClient client = H2TestClient.connect(fixture.address, true)) {
            Http2FrameStream stream = client.send(H2TestClient.request("GET", "/underscore", "proxy.test")
                    .add("x_a", "b").add("x-a", "c"), true);
            client.untilStreamEnd(stream.id(), 5);
        }
        RecordedRequest seen = origin.awaitRequests(1, Duration.ofSeconds(5)).get(0);
        assertEquals("/underscore", seen.uri());
        assertNull(seen.header("x_a"));
        assertEquals("c", seen.header("x-a"));
    }

    @Test
    void aClientResetCancelsTheUpstreamSide() throws Exception {
        try (H2TestClient client = H2TestClient.connect(fixture.address, true)) {
            Http2FrameStream stream = client.send(H2TestClient.request("GET", "/hang", "proxy.test"), true);
            origin.awaitRequests(1, Duration.ofSeconds(5));
            client.reset(stream, Http2Error.CANCEL);
            ProxyFixture.Logged logged = proxy.nextLogged("/hang");
            assertNotNull(logged.error());
            assertEquals(dev.relay.core.ErrorType.CONNECTION_CLOSED, logged.error().type());
            origin.awaitOpenConnections(0, Duration.ofSeconds(5));
            // The connection serves the next stream.
            Http2FrameStream next = client.send(H2TestClient.request("GET", "/small", "proxy.test"), true);
            client.untilStreamEnd(next.id(), 5);
        }
    }

    @Test
    void gracefulStopSendsGoawayAndLetsTheStreamInFlightComplete() throws Exception {
        origin.holdResponses();
        try (H2TestClient client = H2TestClient.connect(fixture.address, true)) {
            Http2FrameStream stream = client.send(H2TestClient.request("GET", "/small", "proxy.test"), true);
            origin.awaitHeldResponses(1, Duration.ofSeconds(5));
            CompletionStage<Void> stopped = fixture.server.stop(Duration.ofSeconds(20));
            H2TestClient.GoAway goAway = client.next(H2TestClient.GoAway.class);
            assertEquals(stream.id(), goAway.lastStreamId());
            assertEquals(Http2Error.NO_ERROR.code(), goAway.errorCode());
            origin.releaseResponses();
            client.untilStreamEnd(stream.id(), 10);
            assertEquals(100, client.receivedBytes());
            stopped.toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertFalse(client.isOpen());
        }
    }

    @Test
    void aConnectionThatTurnsHttp2AfterAStopBeganServesTheStreamItOpenedWith() throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", fixture.address.getPort())) {
            // Accepted before the stop (the listener closes with it), silent until the stop has begun: on an
            // upgrade the idle connection stays open, and its first request is to be served.
            Await.until(() -> fixture.server.openConnections() == 1, Duration.ofSeconds(5), () -> "not accepted");
            CompletionStage<Void> stopped = fixture.server.stopForUpgrade(Duration.ofSeconds(20));
            // Preface, SETTINGS and the first stream's HEADERS in one write, as curl and h2load send them.
            io.netty.buffer.ByteBuf block = Unpooled.buffer();
            new io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder()
                    .encodeHeaders(1, H2TestClient.request("GET", "/small", "proxy.test"), block);
            io.netty.buffer.ByteBuf bytes = Unpooled.buffer()
                    .writeBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII))
                    .writeMedium(0).writeByte(0x4).writeByte(0).writeInt(0)
                    .writeMedium(block.readableBytes()).writeByte(0x1).writeByte(0x5).writeInt(1).writeBytes(block);
            block.release();
            byte[] raw = new byte[bytes.readableBytes()];
            bytes.readBytes(raw).release();
            socket.getOutputStream().write(raw);

            ProxyFixture.Logged logged = proxy.nextLogged("/small");
            assertNull(logged.error(), "the stream the GOAWAY accepted is served: " + logged.error());
            assertEquals(200, logged.status());
            stopped.toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aRequestBodyWithTrailersReachesTheOrigin() throws Exception {
        try (H2TestClient client = H2TestClient.connect(fixture.address, true)) {
            Http2FrameStream stream = client.send(H2TestClient.request("POST", "/sink", "proxy.test"), false);
            client.sendData(stream, Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII), false);
            client.channel().writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2HeadersFrame(
                    new io.netty.handler.codec.http2.DefaultHttp2Headers().add("x-sum", "5"), true).stream(stream))
                    .sync();
            client.untilStreamEnd(stream.id(), 5);
            RecordedRequest seen = origin.awaitRequests(1, Duration.ofSeconds(5)).get(0);
            assertEquals(5, seen.bodyBytes());
            assertEquals("chunked", seen.header("Transfer-Encoding"), "a body of unannounced length goes chunked");
            assertEquals("5", seen.trailer("x-sum"), "the trailing HEADERS frame is the chunked body's trailer: " + seen.trailers());
        }
    }
}
