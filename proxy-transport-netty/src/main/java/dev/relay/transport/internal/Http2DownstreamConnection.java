package dev.relay.transport.internal;

import dev.relay.transport.Http2Settings;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

import java.util.concurrent.TimeUnit;

/**
 * The last handler of a downstream HTTP/2 connection (after Netty's frame codec and stream
 * multiplexer, which give each stream its own child channel and {@link Http2StreamHandler}): counts
 * the connection, closes it when no stream was open for the keep-alive timeout, detects a dead peer
 * with PING (one after {@link Http2Settings#pingInterval()} without a frame read, closed when its
 * acknowledgement does not come within {@link Http2Settings#pingTimeout()}), and stops with GOAWAY
 * when the server drains (in-flight streams complete; Netty's graceful shutdown closes after the last).
 */
final class Http2DownstreamConnection extends ChannelInboundHandlerAdapter implements DownstreamConnection {
    /** A graceful-shutdown timeout for Netty's codec: wait until the open streams are done, however long. */
    private static final long UNTIL_STREAMS_END = -1;
    private final ProxyEngine<?> engine;
    private final long keepAliveNanos;
    private final long bodyReadNanos;
    private final long pingIntervalNanos;
    private final long pingTimeoutNanos;
    private @Nullable Channel channel;
    private @Nullable Http2FrameCodec codec;
    private @Nullable LazyTimer idleTimer;
    private @Nullable LazyTimer pingTimer;
    private boolean counted;
    private int openStreams;
    private long streamsStarted;
    private long lastReadNanos;
    private boolean awaitingPingAck;
    private long pingPayload;

    Http2DownstreamConnection(ProxyEngine<?> engine, Http2Settings settings, long keepAliveNanos, long bodyReadNanos) {
        this.engine = engine;
        this.keepAliveNanos = keepAliveNanos;
        this.bodyReadNanos = bodyReadNanos;
        this.pingIntervalNanos = settings.pingInterval().toNanos();
        this.pingTimeoutNanos = settings.pingTimeout().toNanos();
    }

    ProxyEngine<?> engine() {
        return engine;
    }

    long bodyReadTimeoutNanos() {
        return bodyReadNanos;
    }

    /** The handler to place before the frame codec: every byte read counts as a sign of life. */
    io.netty.channel.ChannelHandler activityWatcher() {
        return new ActivityWatcher();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        // Added when the protocol is known, on a connection that is usually active already.
        if (ctx.channel().isActive()) {
            start(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        start(ctx);
        ctx.fireChannelActive();
    }

    private void start(ChannelHandlerContext ctx) {
        if (counted) {
            return;
        }
        counted = true;
        channel = ctx.channel();
        codec = ctx.pipeline().get(Http2FrameCodec.class);
        engine.openConnections.incrementAndGet();
        lastReadNanos = engine.clock.nanoTime();
        idleTimer = new LazyTimer(engine.clock, channel.eventLoop(), this::onIdle);
        pingTimer = new LazyTimer(engine.clock, channel.eventLoop(), this::onPingTimer);
        idleTimer.arm(keepAliveNanos);
        pingTimer.arm(pingIntervalNanos);
        if (engine.isDraining()) {
            // Became HTTP/2 after the stop began: GOAWAY at once, but the streams that came with the
            // preface (it names them as accepted) are served; the stop's own deadline ends what is left.
            channel.eventLoop().execute(() -> drain(true, UNTIL_STREAMS_END));
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stop();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stop();
    }

    private void stop() {
        if (!counted) {
            return;
        }
        counted = false;
        engine.openConnections.decrementAndGet();
        idleTimer.cancel();
        pingTimer.cancel();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        // Connection-level frames (SETTINGS, PING, GOAWAY ...) that Netty has already acted on.
        if (msg instanceof Http2PingFrame ping && ping.ack() && awaitingPingAck && ping.content() == pingPayload) {
            awaitingPingAck = false;
            pingTimer.arm(pingIntervalNanos);
        }
        ReferenceCountUtil.release(msg);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // What reaches here is a broken connection: the client's doing, not the operator's.
        ProxyEngine.LOG.log(System.Logger.Level.DEBUG, "HTTP/2 connection from {0} failed: {1}",
                ctx.channel().remoteAddress(), String.valueOf(cause));
        if (cause instanceof io.netty.handler.codec.http2.Http2Exception) {
            // A connection error the codec found (a flood, a protocol error): it fires the error here
            // first, then sends GOAWAY with its code and closes. Closing now would send GOAWAY NO_ERROR
            // before it, and the client would not learn why (ENHANCE_YOUR_CALM, PROTOCOL_ERROR ...).
            return;
        }
        closeNow();
    }

    /** A stream opened; returns whether the connection carried another one before it. */
    boolean streamOpened() {
        openStreams++;
        idleTimer.disarm();
        return ++streamsStarted > 1;
    }

    /** A stream's channel closed. */
    void streamClosed() {
        if (--openStreams == 0 && channel.isActive()) {
            idleTimer.arm(keepAliveNanos);
        }
    }

    private void onIdle() {
        if (openStreams == 0 && channel.isActive()) {
            // GOAWAY, then close: no stream is open, so Netty closes as soon as the GOAWAY is written.
            channel.close();
        }
    }

    private void onPingTimer() {
        if (!channel.isActive()) {
            return;
        }
        if (awaitingPingAck) {
            ProxyEngine.LOG.log(System.Logger.Level.DEBUG, "HTTP/2 client {0} did not answer a PING within {1} ms: "
                    + "closing", channel.remoteAddress(), TimeUnit.NANOSECONDS.toMillis(pingTimeoutNanos));
            closeNow();
            return;
        }
        long quiet = engine.clock.nanoTime() - lastReadNanos;
        if (quiet < pingIntervalNanos) {
            pingTimer.arm(pingIntervalNanos - quiet);
            return;
        }
        awaitingPingAck = true;
        pingPayload = engine.clock.nanoTime();
        channel.pipeline().context(this).writeAndFlush(new DefaultHttp2PingFrame(pingPayload));
        pingTimer.arm(pingTimeoutNanos);
    }

    @Override
    public void drain(boolean closeIdle, long graceMillis) {
        if (channel == null || !channel.isActive()) {
            return;
        }
        if (codec != null) {
            codec.gracefulShutdownTimeoutMillis(graceMillis);
        }
        // Netty's close of an HTTP/2 connection: GOAWAY with the last stream id it accepted, new
        // streams refused, the connection closed once the open ones are done (or the timeout ends).
        channel.close();
    }

    @Override
    public void closeNow() {
        if (channel == null) {
            return;
        }
        if (codec != null) {
            codec.gracefulShutdownTimeoutMillis(0);
        }
        channel.close();
    }

    /** Notes the time of every read, for PING-based idle detection. */
    private final class ActivityWatcher extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            lastReadNanos = engine.clock.nanoTime();
            ctx.fireChannelRead(msg);
        }
    }
}
