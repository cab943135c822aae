package dev.relay.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One request and its response on an {@link OriginConnection}: the state a {@link Route} drives. Every
 * method runs on the connection's event loop.
 *
 * <p>The origin records the request (in {@link TestOrigin#requests()}) when its last byte arrives, before
 * any route finishes the response: a client that has read a whole response can rely on the request being
 * recorded.
 */
final class Exchange {
    private final OriginConnection connection;
    private final ChannelHandlerContext ctx;
    private final HttpRequest request;
    private final String path;
    private final Route route;
    private final BodyDigest body = new BodyDigest();
    private final boolean headRequest;
    private boolean closeAfterResponse;
    private boolean requestComplete;
    private boolean responseStarted;
    private boolean responseComplete;
    private boolean responseHasNoBody;
    private RecordedRequest recorded;
    private final List<RecordedRequest.Header> requestTrailers = new ArrayList<>();

    // Pattern streaming: see streamPattern().
    private long streamOffset;
    private long streamLength;
    private boolean streaming;
    private boolean pumping;
    private boolean pumpAgain;

    Exchange(OriginConnection connection, ChannelHandlerContext ctx, HttpRequest request, String path,
             Route route) {
        this.connection = connection;
        this.ctx = ctx;
        this.request = request;
        this.path = path;
        this.route = route;
        this.headRequest = HttpMethod.HEAD.equals(request.method());
        this.closeAfterResponse = !HttpUtil.isKeepAlive(request);
    }

    // ---- driven by OriginConnection ----

    void start() {
        if (HttpUtil.is100ContinueExpected(request)) {
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
                    Unpooled.EMPTY_BUFFER));
        }
        route.onRequestHead(this);
    }

    /**
     * @param content borrowed from the caller, which releases it
     * @param trailers the trailer section that ends the body, when {@code last}; empty when none
     */
    void onRequestBody(ByteBuf content, boolean last, HttpHeaders trailers) {
        if (last) {
            trailers.forEach(field -> requestTrailers.add(new RecordedRequest.Header(field.getKey(), field.getValue())));
        }
        body.update(content);
        if (content.isReadable()) {
            route.onRequestBody(this, content);
        }
        if (last) {
            requestComplete = true;
            recorded = record(true);
            if (connection.origin().holdResponse(this::released)) {
                connection.holding(true);
            } else {
                answer();
            }
        }
    }

    private void answer() {
        route.onRequestComplete(this);
        connection.exchangeProgressed(this);
    }

    /** {@link TestOrigin#releaseResponses()} let this held exchange go: answer it on the event loop. */
    private void released() {
        ctx.executor().execute(() -> {
            connection.holding(false);
            if (ctx.channel().isActive()) {
                answer();
            }
        });
    }

    void onWritabilityChanged() {
        if (streaming && ctx.channel().isWritable()) {
            pump();
        }
    }

    void onConnectionClosed() {
        streaming = false;
        if (!requestComplete) {
            requestComplete = true;
            recorded = record(false);
        }
    }

    boolean requestComplete() {
        return requestComplete;
    }

    boolean responseComplete() {
        return responseComplete;
    }

    boolean closesConnection() {
        return closeAfterResponse;
    }

    // ---- for routes ----

    HttpRequest request() {
        return request;
    }

    String path() {
        return path;
    }

    String originName() {
        return connection.origin().name();
    }

    /** The id of the connection (as in {@code X-Origin-Connection}). */
    long connectionId() {
        return connection.id();
    }

    /** See {@link OriginConnection#closeOnNextRequest(boolean)}. */
    void closeConnectionOnNextRequest(boolean reset) {
        connection.closeOnNextRequest(reset);
    }

    /** The recorded request; available once the request is complete. */
    RecordedRequest recorded() {
        if (recorded == null) {
            throw new IllegalStateException("the request is not complete yet: " + request.uri());
        }
        return recorded;
    }

    /** Remembers that a test's {@link RequestHandler} threw, for {@link TestOrigin#handlerFailures()}. */
    void originHandlerFailed(Throwable failure) {
        connection.origin().handlerFailed(failure);
    }

    boolean responseStarted() {
        return responseStarted;
    }

    ChannelHandlerContext ctx() {
        return ctx;
    }

    /**
     * Sends a whole response with {@code Content-Length} (unless {@code headers} set a length or a
     * transfer coding). The body is omitted where HTTP forbids one (HEAD, 1xx, 204, 304).
     */
    void respond(HttpResponseStatus status, HttpHeaders headers, byte[] body) {
        boolean noBody = statusForbidsBody(status);
        if (!noBody && !headers.contains(HttpHeaderNames.CONTENT_LENGTH)
                && !headers.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
            headers.setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        }
        ByteBuf content = noBody || headRequest || body.length == 0
                ? Unpooled.EMPTY_BUFFER
                : ctx.alloc().buffer(body.length).writeBytes(body);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content, headers,
                EmptyHttpHeaders.INSTANCE);
        prepare(response);
        complete(ctx.writeAndFlush(response));
    }

    /** {@link #respond(HttpResponseStatus, HttpHeaders, byte[])} with one {@code Content-Type}. */
    void respond(HttpResponseStatus status, CharSequence contentType, byte[] body) {
        HttpHeaders headers = new DefaultHttpHeaders();
        headers.set(HttpHeaderNames.CONTENT_TYPE, contentType);
        respond(status, headers, body);
    }

    /** Writes (without flushing) the response head; body pieces and {@link #finish()} follow. */
    ChannelFuture sendHead(HttpResponse head) {
        if (responseStarted) {
            throw new IllegalStateException("response already started for " + request.uri());
        }
        prepare(head);
        return ctx.write(head);
    }

    /** Writes and flushes a piece of the body. Takes ownership of {@code content}. */
    void sendContent(ByteBuf content) {
        if (!responseStarted || responseComplete || responseHasNoBody) {
            content.release();
            return;
        }
        ctx.writeAndFlush(new DefaultHttpContent(content));
    }

    /** Ends the response body. */
    void finish() {
        if (!responseStarted) {
            throw new IllegalStateException("finish() before sendHead() for " + request.uri());
        }
        complete(ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT));
    }

    /**
     * Sends {@code head} and then {@code length} bytes of {@link BytePattern}, generated a chunk at a time
     * while the channel is writable, so any length streams in constant memory.
     */
    void streamPattern(HttpResponse head, long length) {
        sendHead(head);
        if (responseHasNoBody || length == 0) {
            finish();
            return;
        }
        streamOffset = 0;
        streamLength = length;
        streaming = true;
        pump();
    }

    /**
     * Ends the exchange by closing the connection once {@code write} completes (whatever was written),
     * without finishing the response.
     */
    void closeAfter(ChannelFuture write) {
        responseStarted = true;
        responseComplete = true;
        closeAfterResponse = true;
        ctx.flush();
        write.addListener(ChannelFutureListener.CLOSE);
        connection.stopServing();
    }

    /**
     * The value of query parameter {@code name} of the request as a number, or {@code defaultValue} when the
     * request has none.
     *
     * @throws IllegalArgumentException when the value is not a number of at least {@code min}
     */
    long longParameter(String name, long defaultValue, long min) {
        List<String> values = new QueryStringDecoder(request.uri()).parameters().get(name);
        if (values == null || values.isEmpty()) {
            return defaultValue;
        }
        String raw = values.get(0);
        long value;
        try {
            value = Long.parseLong(raw);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + ": " + raw + " (expected: a number >= " + min + ")");
        }
        if (value < min) {
            throw new IllegalArgumentException(name + ": " + raw + " (expected: a number >= " + min + ")");
        }
        return value;
    }

    /** The value of query parameter {@code name}, or {@code defaultValue} when the request has none. */
    String stringParameter(String name, String defaultValue) {
        List<String> values = new QueryStringDecoder(request.uri()).parameters().get(name);
        return values == null || values.isEmpty() ? defaultValue : values.get(0);
    }

    /** Whether query parameter {@code name} is present with the value {@code true} or {@code 1}. */
    boolean flagParameter(String name) {
        List<String> values = new QueryStringDecoder(request.uri()).parameters().get(name);
        return values != null && !values.isEmpty() && ("true".equals(values.get(0)) || "1".equals(values.get(0)));
    }

    /** Runs {@code task} on the connection's event loop after {@code millis}, unless the connection closed. */
    ScheduledFuture<?> schedule(long millis, Runnable task) {
        Channel channel = ctx.channel();
        return ctx.executor().schedule(() -> {
            if (channel.isActive()) {
                task.run();
            }
        }, millis, TimeUnit.MILLISECONDS);
    }

    /**
     * Writes and flushes bytes exactly as given, bypassing the HTTP encoder, so that a route can send
     * what no encoder would produce (a broken status line, a header without a colon, conflicting framing,
     * more body than announced). The encoder stays ready for a later, well-formed response. Takes ownership
     * of {@code bytes}.
     */
    ChannelFuture writeRaw(ByteBuf bytes) {
        responseStarted = true;
        ChannelHandlerContext codec = ctx.pipeline().context(HttpServerCodec.class);
        return codec.writeAndFlush(bytes);
    }

    /** Writes the ISO-8859-1 bytes of {@code text} raw; see {@link #writeRaw(ByteBuf)}. */
    ChannelFuture writeRaw(String text) {
        byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        return writeRaw(ctx.alloc().buffer(bytes.length).writeBytes(bytes));
    }

    /**
     * Marks a raw response ({@link #writeRaw}) complete: the connection serves the next request, or closes
     * after {@code lastWrite} when {@code close}.
     */
    void completeRaw(ChannelFuture lastWrite, boolean close) {
        responseStarted = true;
        if (close) {
            closeAfterResponse = true;
        }
        complete(lastWrite);
    }

    /**
     * Ends the exchange by resetting the connection: {@code SO_LINGER} 0, then close, so the peer gets a
     * TCP RST (and loses whatever it had not read yet) instead of an orderly FIN.
     */
    void reset() {
        responseStarted = true;
        responseComplete = true;
        closeAfterResponse = true;
        streaming = false;
        connection.stopServing();
        resetChannel(ctx.channel());
    }

    static void resetChannel(Channel channel) {
        if (channel.isOpen()) {
            channel.config().setOption(ChannelOption.SO_LINGER, 0);
            channel.close();
        }
    }

    /**
     * Leaves the response unfinished for good (a stall or a hang): the connection waits until the client
     * closes it.
     */
    void stall() {
        // responseComplete stays false, so the connection never answers; it keeps reading only to notice
        // the client leaving.
        connection.stalled();
    }

    private void pump() {
        // flush() can report writability synchronously, which calls back into pump(): loop, don't recurse.
        if (pumping) {
            pumpAgain = true;
            return;
        }
        pumping = true;
        try {
            Channel channel = ctx.channel();
            do {
                pumpAgain = false;
                while (streaming && streamOffset < streamLength && channel.isWritable()) {
                    int length = (int) Math.min(BytePattern.CHUNK_SIZE, streamLength - streamOffset);
                    ctx.write(new DefaultHttpContent(BytePattern.chunk(ctx.alloc(), streamOffset, length)));
                    streamOffset += length;
                }
                if (!streaming) {
                    return;
                }
                if (streamOffset == streamLength) {
                    streaming = false;
                    finish();
                    return;
                }
                ctx.flush();
            } while (pumpAgain);
        } finally {
            pumping = false;
        }
    }

    private void prepare(HttpResponse head) {
        HttpHeaders headers = head.headers();
        headers.set("X-Origin", originName());
        headers.set("X-Origin-Connection", connection.id());
        boolean noBody = headRequest || statusForbidsBody(head.status());
        responseHasNoBody = noBody;
        boolean http10 = HttpVersion.HTTP_1_0.equals(request.protocolVersion());
        if (!noBody && http10 && HttpUtil.isTransferEncodingChunked(head)) {
            // An HTTP/1.0 client cannot parse chunks: delimit the body by closing instead.
            HttpUtil.setTransferEncodingChunked(head, false);
        }
        if (!noBody && !HttpUtil.isContentLengthSet(head) && !HttpUtil.isTransferEncodingChunked(head)) {
            closeAfterResponse = true;
        }
        if (closeAfterResponse) {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (http10) {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        responseStarted = true;
    }

    private void complete(ChannelFuture lastWrite) {
        responseComplete = true;
        streaming = false;
        if (closeAfterResponse) {
            lastWrite.addListener(ChannelFutureListener.CLOSE);
        }
        connection.exchangeProgressed(this);
    }

    private RecordedRequest record(boolean complete) {
        List<RecordedRequest.Header> headers = new ArrayList<>(request.headers().size());
        for (Iterator<Map.Entry<String, String>> it = request.headers().iteratorAsString(); it.hasNext(); ) {
            Map.Entry<String, String> header = it.next();
            headers.add(new RecordedRequest.Header(header.getKey(), header.getValue()));
        }
        RecordedRequest r = new RecordedRequest(request.method().name(), request.uri(), path,
                request.protocolVersion().text(), headers, requestTrailers, body.bytes(), body.sha256Hex(), complete,
                connection.sniHostName(), connection.tls(), connection.id(), connection.remoteAddress());
        connection.origin().record(r);
        return r;
    }

    static boolean statusForbidsBody(HttpResponseStatus status) {
        return status.codeClass() == HttpStatusClass.INFORMATIONAL
                || status.code() == HttpResponseStatus.NO_CONTENT.code()
                || status.code() == HttpResponseStatus.NOT_MODIFIED.code();
    }

    static HttpResponse head(HttpResponseStatus status) {
        return new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
    }
}
