package dev.relay.transport.internal;

import dev.relay.core.HttpPeer;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;

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
    public void acquire(HttpPeer peer, EventLoop loop, boolean fresh, Callback callback) {
        UpstreamConnection pooled = fresh ? null : pool.checkout(peer.reuseKey());
        if (pooled != null) {
            callback.onStreamReady(new Http1UpstreamStream(pooled, peer, pool), true, 0);
            return;
        }
        long connectStart = clock.nanoTime();
        Future<UpstreamConnection> connect = connector.connect(peer, loop);
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
}
