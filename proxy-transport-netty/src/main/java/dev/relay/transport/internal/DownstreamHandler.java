package dev.relay.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;

/**
 * The last handler of a downstream HTTP/1.1 connection: runs one {@link ProxyCall} at a time, each
 * over its own {@link Http1DownstreamStream},
 * holds back pipelined requests until the current response is done, drains the unread rest of a
 * request body to keep the connection reusable, and enforces the keep-alive idle and request-header
 * timeouts.
 */
public final class DownstreamHandler extends ChannelInboundHandlerAdapter {
    private static final long DRAIN_IDLE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);
    private final ProxyEngine<?> engine;
    private final ArrayDeque<Object> queued = new ArrayDeque<>(2);
    private final ChannelHandler byteWatcher = new ByteWatcher();
    private Channel channel;
    private Http1DownstreamStream current;
    private boolean currentRequestComplete;
    private boolean discardingBody;
    private boolean awaitingRequest = true;
    private boolean headerStarted;
    private boolean reading = true;
    private int requestsOnConnection;
    private LazyTimer timer;

    private final long headerReadNanos;
    private final long keepAliveNanos;
    private final long bodyReadNanos;

    DownstreamHandler(ProxyEngine<?> engine, long headerReadNanos, long keepAliveNanos, long bodyReadNanos) {
        this.engine = engine;
        this.headerReadNanos = headerReadNanos;
        this.keepAliveNanos = keepAliveNanos;
        this.bodyReadNanos = bodyReadNanos;
    }

    /** This listener's request-body read timeout, in nanoseconds. */
    long bodyReadTimeoutNanos() {
        return bodyReadNanos;
    }

    /** The handler to place before the HTTP codec: it notices the first byte of each request header. */
    public ChannelHandler byteWatcher() {
        return byteWatcher;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        timer = new LazyTimer(engine.clock, channel.eventLoop(), this::onTimeout);
        engine.openConnections.incrementAndGet();
        armTimer(keepAliveNanos);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        engine.openConnections.decrementAndGet();
        if (timer != null) {
            timer.cancel();
        }
        Object m;
        while ((m = queued.poll()) != null) {
            ReferenceCountUtil.release(m);
        }
        Http1DownstreamStream exchange = current;
        if (exchange != null) {
            exchange.call().onDownstreamFailure(null);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Http1DownstreamStream exchange = current;
        if (exchange != null) {
            exchange.call().onDownstreamFailure(cause);
        }
        ctx.close();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Http1DownstreamStream exchange = current;
        if (exchange != null) {
            exchange.call().onDownstreamWritabilityChanged();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (current != null) {
            if (!currentRequestComplete && msg instanceof HttpContent content && !(msg instanceof HttpRequest)) {
                currentRequestComplete = msg instanceof LastHttpContent;
                current.onContent(content);
            } else {
                // A pipelined request: it waits until the current response is complete.
                queued.add(msg);
                setReading(false);
            }
            return;
        }
        if (!queued.isEmpty()) {
            queued.add(msg);
            return;
        }
        handle(msg);
    }

    private void handle(Object msg) {
        if (discardingBody) {
            if (msg instanceof HttpContent && !(msg instanceof HttpRequest)) {
                discardingBody = !(msg instanceof LastHttpContent);
                ReferenceCountUtil.release(msg);
                return;
            }
            discardingBody = false;
        }
        if (!(msg instanceof HttpRequest request)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (request.decoderResult().isFailure()
                && (request.decoderResult().cause() instanceof io.netty.handler.codec.PrematureChannelClosureException
                    || !channel.isActive())) {
            // The client closed in the middle of a request header (or after a 408): there is no
            // request to answer or log, only a connection that ended.
            ReferenceCountUtil.release(msg);
            return;
        }
        cancelTimer();
        awaitingRequest = false;
        headerStarted = false;
        requestsOnConnection++;
        ClientCertHeaders.apply(TlsHandshakeHandler.of(channel), request.headers());
        Http1DownstreamStream exchange = new Http1DownstreamStream(this, channel, request, requestsOnConnection > 1);
        ProxyCall<?> call = engine.newCall(exchange);
        exchange.bind(call);
        current = exchange;
        currentRequestComplete = msg instanceof LastHttpContent;
        if (request.decoderResult().isFailure()) {
            // The decoder discards everything after a malformed request; so do we.
            setReading(false);
            ReferenceCountUtil.release(msg);
            call.rejectMalformed(Http1DownstreamStream.malformedRequest(request.decoderResult().cause()));
            return;
        }
        call.start();
        if (msg instanceof HttpContent content && current == exchange) {
            exchange.onContent(content);
        }
    }

    /** Called by the call's stream once its response is done and {@code logging} has run. */
    void exchangeFinished(Http1DownstreamStream exchange, boolean reusable, boolean requestComplete) {
        if (current != exchange) {
            return;
        }
        current = null;
        if (!reusable || !channel.isActive()) {
            channel.close();
            return;
        }
        discardingBody = !requestComplete;
        awaitingRequest = true;
        headerStarted = false;
        long idle = keepAliveNanos;
        if (engine.isDraining()) {
            // This response promised keep-alive before the drain began, so the client may already
            // be sending its next request: serve it (with Connection: close), but do not wait long.
            idle = Math.min(idle, DRAIN_IDLE_NANOS);
        }
        armTimer(idle);
        drainQueued();
        if (current == null) {
            setReading(true);
        }
    }

    /**
     * Serves held-back pipelined messages: a request starts an exchange, and the body parts that
     * follow it go to that exchange, until one is waiting for its response again.
     */
    private void drainQueued() {
        Object m;
        while ((m = queued.peek()) != null) {
            if (current == null) {
                queued.poll();
                handle(m);
            } else if (!currentRequestComplete && m instanceof HttpContent content && !(m instanceof HttpRequest)) {
                queued.poll();
                currentRequestComplete = m instanceof LastHttpContent;
                current.onContent(content);
            } else {
                return;
            }
        }
    }

    /** Turns reading from the client on or off (backpressure and pipelining). */
    void setReading(boolean on) {
        if (on && !queued.isEmpty()) {
            // Pipelined requests are waiting: read no more until they have been served.
            on = false;
        }
        if (on != reading) {
            reading = on;
            channel.config().setAutoRead(on);
        }
    }

    /** Closes the connection if no request is in progress (graceful shutdown). Call on the event loop. */
    public void closeIfIdle() {
        if (current == null && channel != null) {
            channel.close();
        }
    }

    private void onRequestBytes() {
        if (awaitingRequest && !headerStarted && current == null) {
            headerStarted = true;
            cancelTimer();
            armTimer(headerReadNanos);
        }
    }

    private void armTimer(long nanos) {
        timer.arm(nanos);
    }

    private void cancelTimer() {
        timer.disarm();
    }

    private void onTimeout() {
        if (current != null || !channel.isActive()) {
            return;
        }
        if (headerStarted) {
            // Slowloris defence: a request header that does not arrive in time gets 408 and the door.
            DefaultFullHttpResponse timeout = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.REQUEST_TIMEOUT, Unpooled.EMPTY_BUFFER);
            timeout.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            timeout.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
            channel.writeAndFlush(timeout).addListener(ChannelFutureListener.CLOSE);
        } else {
            channel.close();
        }
    }

    /** Sees raw bytes before the codec, only to start the header timer. */
    private final class ByteWatcher extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (awaitingRequest && !headerStarted && msg instanceof ByteBuf buf && buf.isReadable()) {
                onRequestBytes();
            }
            ctx.fireChannelRead(msg);
        }
    }
}
