package dev.relay.transport.internal;

import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.ProxyHttp;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.transport.ProxyOptions;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.resolver.DefaultAddressResolverGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The downstream HTTP/1.1 side on an {@link EmbeddedChannel} with the real server codec, the
 * connection handler and the phase engine, answering from {@code requestFilter} (no upstream): how
 * responses are framed for HTTP/1.1 and HTTP/1.0 clients and HEAD requests, which requests close the
 * connection, how malformed and oversized heads are answered, and that pipelined requests are
 * answered one at a time, in order.
 */
@Timeout(10)
class Http1DownstreamTest {
    private EmbeddedChannel channel;
    private final AnsweringProxy proxy = new AnsweringProxy();

    private void open() {
        long minute = TimeUnit.MINUTES.toNanos(1);
        open(EngineClock.system(), minute, minute);
    }

    private void open(EngineClock clock, long headerReadNanos, long keepAliveNanos) {
        ProxyOptions options = ProxyOptions.builder().maxHeaderBytes(1024).build();
        ProxyEngine<Object> engine = new ProxyEngine<>(proxy, options, List.of(), NioSocketChannel.class,
                DefaultAddressResolverGroup.INSTANCE, clock);
        long minute = TimeUnit.MINUTES.toNanos(1);
        DownstreamHandler handler = engine.newDownstreamHandler(headerReadNanos, keepAliveNanos, minute);
        channel = new EmbeddedChannel(new Http1ServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(options.maxRequestLineBytes())
                .setMaxHeaderSize(options.maxHeaderBytes()), handler), handler);
    }

    @AfterEach
    void close() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    private void receive(String text) {
        channel.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
        channel.runPendingTasks();
    }

    private String sent() {
        channel.runPendingTasks();
        return OutboundText.drain(channel);
    }

    @Test
    void anIdleKeepAliveConnectionHoldsOneScheduledTaskAndClosesWhenItsKeepAliveTimeoutPasses() {
        ManualEngineClock clock = new ManualEngineClock();
        open(clock, TimeUnit.SECONDS.toNanos(30), TimeUnit.SECONDS.toNanos(10));
        receive("GET /client-address HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(sent().endsWith("\r\n\r\nfixed"));

        assertEquals(1, clock.pendingTasks(), "one timer for the idle and send deadlines");
        assertFalse(channel.hasAttr(ClientAddresses.FROM_PROXY_HEADER),
                "looking for a PROXY header's addresses made no attribute");
        clock.advance(java.time.Duration.ofSeconds(9));
        channel.runPendingTasks();
        assertTrue(channel.isActive());
        clock.advance(java.time.Duration.ofSeconds(1));
        channel.runPendingTasks();
        assertFalse(channel.isActive(), "closed after the keep-alive timeout");
    }

    @Test
    void theFirstByteOfAHeaderSeenByTheCodecStartsTheHeaderTimeout() {
        ManualEngineClock clock = new ManualEngineClock();
        open(clock, TimeUnit.SECONDS.toNanos(5), TimeUnit.SECONDS.toNanos(60));
        receive("GET /fixed HTTP/1.1\r\nHo");

        clock.advance(java.time.Duration.ofSeconds(5));
        channel.runPendingTasks();
        String response = sent();
        assertTrue(response.startsWith("HTTP/1.1 408 "), response);
        assertFalse(channel.isActive());
    }

    @Test
    void aBodyOfUnknownLengthIsChunkedForAnHttp11Client() {
        open();
        receive("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");

        String response = sent();
        assertTrue(response.startsWith("HTTP/1.1 200 OK\r\n"), response);
        assertTrue(response.contains("transfer-encoding: chunked\r\n"), response);
        assertTrue(response.endsWith("5\r\nhello\r\n0\r\n\r\n"), response);
        assertTrue(channel.isActive(), "kept alive");
    }

    @Test
    void aBodyOfUnknownLengthEndsTheConnectionForAnHttp10Client() {
        open();
        receive("GET /stream HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");

        String response = sent();
        assertTrue(response.startsWith("HTTP/1.1 200 OK\r\n"), response);
        assertTrue(response.contains("connection: close\r\n"), response);
        assertFalse(response.toLowerCase().contains("transfer-encoding"), response);
        assertTrue(response.endsWith("\r\n\r\nhello"), response);
        assertFalse(channel.isActive(), "the end of the body is the end of the connection");
    }

    @Test
    void anHttp10ClientAskingForKeepAliveGetsItWhenTheLengthIsKnown() {
        open();
        receive("GET /fixed HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");

        String response = sent();
        assertTrue(response.contains("connection: keep-alive\r\n"), response);
        assertTrue(response.endsWith("\r\n\r\nfixed"), response);
        assertTrue(channel.isActive());
    }

    @Test
    void theAnswerToHeadKeepsItsLengthButSendsNoBody() {
        open();
        receive("HEAD /fixed HTTP/1.1\r\nHost: x\r\n\r\n");

        String response = sent();
        assertTrue(response.contains("Content-Length: 5\r\n"), response);
        assertTrue(response.endsWith("\r\n\r\n"), response);
        assertTrue(channel.isActive());
    }

    @Test
    void aTransferEncodingSetByAModuleNeverFramesABodilessAnswerOrOneWithALength() {
        open();
        receive("GET /te-204 HTTP/1.1\r\nHost: x\r\n\r\n");
        String noContent = sent();
        assertTrue(noContent.startsWith("HTTP/1.1 204 No Content\r\n"), noContent);
        assertFalse(noContent.toLowerCase().contains("transfer-encoding"), noContent);
        assertTrue(noContent.endsWith("\r\n\r\n"), "no last chunk after the header: " + noContent);

        receive("HEAD /te-fixed HTTP/1.1\r\nHost: x\r\n\r\n");
        String head = sent();
        assertFalse(head.toLowerCase().contains("transfer-encoding"), head);
        assertTrue(head.endsWith("\r\n\r\n"), head);

        receive("GET /te-fixed HTTP/1.1\r\nHost: x\r\n\r\n");
        String fixed = sent();
        assertFalse(fixed.toLowerCase().contains("transfer-encoding"), fixed);
        assertTrue(fixed.endsWith("\r\n\r\nte-fixed"), "the body as is, not chunked: " + fixed);
        assertTrue(channel.isActive());
    }

    @Test
    void connectionCloseFromTheClientIsHonoured() {
        open();
        receive("GET /fixed HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        String response = sent();
        assertTrue(response.contains("connection: close\r\n"), response);
        assertFalse(channel.isActive());
    }

    @Test
    void aMalformedRequestGets400AndTheConnectionCloses() {
        open();
        receive("GET /fixed HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");

        String response = sent();
        assertTrue(response.startsWith("HTTP/1.1 400 "), response);
        assertTrue(response.contains("connection: close\r\n"), response);
        assertFalse(channel.isActive());
        assertEquals(List.of("400 H1_ERROR"), proxy.logged);
    }

    @Test
    void anOversizedHeaderGets431() {
        open();
        receive("GET /fixed HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(2000) + "\r\n\r\n");

        String response = sent();
        assertTrue(response.startsWith("HTTP/1.1 431 "), response);
        assertFalse(channel.isActive());
    }

    @Test
    void pipelinedRequestsAreAnsweredOneAtATimeInOrder() {
        open();
        CompletableFuture<Boolean> firstHeld = new CompletableFuture<>();
        proxy.holds.put("/first", firstHeld);
        receive("GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /fixed HTTP/1.1\r\nHost: x\r\n\r\n");

        assertEquals("", sent(), "nothing until the first request's answer");
        assertEquals(List.of("/first"), proxy.seen, "the second request waits for the first response");

        firstHeld.complete(Boolean.FALSE);
        String responses = sent();
        int first = responses.indexOf("first");
        int second = responses.indexOf("fixed");
        assertTrue(first > 0 && second > first, responses);
        assertEquals(List.of("/first", "/fixed"), proxy.seen);
        assertTrue(channel.isActive());
    }

    /** Answers every request itself: {@code /stream} without a length, anything else with one. */
    static final class AnsweringProxy implements ProxyHttp<Object> {
        final List<String> seen = new CopyOnWriteArrayList<>();
        final List<String> logged = new CopyOnWriteArrayList<>();
        final Map<String, CompletableFuture<Boolean>> holds = new ConcurrentHashMap<>();

        @Override
        public Object newCtx() {
            return new Object();
        }

        @Override
        public CompletionStage<Boolean> requestFilter(Session session, Object ctx) {
            String uri = session.requestHeader().uri();
            seen.add(uri);
            if (uri.equals("/client-address")) {
                seen.add(String.valueOf(session.clientAddress()));
            }
            String path = uri.equals("/client-address") ? "/fixed" : uri;
            CompletableFuture<Boolean> hold = holds.remove(path);
            if (hold != null) {
                return hold.thenCompose(ignored -> answer(session, path));
            }
            return answer(session, path);
        }

        private static CompletionStage<Boolean> answer(Session session, String path) {
            if (path.equals("/te-204") || path.equals("/te-fixed")) {
                // A module that frames the answer itself, wrongly: the stream owns the framing.
                ResponseHeader header = ResponseHeader.of(path.equals("/te-204") ? 204 : 200);
                header.headers().set("Transfer-Encoding", "chunked");
                byte[] body = path.equals("/te-204") ? new byte[0] : path.substring(1).getBytes(StandardCharsets.US_ASCII);
                return session.respond(header, body).thenApply(v -> true);
            }
            if (path.equals("/stream")) {
                session.writeResponseHeader(ResponseHeader.of(200), false);
                return session.writeResponseBody("hello".getBytes(StandardCharsets.US_ASCII), true)
                        .thenApply(v -> true);
            }
            return session.respond(ResponseHeader.of(200), path.substring(1).getBytes(StandardCharsets.US_ASCII))
                    .thenApply(v -> true);
        }

        @Override
        public CompletionStage<HttpPeer> upstreamPeer(Session session, Object ctx) {
            throw new AssertionError("every request is answered by requestFilter");
        }

        @Override
        public CompletionStage<Void> logging(Session session, ProxyError error, Object ctx) {
            if (error != null) {
                logged.add(session.responseStatus() + " " + error.type());
            }
            return Stages.done();
        }
    }
}
