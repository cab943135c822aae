package dev.relay.testing;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * The server side of one accepted connection of a {@link TestOrigin}, after {@code HttpServerCodec}:
 * runs one {@link Exchange} at a time, in order.
 *
 * <p>Backpressure: the connection reads from the client only while it can use what it reads. It stops
 * reading while the socket is not writable (so {@code /echo} never buffers more than a write-buffer's
 * worth) and while a complete request is waiting for its response (so pipelined requests queue in the
 * socket, not in memory). Messages already decoded when reading stops wait in {@link #pending}.
 *
 * <p>Buffer ownership: every message that reaches {@link #channelRead} is released here exactly once,
 * after its {@link Route} has seen it (routes retain what they keep).
 */
final class OriginConnection extends ChannelInboundHandlerAdapter {
    private final TestOrigin origin;
    private final long id;
    private final boolean tls;
    private final InetSocketAddress remoteAddress;
    private final ArrayDeque<Object> pending = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private String sniHostName;
    private Exchange current;
    private boolean closing;
    private boolean draining;
    /** Set by {@code /close-on-next}: the next request head closes the connection unanswered. */
    private boolean stalled;
    /** The current exchange waits for {@link TestOrigin#releaseResponses()}. */
    private boolean holding;
    private boolean closeOnNextRequest;
    private boolean resetOnNextRequest;
    /** Armed while the connection idles between requests, when the origin closes idle connections. */
    private ScheduledFuture<?> idleClose;

    OriginConnection(TestOrigin origin, long id, boolean tls, InetSocketAddress remoteAddress) {
        this.origin = origin;
        this.id = id;
        this.tls = tls;
        this.remoteAddress = remoteAddress;
    }

    TestOrigin origin() {
        return origin;
    }

    long id() {
        return id;
    }

    boolean tls() {
        return tls;
    }

    InetSocketAddress remoteAddress() {
        return remoteAddress;
    }

    /** Nullable: no TLS, no SNI sent, or the handshake has not got that far. */
    String sniHostName() {
        return sniHostName;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SniCompletionEvent) {
            sniHostName = ((SniCompletionEvent) evt).hostname();
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        cancelIdleClose();
        if (closing) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!pending.isEmpty() || waitingForResponse()) {
            pending.add(msg);
        } else {
            dispatch(msg);
        }
        updateReadInterest();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (current != null) {
            current.onWritabilityChanged();
        }
        updateReadInterest();
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closing = true;
        cancelIdleClose();
        if (current != null) {
            current.onConnectionClosed();
            current = null;
        }
        releasePending();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releasePending();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Resets, TLS failures, a route's bug: the client sees the connection close. A test origin
        // has nobody to log to; the client under test is what reports.
        closing = true;
        releasePending();
        ctx.close();
    }

    /** Called by the exchange whenever its request or its response completes. */
    void exchangeProgressed(Exchange exchange) {
        if (exchange != current || !exchange.requestComplete() || !exchange.responseComplete()) {
            return;
        }
        current = null;
        if (exchange.closesConnection()) {
            stopServing();
            return;
        }
        drainPending();
        updateReadInterest();
        if (current == null && pending.isEmpty() && !closing) {
            armIdleClose();
        }
    }

    /**
     * Makes the next request that arrives on this connection close it without an answer (with a TCP
     * reset when {@code reset}): the origin's half of the keep-alive race, made deterministic.
     */
    void closeOnNextRequest(boolean reset) {
        closeOnNextRequest = true;
        resetOnNextRequest = reset;
    }

    private void armIdleClose() {
        long delay = origin.idleCloseDelayNanos();
        if (delay < 0) {
            return;
        }
        idleClose = ctx.executor().schedule(() -> {
            idleClose = null;
            if (current == null && pending.isEmpty() && !closing && ctx.channel().isActive()) {
                // A request may be on its way right now: that is the race this option exists to provoke.
                closing = true;
                origin.idleConnectionClosed();
                ctx.close();
            }
        }, delay, TimeUnit.NANOSECONDS);
    }

    private void cancelIdleClose() {
        if (idleClose != null) {
            idleClose.cancel(false);
            idleClose = null;
        }
    }

    /** No further requests on this connection: it is closing. */
    void stopServing() {
        closing = true;
        releasePending();
        updateReadInterest();
    }

    private boolean waitingForResponse() {
        return current != null && current.requestComplete();
    }

    private void dispatch(Object msg) {
        try {
            if (msg instanceof HttpObject && ((HttpObject) msg).decoderResult().isFailure()) {
                rejectMalformed(((HttpObject) msg).decoderResult().cause());
                return;
            }
            if (msg instanceof HttpRequest && closeOnNextRequest) {
                // Not recorded: the origin never looked at it, as if it had closed a moment earlier.
                origin.requestDiscarded();
                stopServing();
                if (resetOnNextRequest) {
                    Exchange.resetChannel(ctx.channel());
                } else {
                    ctx.close();
                }
                return;
            }
            if (msg instanceof HttpRequest) {
                HttpRequest request = (HttpRequest) msg;
                String path = OriginRoutes.pathOf(request.uri());
                current = new Exchange(this, ctx, request, path, origin.route(path));
                current.start();
            }
            if (msg instanceof HttpContent && current != null && !current.requestComplete()) {
                current.onRequestBody(((HttpContent) msg).content(), msg instanceof LastHttpContent,
                        msg instanceof LastHttpContent last ? last.trailingHeaders() : EmptyHttpHeaders.INSTANCE);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void drainPending() {
        // A drained request can complete synchronously and call back here: the outer loop carries on.
        if (draining) {
            return;
        }
        draining = true;
        try {
            while (!closing && !waitingForResponse() && !pending.isEmpty()) {
                dispatch(pending.poll());
            }
        } finally {
            draining = false;
        }
    }

    private void rejectMalformed(Throwable cause) {
        boolean canAnswer = current == null || !current.responseStarted();
        if (current != null) {
            current.onConnectionClosed();
            current = null;
        }
        stopServing();
        if (!canAnswer) {
            ctx.close();
            return;
        }
        byte[] body = ("malformed request: " + cause + '\n').getBytes(StandardCharsets.UTF_8);
        ByteBuf content = ctx.alloc().buffer(body.length).writeBytes(body);
        DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.BAD_REQUEST, content);
        response.headers()
                .set("X-Origin", origin.name())
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    /**
     * The current exchange will never answer ({@code /hang}, {@code /stall-body}): keep reading so that the
     * client's close is noticed (and the connection counted closed); anything pipelined waits in
     * {@link #pending} and is released with the connection.
     */
    void stalled() {
        stalled = true;
        updateReadInterest();
    }

    /**
     * The current exchange's response is held ({@link TestOrigin#holdResponses()}), or no longer: while it
     * is, keep reading, as for a stalled exchange, so that the client's close is noticed.
     */
    void holding(boolean holding) {
        this.holding = holding;
        updateReadInterest();
    }

    private void updateReadInterest() {
        boolean read = !closing && (stalled || holding
                || (pending.isEmpty() && !waitingForResponse() && ctx.channel().isWritable()));
        ChannelConfig config = ctx.channel().config();
        if (config.isAutoRead() != read) {
            config.setAutoRead(read);
        }
    }

    private void releasePending() {
        Object msg;
        while ((msg = pending.poll()) != null) {
            ReferenceCountUtil.release(msg);
        }
    }
}
