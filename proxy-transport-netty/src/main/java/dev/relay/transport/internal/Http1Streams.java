package dev.relay.transport.internal;

import dev.relay.core.Alpn;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyProtocol;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Future;
import org.jspecify.annotations.Nullable;

import java.util.HashMap;
import java.util.Map;

/**
 * HTTP/1.1 upstream streams: one exchange per connection at a time. A stream takes the newest idle
 * connection of the peer's pool key on this event loop, or opens one; when the exchange ends the
 * stream gives the connection back to the pool if it can carry another request. A new connection to
 * an {@code h2-or-h1} peer offers both protocols: if the origin picks h2 it goes to
 * {@link Http2Streams} instead, and the choice is remembered either way.
 *
 * <p>Under {@link PeerLimits} (the standalone client's), at most that many streams of a pool key are
 * under way on an event loop; the next acquirers wait in a bounded {@link PeerWaitQueue} and each takes
 * the slot, and the connection pooled a moment before, of the stream that ends. As a new connection
 * opens only when the key has no idle one, a key never has more connections than slots.
 */
final class Http1Streams implements UpstreamStreams {
    private final UpstreamConnectionPool pool;
    private final UpstreamConnector connector;
    private final EngineClock clock;
    private final Http2Streams http2;
    private final ChosenProtocols chosen;
    private final PeerLimits limits;
    /** Per event loop and pool key, when {@link #limits} cap connections: the slots in use and the waiters. */
    private final FastThreadLocal<Map<Object, Slots>> slots = new FastThreadLocal<>() {
        @Override
        protected Map<Object, Slots> initialValue() {
            return new HashMap<>();
        }
    };

    Http1Streams(UpstreamConnectionPool pool, UpstreamConnector connector, EngineClock clock, Http2Streams http2,
                 ChosenProtocols chosen, PeerLimits limits) {
        this.limits = limits;
        this.pool = pool;
        this.connector = connector;
        this.clock = clock;
        this.http2 = http2;
        this.chosen = chosen;
    }

    @Override
    public void acquire(HttpPeer peer, @Nullable ClientAddresses addresses, EventLoop loop,
                        ConnectionChoice connection, Callback callback) {
        if (!limits.capped()) {
            acquireNow(peer, addresses, loop, connection, callback, null);
            return;
        }
        Object key = poolKey(peer, addresses);
        Slots keySlots = slots.get().computeIfAbsent(key, k -> new Slots());
        if (keySlots.inUse < limits.maxConnections()) {
            keySlots.inUse++;
            acquireNow(peer, addresses, loop, connection, callback, () -> slotFreed(key, keySlots, loop));
        } else if (!keySlots.waiting.offer(new StreamWaiter(peer, addresses, connection, callback, clock.nanoTime()),
                limits.maxPending())) {
            callback.onStreamFailed(limits.queueFull(peer));
        }
    }

    /**
     * A stream of {@code key} is over (its connection pooled or closed) or never came: the longest waiter
     * takes the slot, and with it the connection just pooled.
     */
    private void slotFreed(Object key, Slots keySlots, EventLoop loop) {
        keySlots.inUse--;
        StreamWaiter next = keySlots.waiting.poll();
        if (next != null) {
            keySlots.inUse++;
            acquireNow(next.peer(), next.addresses(), loop, next.choice(), next.callback(),
                    () -> slotFreed(key, keySlots, loop));
        } else if (keySlots.inUse == 0) {
            // getIfExists: a stream that ends after the partition was forgotten must not make it anew.
            Map<Object, Slots> partition = slots.getIfExists();
            if (partition != null) {
                partition.remove(key, keySlots);
            }
        }
    }

    /**
     * A pooled connection or a new one; {@code onDone} (null: no limit) is told once when the slot the
     * stream holds is free: when the stream is over, or at once when no HTTP/1.1 stream came of it.
     */
    private void acquireNow(HttpPeer peer, @Nullable ClientAddresses addresses, EventLoop loop,
                            ConnectionChoice connection, Callback callback, @Nullable Runnable onDone) {
        Object key = poolKey(peer, addresses);
        UpstreamConnection pooled = connection == ConnectionChoice.ANY ? pool.checkout(key) : null;
        if (pooled != null) {
            callback.onStreamReady(new Http1UpstreamStream(pooled, peer, pool, onDone), true, 0);
            return;
        }
        long connectStart = clock.nanoTime();
        if (peer.options().alpn() != Alpn.H1 && connection != ConnectionChoice.NEW_HTTP1) {
            connectNegotiating(peer, key, addresses, loop, callback, connectStart, onDone);
            return;
        }
        Future<UpstreamConnection> connect = connector.connect(peer, key, addresses, loop);
        connect.addListener(f -> {
            if (f.isSuccess()) {
                UpstreamConnection conn = (UpstreamConnection) f.getNow();
                callback.onStreamReady(new Http1UpstreamStream(conn, peer, pool, onDone), false,
                        clock.nanoTime() - connectStart);
            } else {
                runIfSet(onDone);
                callback.onStreamFailed(Errors.connectFailure(f.cause(), "connect " + peer));
            }
        });
    }

    /** Connects offering h2 and HTTP/1.1; the origin's choice decides which pool the connection joins. */
    private void connectNegotiating(HttpPeer peer, Object key, @Nullable ClientAddresses addresses, EventLoop loop,
                                    Callback callback, long connectStart, @Nullable Runnable onDone) {
        connector.open(peer, addresses, loop).addListener((Future<Channel> f) -> {
            if (!f.isSuccess()) {
                runIfSet(onDone);
                callback.onStreamFailed(Errors.connectFailure(f.cause(), "connect " + peer));
                return;
            }
            Channel channel = f.getNow();
            if (UpstreamConnector.negotiated(peer, channel) == Alpn.H2) {
                // The HTTP/2 pool counts its connections itself.
                runIfSet(onDone);
                http2.adopt(channel, peer, key, callback, connectStart);
                return;
            }
            chosen.remember(peer.reuseKey(), Alpn.H1);
            callback.onStreamReady(new Http1UpstreamStream(connector.http1(channel, key), peer, pool, onDone), false,
                    clock.nanoTime() - connectStart);
        });
    }

    private static void runIfSet(@Nullable Runnable onDone) {
        if (onDone != null) {
            onDone.run();
        }
    }

    /** Drops the calling event loop's slot counts (see {@link UpstreamConnectionPool#forgetPartition()}). */
    void forgetPartition() {
        slots.remove();
    }

    /** The streams of one key on one event loop under way, and who waits for one to end. */
    private static final class Slots {
        int inUse;
        final PeerWaitQueue waiting = new PeerWaitQueue();
    }

    /**
     * The client connection's addresses when {@code peer} is sent a PROXY header, else null: the others
     * do not pay for looking them up on every request.
     */
    static @Nullable ClientAddresses clientAddresses(HttpPeer peer, DownstreamStream downstream) {
        return peer.options().sendProxyProtocol() == ProxyProtocol.NONE ? null
                : new ClientAddresses(downstream.clientAddress(), downstream.serverAddress());
    }

    /**
     * The peer's {@link HttpPeer#reuseKey()}; but a connection that began with a PROXY header (telling
     * {@code addresses}) speaks for one client connection, so its key also holds that connection's
     * addresses: it carries later requests of the same client connection and never another client's
     * (on HTTP/2 too: its streams are that client's requests only).
     */
    static Object poolKey(HttpPeer peer, @Nullable ClientAddresses addresses) {
        return addresses == null ? peer.reuseKey()
                : new ClientBoundKey(peer.reuseKey(), peer.options().sendProxyProtocol(), addresses);
    }

    /** The pool key of a connection that told the upstream about one client connection. */
    record ClientBoundKey(HttpPeer.PoolKey peer, ProxyProtocol version, ClientAddresses addresses) {}
}
