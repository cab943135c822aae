package dev.relay.transport.internal;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

import java.util.concurrent.TimeUnit;

/**
 * Resets an HTTP/2 stream (RST_STREAM {@code CANCEL}, by closing its child channel) on which nothing has
 * moved for the stream idle timeout: no frame from the client and no frame written towards it. It ends
 * the streams a client holds open to pin the proxy's resources without using them: a request body that
 * never comes (and is not covered by the body read timeout once the call stops reading), or a response
 * the client never lets through by keeping its flow-control window shut (the call stops writing when the
 * stream is not writable, so nothing moves). A stream that waits on a slow origin is idle too: the
 * timeout is long by default, and the upstream read timeout usually ends such a wait first.
 *
 * <p>Sits first in each stream's child pipeline; re-arming on every frame only moves a deadline
 * ({@link LazyTimer}). Confined to the connection's event loop.
 */
final class Http2StreamIdleTimeout extends ChannelDuplexHandler {
    private final EngineClock clock;
    private final long timeoutNanos;
    private LazyTimer timer;

    Http2StreamIdleTimeout(EngineClock clock, long timeoutNanos) {
        this.clock = clock;
        this.timeoutNanos = timeoutNanos;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timer = new LazyTimer(clock, ctx.channel().eventLoop(), () -> onIdle(ctx));
        timer.arm(timeoutNanos);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        timer.cancel();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        timer.cancel();
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        timer.arm(timeoutNanos);
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        timer.arm(timeoutNanos);
        ctx.write(msg, promise);
    }

    private void onIdle(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            ProxyEngine.LOG.log(System.Logger.Level.DEBUG, "HTTP/2 stream {0} idle for {1} ms: reset",
                    ctx.channel(), TimeUnit.NANOSECONDS.toMillis(timeoutNanos));
            ctx.channel().close();
        }
    }
}
