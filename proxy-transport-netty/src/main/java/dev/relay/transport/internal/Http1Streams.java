package dev.relay.transport.internal;

import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyProtocol;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import org.jspecify.annotations.Nullable;

/**
 * HTTP/1.1 upstream streams: one exchange per connection at a time. A stream takes the newest idle
 * connection of the peer's pool key on this event loop, or opens one; when the exchange ends the
 * stream gives the connection back to the pool if it can carry another request.
 */
final class Http1Streams implements UpstreamStreams {
    private final UpstreamConnectionPool pool;
    private final UpstreamConnector connector;
    private final EngineClock clock;

    Http1Streams(UpstreamConnectionPool pool, UpstreamConnector connector, EngineClock clock) {
        this.pool = pool;
        this.connector = connector;
        this.clock = clock;
    }

    @Override
    public void acquire(HttpPeer peer, DownstreamStream downstream, EventLoop loop, boolean fresh, Callback callback) {
        ProxyProtocol proxyHeader = peer.options().sendProxyProtocol();
        // Only a peer that is sent a PROXY header needs the client connection's addresses: the others
        // do not pay for looking them up on every request.
        ClientAddresses addresses = proxyHeader == ProxyProtocol.NONE ? null
                : new ClientAddresses(downstream.clientAddress(), downstream.serverAddress());
        Object key = poolKey(peer, addresses);
        UpstreamConnection pooled = fresh ? null : pool.checkout(key);
        if (pooled != null) {
            callback.onStreamReady(new Http1UpstreamStream(pooled, peer, pool), true, 0);
            return;
        }
        long connectStart = clock.nanoTime();
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

    /**
     * The peer's {@link HttpPeer#reuseKey()}; but a connection that began with a PROXY header (telling
     * {@code addresses}) speaks for one client connection, so its key also holds that connection's
     * addresses: it carries later requests of the same client connection and never another client's.
     */
    private static Object poolKey(HttpPeer peer, @Nullable ClientAddresses addresses) {
        return addresses == null ? peer.reuseKey()
                : new ClientBoundKey(peer.reuseKey(), peer.options().sendProxyProtocol(), addresses);
    }

    /** The pool key of a connection that told the upstream about one client connection. */
    record ClientBoundKey(HttpPeer.PoolKey peer, ProxyProtocol version, ClientAddresses addresses) {}
}
