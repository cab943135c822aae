package dev.relay.transport.internal;

import dev.relay.core.Alpn;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyProtocol;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import org.jspecify.annotations.Nullable;

/**
 * HTTP/1.1 upstream streams: one exchange per connection at a time. A stream takes the newest idle
 * connection of the peer's pool key on this event loop, or opens one; when the exchange ends the
 * stream gives the connection back to the pool if it can carry another request. A new connection to
 * an {@code h2-or-h1} peer offers both protocols: if the origin picks h2 it goes to
 * {@link Http2Streams} instead, and the choice is remembered either way.
 */
final class Http1Streams implements UpstreamStreams {
    private final UpstreamConnectionPool pool;
    private final UpstreamConnector connector;
    private final EngineClock clock;
    private final Http2Streams http2;
    private final ChosenProtocols chosen;

    Http1Streams(UpstreamConnectionPool pool, UpstreamConnector connector, EngineClock clock, Http2Streams http2,
                 ChosenProtocols chosen) {
        this.pool = pool;
        this.connector = connector;
        this.clock = clock;
        this.http2 = http2;
        this.chosen = chosen;
    }

    @Override
    public void acquire(HttpPeer peer, @Nullable ClientAddresses addresses, EventLoop loop,
                        ConnectionChoice connection, Callback callback) {
        Object key = poolKey(peer, addresses);
        UpstreamConnection pooled = connection == ConnectionChoice.ANY ? pool.checkout(key) : null;
        if (pooled != null) {
            callback.onStreamReady(new Http1UpstreamStream(pooled, peer, pool), true, 0);
            return;
        }
        long connectStart = clock.nanoTime();
        if (peer.options().alpn() != Alpn.H1 && connection != ConnectionChoice.NEW_HTTP1) {
            connectNegotiating(peer, key, addresses, loop, callback, connectStart);
            return;
        }
        Future<UpstreamConnection> connect = connector.connect(peer, key, addresses, loop);
        connect.addListener(f -> {
            if (f.isSuccess()) {
                UpstreamConnection conn = (UpstreamConnection) f.getNow();
                callback.onStreamReady(new Http1UpstreamStream(conn, peer, pool), false,
                        clock.nanoTime() - connectStart);
            } else {
                callback.onStreamFailed(Errors.connectFailure(f.cause(), "connect " + peer));
            }
        });
    }

    /** Connects offering h2 and HTTP/1.1; the origin's choice decides which pool the connection joins. */
    private void connectNegotiating(HttpPeer peer, Object key, @Nullable ClientAddresses addresses, EventLoop loop,
                                    Callback callback, long connectStart) {
        connector.open(peer, addresses, loop).addListener((Future<Channel> f) -> {
            if (!f.isSuccess()) {
                callback.onStreamFailed(Errors.connectFailure(f.cause(), "connect " + peer));
                return;
            }
            Channel channel = f.getNow();
            if (UpstreamConnector.negotiated(peer, channel) == Alpn.H2) {
                http2.adopt(channel, peer, key, callback, connectStart);
                return;
            }
            chosen.remember(peer.reuseKey(), Alpn.H1);
            callback.onStreamReady(new Http1UpstreamStream(connector.http1(channel, key), peer, pool), false,
                    clock.nanoTime() - connectStart);
        });
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
