package dev.relay.transport.internal;

import dev.relay.core.HttpPeer;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/**
 * One upstream HTTP/1.1 connection and the last handler of its pipeline. While an exchange uses it,
 * everything the connection reports goes to that exchange's {@link Http1UpstreamStream}; while it
 * idles in the pool, any byte or close makes it stale and it leaves the pool at once
 * (stale-connection detection).
 */
final class UpstreamConnection extends ChannelInboundHandlerAdapter {
    final Channel channel;
    /** {@link HttpPeer#reuseKey()}, or a key bound to one client ({@link Http1Streams#poolKey}). */
    final Object key;
    private final UpstreamConnectionPool pool;
    private Http1UpstreamStream listener;
    private boolean idle;
    private boolean broken;
    private int requests;
    /** Closes the connection when it idled in the pool for too long. */
    final LazyTimer idleTimer;
    /** The read timeout of the request in progress (re-armed on every bit of progress). */
    final LazyTimer readTimer;
    /** Bytes arrived in the current read: the read timeout restarts when the read ends, if still armed. */
    private boolean readInThisBatch;

    final Http1ResponseDecoder decoder;
    private long readTimeoutNanos;

    UpstreamConnection(Channel channel, Object key, UpstreamConnectionPool pool,
                       Http1ResponseDecoder decoder, EngineClock clock) {
        this.channel = channel;
        this.key = key;
        this.pool = pool;
        this.decoder = decoder;
        decoder.reportRawReadsTo(this);
        this.idleTimer = new LazyTimer(clock, channel.eventLoop(), this::onIdleTimeout);
        this.readTimer = new LazyTimer(clock, channel.eventLoop(), this::onReadTimeout);
    }

    /** Starts the read timeout of the request in progress: every byte that arrives restarts it. */
    void armReadTimeout(long timeoutNanos) {
        readTimeoutNanos = timeoutNanos;
        if (timeoutNanos > 0) {
            readTimer.arm(timeoutNanos);
        }
    }

    /** Restarts an armed read timeout (bytes moved the other way count as progress too). */
    void readProgress() {
        if (readTimer.isArmed()) {
            readTimer.arm(readTimeoutNanos);
        }
    }

    /**
     * Told by the decoder of what arrives, before it decodes it: raw bytes restart the read timeout (a
     * response header that arrives slowly is progress too), and any byte on an idle pooled connection
     * makes it stale, closes it and is dropped. The restart waits for the end of the read
     * ({@link #channelReadComplete}): a read that completes the response disarms the timer first, so
     * the usual response costs no clock read for it. No timer can fire in between.
     *
     * @return whether {@code msg} is to be decoded (else it was released)
     */
    boolean onRawRead(ChannelHandlerContext ctx, Object msg) {
        if (idle) {
            dropUnaskedBytes(ctx, msg);
            return false;
        }
        readInThisBatch = true;
        return true;
    }

    private void onIdleTimeout() {
        if (idle) {
            pool.evict(this);
            close();
        }
    }

    private void onReadTimeout() {
        Http1UpstreamStream l = listener;
        if (l != null) {
            l.onReadTimeout(readTimeoutNanos);
        }
    }

    /** Hands the connection to {@code listener} for one request. */
    void attach(Http1UpstreamStream listener) {
        this.listener = listener;
        this.idle = false;
        this.requests++;
    }

    /** Stops reporting to the current listener. */
    void detach() {
        this.listener = null;
        readTimer.disarm();
    }

    /** How many requests this connection has carried, the current one included. */
    int requests() {
        return requests;
    }

    boolean isUsable() {
        return !broken && channel.isActive();
    }

    void markIdle() {
        idle = true;
        listener = null;
        readTimer.disarm();
    }

    boolean isIdle() {
        return idle;
    }

    /** The connection leaves HTTP for a tunnel, which owns it from now on: never pooled, no timers of its own. */
    void handOver() {
        broken = true;
        listener = null;
        idleTimer.cancel();
        readTimer.cancel();
    }

    /** Closes the connection for good (it never returns to the pool). */
    void close() {
        broken = true;
        listener = null;
        idleTimer.cancel();
        readTimer.cancel();
        channel.close();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Http1UpstreamStream l = listener;
        if (l != null) {
            l.onMessage(msg);
            return;
        }
        dropUnaskedBytes(ctx, msg);
    }

    /** Bytes on an idle connection: the origin said something we did not ask for. Unusable. */
    private void dropUnaskedBytes(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
        broken = true;
        pool.evict(this);
        ctx.close();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Http1UpstreamStream l = listener;
        if (l != null) {
            // First: a header held until the end of the read may complete the response and disarm the timer.
            l.onReadComplete();
        }
        if (readInThisBatch) {
            readInThisBatch = false;
            readProgress();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        broken = true;
        idleTimer.cancel();
        readTimer.cancel();
        Http1UpstreamStream l = listener;
        listener = null;
        if (l != null) {
            l.onInactive();
        } else {
            pool.evict(this);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        broken = true;
        Http1UpstreamStream l = listener;
        listener = null;
        if (l != null) {
            l.onException(cause);
        } else {
            pool.evict(this);
        }
        ctx.close();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Http1UpstreamStream l = listener;
        if (l != null) {
            l.onWritabilityChanged(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public String toString() {
        return "UpstreamConnection{" + key + ", " + channel.id().asShortText() + ", requests=" + requests + '}';
    }
}
