package dev.relay.transport.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

/**
 * One multiplexed upstream HTTP/2 connection, and the last handler of its pipeline (after Netty's
 * frame codec and multiplexer, which pass it the connection-level frames). It counts the streams it
 * carries against min(the peer's {@code SETTINGS_MAX_CONCURRENT_STREAMS}, the configured cap); after
 * a GOAWAY it drains (no new stream; open ones finish; then it closes); it PINGs on an interval and
 * closes when an answer is missing by the next; with no stream it closes after the idle timeout.
 * Confined to its event loop.
 */
final class Http2Connection extends ChannelInboundHandlerAdapter {
    static final System.Logger LOG = System.getLogger("dev.relay.proxy.upstream.h2");

    final Channel channel;
    final Http2Streams.KeyPool pool;
    private final Http2Counters.Group counters;
    private final int cap;
    private final long idleTimeoutNanos;
    private final long pingIntervalNanos;
    private final LazyTimer idleTimer;
    private final LazyTimer pingTimer;
    private final Promise<Http2Connection> settled;
    /** Reused for every stream: it keeps the multiplexer's context instead of searching the pipeline each time. */
    private final Http2StreamChannelBootstrap streamBootstrap;
    private int peerLimit = Integer.MAX_VALUE;
    private int streams;
    private boolean draining;
    /** The payload of the PING awaiting its ACK; -1 for none. */
    private long pingSent = -1;
    private long pings;

    /**
     * @param idleTimeoutNanos how long it stays open without a stream (0: closes with its last stream)
     * @param pingIntervalNanos 0 for no PING
     */
    Http2Connection(Channel channel, Http2Streams.KeyPool pool, Http2Counters.Group counters, int cap,
                    long idleTimeoutNanos, long pingIntervalNanos, EngineClock clock) {
        this.channel = channel;
        this.pool = pool;
        this.counters = counters;
        this.cap = cap;
        this.idleTimeoutNanos = idleTimeoutNanos;
        this.pingIntervalNanos = pingIntervalNanos;
        this.idleTimer = new LazyTimer(clock, channel.eventLoop(), () -> closeFor("idle timeout"));
        this.pingTimer = new LazyTimer(clock, channel.eventLoop(), this::onPingDue);
        this.settled = channel.eventLoop().newPromise();
        this.streamBootstrap = new Http2StreamChannelBootstrap(channel);
    }

    /** Completes when the peer's first SETTINGS arrived (its stream limit is known); fails if it closes first. */
    Future<Http2Connection> settled() {
        return settled;
    }

    /** Whether another stream may open now. */
    boolean hasRoom() {
        return !draining && channel.isActive() && streams < Math.min(cap, peerLimit);
    }

    /** Streams open now. */
    int streams() {
        return streams;
    }

    /**
     * Opens a stream whose channel runs {@code handler}; the slot is taken at once (before the open
     * completes), and freed when the stream channel closes.
     */
    Future<Http2StreamChannel> openStream(ChannelHandler handler, boolean reused) {
        streams++;
        idleTimer.disarm();
        counters.streamOpened(reused);
        // On the event loop the open is immediate, so the handler set here is the one the stream gets.
        Future<Http2StreamChannel> open = streamBootstrap.handler(handler).open();
        open.addListener(f -> {
            if (f.isSuccess()) {
                ((Channel) f.getNow()).closeFuture().addListener(c -> streamClosed());
            } else {
                streamClosed();
            }
        });
        return open;
    }

    private void streamClosed() {
        streams--;
        counters.streamClosed();
        // A waiter for a stream of this key (under the client's limits) takes the slot before the
        // connection counts as idle.
        pool.serveQueued();
        if (streams > 0) {
            return;
        }
        if (draining) {
            channel.close();
        } else if (idleTimeoutNanos == 0) {
            closeFor("no stream and no idle timeout");
        } else if (idleTimeoutNanos > 0) {
            idleTimer.arm(idleTimeoutNanos);
        }
    }

    private void closeFor(String reason) {
        LOG.log(System.Logger.Level.DEBUG, "closing upstream HTTP/2 connection {0}: {1}", channel, reason);
        drain();
        channel.close();
    }

    /**
     * Its pool group is gone (a reload replaced it): no new stream goes on it, and it closes now if
     * idle, else when its open streams are done.
     */
    void retire() {
        drain();
        if (streams == 0) {
            channel.close();
        }
    }

    /** No new stream goes on this connection; it closes when its open ones are done. */
    private void drain() {
        if (!draining) {
            draining = true;
            pool.remove(this);
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (pingIntervalNanos > 0) {
            pingTimer.arm(pingIntervalNanos);
        }
    }

    private void onPingDue() {
        if (!channel.isActive()) {
            return;
        }
        if (pingSent >= 0) {
            // The previous PING went unanswered for a whole interval: the peer (or the path) is gone.
            LOG.log(System.Logger.Level.INFO, "upstream HTTP/2 connection {0} did not answer a PING within {1} ms: "
                    + "dropped", channel, pingIntervalNanos / 1_000_000);
            counters.pingFailed();
            closeFor("PING not acknowledged");
            return;
        }
        pingSent = ++pings;
        channel.writeAndFlush(new DefaultHttp2PingFrame(pingSent), channel.voidPromise());
        pingTimer.arm(pingIntervalNanos);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof Http2SettingsFrame settings) {
                Long max = settings.settings().maxConcurrentStreams();
                if (max != null) {
                    peerLimit = (int) Math.min(Integer.MAX_VALUE, max);
                }
                if (!settled.isDone() && streams == 0 && idleTimeoutNanos > 0) {
                    // Ready with nobody waiting (they all went elsewhere): it must not linger unused.
                    idleTimer.arm(idleTimeoutNanos);
                }
                settled.trySuccess(this);
            } else if (msg instanceof Http2PingFrame ping && ping.ack()) {
                if (ping.content() == pingSent) {
                    pingSent = -1;
                }
            } else if (msg instanceof Http2GoAwayFrame goAway) {
                // The multiplexer already told the streams above the last stream id (they retry
                // elsewhere); those below it finish here.
                LOG.log(System.Logger.Level.DEBUG, "upstream HTTP/2 connection {0}: GOAWAY {1}, last stream {2}",
                        channel, goAway.errorCode(), goAway.lastStreamId());
                drain();
                if (streams == 0) {
                    channel.close();
                }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        drain();
        idleTimer.cancel();
        pingTimer.cancel();
        settled.tryFailure(new java.nio.channels.ClosedChannelException());
        counters.connectionClosed();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A connection error: the codec sent GOAWAY and closes; the streams hear it on their channels.
        LOG.log(System.Logger.Level.DEBUG, "upstream HTTP/2 connection {0} failed: {1}", channel, cause.toString());
        settled.tryFailure(cause);
        drain();
        ctx.close();
    }

    @Override
    public String toString() {
        return "Http2Connection{" + channel.id().asShortText() + ", streams=" + streams + "/" + Math.min(cap, peerLimit)
                + (draining ? ", draining" : "") + '}';
    }
}
