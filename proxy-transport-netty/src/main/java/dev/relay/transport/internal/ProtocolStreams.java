package dev.relay.transport.internal;

import dev.relay.core.Alpn;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import io.netty.channel.EventLoop;
import org.jspecify.annotations.Nullable;

/**
 * Picks the streams of the protocol a peer speaks: {@code h1} peers get {@link Http1Streams},
 * {@code h2} peers {@link Http2Streams}; an {@code h2-or-h1} peer goes where its origin's last
 * choice says, and before any choice (or after it chose HTTP/1.1) through {@link Http1Streams},
 * whose new connection joins the HTTP/2 pool if the handshake picks h2.
 */
final class ProtocolStreams implements UpstreamStreams {
    private final Http1Streams http1;
    private final Http2Streams http2;
    private final ChosenProtocols chosen;

    ProtocolStreams(Http1Streams http1, Http2Streams http2, ChosenProtocols chosen) {
        this.http1 = http1;
        this.http2 = http2;
        this.chosen = chosen;
    }

    @Override
    public void acquire(HttpPeer peer, @Nullable ClientAddresses proxyHeader, EventLoop loop,
                        ConnectionChoice connection, Callback callback) {
        Alpn alpn = peer.options().alpn();
        if (connection == ConnectionChoice.NEW_HTTP1) {
            if (alpn == Alpn.H2) {
                callback.onStreamFailed(ProxyError.upstream(ErrorType.CONNECT_ERROR, "peer " + peer
                        + " speaks HTTP/2 only (alpn = h2); a CONNECT tunnel needs HTTP/1.1", null).setRetry(false));
            } else {
                // A tunnel needs HTTP/1.1: an h2-or-h1 connection offers both, and fails if h2 is chosen.
                http1.acquire(peer, proxyHeader, loop, connection, callback);
            }
        } else if (alpn == Alpn.H2 || alpn == Alpn.H2_OR_H1 && chosen.get(peer.reuseKey()) == Alpn.H2) {
            http2.acquire(peer, proxyHeader, loop, connection, callback);
        } else {
            http1.acquire(peer, proxyHeader, loop, connection, callback);
        }
    }
}
