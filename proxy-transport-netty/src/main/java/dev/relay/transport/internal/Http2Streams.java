package dev.relay.transport.internal;

import dev.relay.core.Alpn;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.core.ProxyError;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Future;
import org.jspecify.annotations.Nullable;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * HTTP/2 upstream streams over multiplexed connections. Per event loop (a {@link FastThreadLocal}
 * partition, touched by that loop only: no locks) and per pool key, a {@link KeyPool} holds the
 * ready connections and those being opened. A stream goes on the oldest connection with room under
 * min(the peer's {@code SETTINGS_MAX_CONCURRENT_STREAMS}, {@link PeerOptions#maxH2Streams()}); when
 * all are full it waits for a connection being opened that is expected to have room, and only when
 * there is none a new connection opens. A connection is ready when the peer's first SETTINGS arrived
 * (its limit is then known). A connection that a GOAWAY or a failed PING drains leaves the pool.
 *
 * <p>Under {@link PeerLimits} (the standalone client's) a key has at most that many connections, open or
 * being opened, on an event loop; when all are full, acquirers wait in a bounded {@link PeerWaitQueue},
 * first come first served, for a stream to close or a connection to leave.
 */
final class Http2Streams implements UpstreamStreams {
    /** Servers do not open streams to us (push is off): any that comes is closed at once. */
    private static final ChannelHandler REFUSE_INBOUND = new RefuseInbound();

    private final FastThreadLocal<Map<Object, KeyPool>> partitions = new FastThreadLocal<>() {
        @Override
        protected Map<Object, KeyPool> initialValue() {
            return new HashMap<>();
        }
    };
    private final UpstreamConnector connector;
    private final EngineClock clock;
    private final Duration defaultIdleTimeout;
    private final int maxResponseHeaderBytes;
    private final dev.relay.transport.Http2Settings windows;
    private final ChosenProtocols chosen;
    private final java.util.function.LongPredicate retiredGroups;
    private final PeerLimits limits;
    final Http2Counters counters = new Http2Counters();

    /**
     * @param retiredGroups whether a pool group was retired (the HTTP/1.1 pool keeps the list): a
     *                      connection opened for one after its retirement retires once it has served
     * @param windows whose stream and connection windows the upstream connections advertise too: a
     *                response from an origin streams as fast as an upload from a client
     */
    Http2Streams(UpstreamConnector connector, EngineClock clock, java.util.function.LongPredicate retiredGroups,
                 Duration defaultIdleTimeout, int maxResponseHeaderBytes, dev.relay.transport.Http2Settings windows,
                 ChosenProtocols chosen, PeerLimits limits) {
        this.limits = limits;
        this.retiredGroups = retiredGroups;
        this.windows = windows;
        this.connector = connector;
        this.clock = clock;
        this.defaultIdleTimeout = defaultIdleTimeout;
        this.maxResponseHeaderBytes = maxResponseHeaderBytes;
        this.chosen = chosen;
    }

    @Override
    public void acquire(HttpPeer peer, @Nullable ClientAddresses addresses, EventLoop loop,
                        ConnectionChoice connection, Callback callback) {
        Object key = Http1Streams.poolKey(peer, addresses);
        pool(key, loop).acquire(new StreamWaiter(peer, addresses, connection, callback, clock.nanoTime()));
    }

    /**
     * Takes a connection that was opened elsewhere and negotiated h2 (an {@code h2-or-h1} peer's first
     * connection) into the pool under {@code key}; {@code callback} gets the first stream on it.
     */
    void adopt(Channel channel, HttpPeer peer, Object key, Callback callback, long connectStartNanos) {
        pool(key, channel.eventLoop()).adopt(channel, new StreamWaiter(peer, null, ConnectionChoice.ANY, callback, connectStartNanos));
    }

    /**
     * Retires the connections of pool group {@code groupKey} in the calling event loop's partition (see
     * {@link Http2Connection#retire()}), and those still being opened for it once they are ready: the
     * group was dropped or replaced by a reload and nothing will ask for it again.
     *
     * @return how many connections it closed at once (the idle ones)
     */
    int retire(long groupKey) {
        int closed = 0;
        for (KeyPool pool : List.copyOf(partitions.get().values())) {
            if (groupOf(pool.key) == groupKey) {
                pool.retired = true;
                for (Http2Connection c : List.copyOf(pool.connections)) {
                    closed += c.streams() == 0 ? 1 : 0;
                    c.retire();
                }
            }
        }
        return closed;
    }

    private static long groupOf(Object key) {
        if (key instanceof Http1Streams.ClientBoundKey bound) {
            return bound.peer().groupKey();
        }
        return ((HttpPeer.PoolKey) key).groupKey();
    }

    private KeyPool pool(Object key, EventLoop loop) {
        Map<Object, KeyPool> partition = partitions.get();
        KeyPool pool = partition.get(key);
        if (pool == null) {
            pool = new KeyPool(key, loop);
            // A request that picked its peer before a reload retired the group, asking after it.
            pool.retired = retiredGroups.test(groupOf(key));
            partition.put(key, pool);
        }
        return pool;
    }

    /** Drops the calling event loop's partition (see {@link UpstreamConnectionPool#forgetPartition()}). */
    void forgetPartition() {
        partitions.remove();
    }

    /** The connections of one pool key on one event loop. */
    final class KeyPool {
        private final Object key;
        private final List<Http2Connection> connections = new ArrayList<>(2);
        private final List<Pending> pending = new ArrayList<>(1);
        /** Under {@link PeerLimits}: who waits for a stream while every connection allowed is full. */
        private final PeerWaitQueue queued = new PeerWaitQueue();
        /** Its group was retired: a connection being opened for it serves its waiters, then retires. */
        private boolean retired;

        /** The event loop whose partition holds it: its connections run there. */
        private final EventLoop loop;

        KeyPool(Object key, EventLoop loop) {
            this.key = key;
            this.loop = loop;
        }

        private void acquire(StreamWaiter w) {
            if (!queued.isEmpty() || !place(w)) {
                // First come, first served: behind those already waiting for a stream to close.
                if (!queued.offer(w, limits.maxPending())) {
                    w.callback().onStreamFailed(limits.queueFull(w.peer()));
                }
            }
        }

        /**
         * A stream on a connection with room, else a place on a connection being opened, else a new
         * connection, unless the {@link PeerLimits} allow no more: false then, and nothing was done.
         */
        private boolean place(StreamWaiter w) {
            for (int i = 0; i < connections.size(); i++) {
                Http2Connection c = connections.get(i);
                if (c.hasRoom()) {
                    openStream(c, w, true, 0);
                    return true;
                }
            }
            for (int i = 0; i < pending.size(); i++) {
                Pending p = pending.get(i);
                if (p.waiters.size() < p.peer.options().maxH2Streams()) {
                    p.waiters.add(w);
                    return true;
                }
            }
            if (limits.capped() && connections.size() + pending.size() >= limits.maxConnections()) {
                return false;
            }
            Pending p = new Pending(w.peer());
            pending.add(p);
            p.waiters.add(w);
            p.connect(w.addresses(), loop);
            return true;
        }

        /**
         * Room may have come up (a stream closed, a connection left and another may open): the waiters
         * take it in order, as long as there is some.
         */
        void serveQueued() {
            StreamWaiter w;
            while ((w = queued.peek()) != null && place(w)) {
                queued.poll();
            }
        }

        private void adopt(Channel channel, StreamWaiter w) {
            Pending p = new Pending(w.peer());
            pending.add(p);
            p.waiters.add(w);
            p.install(channel);
        }

        /** A connection leaves the pool (GOAWAY, failed PING, idle, closed): no stream goes on it any more. */
        void remove(Http2Connection c) {
            if (connections.remove(c)) {
                // Below the connection cap again: a waiter may open a new one.
                serveQueued();
            }
            forgetIfEmpty();
        }

        private void forgetIfEmpty() {
            if (connections.isEmpty() && pending.isEmpty() && queued.isEmpty()) {
                // getIfExists: a connection that closes after the partition was forgotten must not make it anew.
                Map<Object, KeyPool> partition = partitions.getIfExists();
                if (partition != null) {
                    partition.remove(key, this);
                }
            }
        }

        private void openStream(Http2Connection c, StreamWaiter w, boolean reused, long connectNanos) {
            Http2UpstreamStream stream = new Http2UpstreamStream(w.peer(), c, clock);
            c.openStream(stream.handler(), reused).addListener((Future<Http2StreamChannel> f) -> {
                if (f.isSuccess()) {
                    stream.attach(f.getNow());
                    w.callback().onStreamReady(stream, reused, connectNanos);
                } else {
                    w.callback().onStreamFailed(ProxyError.upstream(ErrorType.H2_ERROR,
                            "cannot open a stream on the upstream HTTP/2 connection", f.cause()).setRetry(true));
                }
            });
        }

        /** A connection being opened, and who waits for a stream on it. */
        final class Pending {
            private final HttpPeer peer;
            private final ArrayDeque<StreamWaiter> waiters = new ArrayDeque<>();

            Pending(HttpPeer peer) {
                this.peer = peer;
            }

            private void connect(@org.jspecify.annotations.Nullable ClientAddresses addresses, EventLoop loop) {
                connector.open(peer, addresses, loop).addListener((Future<Channel> f) -> {
                    if (f.isSuccess()) {
                        install(f.getNow());
                    } else {
                        failAll(() -> Errors.connectFailure(f.cause(), "connect " + peer));
                    }
                });
            }

            /** Adds HTTP/2 to the open {@code channel} and waits for the peer's SETTINGS. */
            void install(Channel channel) {
                if (UpstreamConnector.negotiated(peer, channel) != Alpn.H2) {
                    channel.close();
                    // An h2-or-h1 origin that chose HTTP/1.1 this time: the next attempt asks again.
                    chosen.remember(peer.reuseKey(), Alpn.H1);
                    failAll(() -> ProxyError.upstream(ErrorType.CONNECT_ERROR, "connect " + peer
                            + ": the origin did not choose HTTP/2 in the TLS handshake", null)
                            .setRetry(peer.options().alpn() == Alpn.H2_OR_H1));
                    return;
                }
                if (!channel.isActive()) {
                    failAll(() -> ProxyError.upstream(ErrorType.CONNECTION_CLOSED, "connect " + peer
                            + ": closed right after the handshake", null).setRetry(true));
                    return;
                }
                PeerOptions options = peer.options();
                Duration idle = options.idleTimeout() != null ? options.idleTimeout() : defaultIdleTimeout;
                Duration ping = options.h2PingInterval();
                Http2Connection conn = new Http2Connection(channel, KeyPool.this, counters.group(peer.groupKey()),
                        options.maxH2Streams(), idle.toNanos(), ping == null ? 0 : ping.toNanos(), clock);
                ChannelPipeline p = channel.pipeline();
                // Streams flush one by one; the socket (and TLS) gets one write per event-loop turn.
                p.addBefore(UpstreamConnector.PLACEHOLDER, "h2-flushes", new io.netty.handler.flush.FlushConsolidationHandler(
                        io.netty.handler.flush.FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
                p.addBefore(UpstreamConnector.PLACEHOLDER, "h2", Http2FrameCodecBuilder.forClient()
                        .initialSettings(Http2Settings.defaultSettings().pushEnabled(false)
                                .initialWindowSize(windows.initialStreamWindow())
                                .maxHeaderListSize(maxResponseHeaderBytes))
                        .build());
                p.addBefore(UpstreamConnector.PLACEHOLDER, "h2-streams", new Http2MultiplexHandler(REFUSE_INBOUND));
                p.replace(UpstreamConnector.PLACEHOLDER, "h2-connection", conn);
                Http2DownstreamPipeline.openConnectionWindow(p, "h2-connection", windows.connectionWindow());
                counters.group(peer.groupKey()).connectionOpened();
                java.util.concurrent.Future<?> settingsTimer = settingsTimer(channel, options);
                conn.settled().addListener(f -> {
                    if (settingsTimer != null) {
                        settingsTimer.cancel(false);
                    }
                    pending.remove(this);
                    if (!f.isSuccess()) {
                        channel.close();
                        failAll(() -> Errors.connectFailure(f.cause(), "HTTP/2 connection preface with " + peer));
                        return;
                    }
                    if (peer.options().alpn() == Alpn.H2_OR_H1) {
                        chosen.remember(peer.reuseKey(), Alpn.H2);
                    }
                    connections.add(conn);
                    serve(conn);
                    // Room beyond those who waited for this connection goes to those queued.
                    serveQueued();
                    if (retired) {
                        conn.retire();
                    }
                });
            }

            /** The peer's SETTINGS must come within the connect timeouts (else the read timeout). */
            private java.util.concurrent.Future<?> settingsTimer(Channel channel, PeerOptions options) {
                Duration limit = options.totalConnectionTimeout() != null ? options.totalConnectionTimeout()
                        : options.connectTimeout() != null ? options.connectTimeout() : options.readTimeout();
                if (limit == null) {
                    return null;
                }
                return clock.schedule(channel.eventLoop(), () -> {
                    if (pending.contains(this)) {
                        channel.close();
                    }
                }, limit.toNanos());
            }

            private void serve(Http2Connection conn) {
                if (!conn.hasRoom()) {
                    failAll(() -> ProxyError.upstream(ErrorType.H2_ERROR, "upstream " + peer
                            + " allows no concurrent stream (SETTINGS_MAX_CONCURRENT_STREAMS = 0)", null));
                    channelCloseIfUnused(conn);
                    return;
                }
                long now = clock.nanoTime();
                StreamWaiter w;
                while ((w = waiters.poll()) != null) {
                    if (conn.hasRoom()) {
                        openStream(conn, w, false, now - w.sinceNanos());
                    } else {
                        // The peer allows fewer streams than were waiting: the rest look again.
                        acquire(w);
                    }
                }
            }

            private void channelCloseIfUnused(Http2Connection conn) {
                if (conn.streams() == 0) {
                    conn.channel.close();
                }
            }

            /** Fails every waiter, each with an error of its own (a call may change the one it gets). */
            private void failAll(java.util.function.Supplier<ProxyError> error) {
                pending.remove(this);
                StreamWaiter w;
                while ((w = waiters.poll()) != null) {
                    w.callback().onStreamFailed(error.get());
                }
                // Below the connection cap again: the queued try a connection of their own.
                serveQueued();
                forgetIfEmpty();
            }
        }
    }

    @ChannelHandler.Sharable
    private static final class RefuseInbound extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.close();
        }
    }
}
