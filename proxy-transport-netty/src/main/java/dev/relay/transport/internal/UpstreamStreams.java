package dev.relay.transport.internal;

import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import io.netty.channel.EventLoop;
import org.jspecify.annotations.Nullable;

/**
 * Where upstream streams come from: a pool of connections and a connector, per protocol, behind one
 * interface. The HTTP/1.1 one ({@link Http1Streams}) gives each stream a connection of its own, from
 * the pool or newly opened; the HTTP/2 one ({@link Http2Streams}) opens a stream on a pooled connection
 * that has room under its concurrency cap, and connects only when none has; {@link ProtocolStreams}
 * picks between them by the peer's ALPN setting.
 */
interface UpstreamStreams {

    /** Receives the outcome of {@link #acquire}; called on the event loop, possibly before acquire returns. */
    interface Callback {

        /**
         * A stream is ready. {@code reused}: it came from the pool; {@code connectNanos}: how long the
         * connection took to establish (0 when reused).
         */
        void onStreamReady(UpstreamStream stream, boolean reused, long connectNanos);

        /** No stream could be had (connect refused, timed out, TLS failed ...). */
        void onStreamFailed(ProxyError error);

        /**
         * Whether the acquirer gave up (its deadline passed) while it waited in a {@link PeerWaitQueue}: it
         * is skipped, and a stream it is handed all the same it releases at once.
         */
        default boolean isAbandoned() {
            return false;
        }
    }

    /**
     * Gets a stream to {@code peer} on {@code loop}; {@code proxyHeader}: the client connection's
     * addresses, which a PROXY protocol header sent upstream tells (null when the peer wants no header,
     * see {@link Http1Streams#clientAddresses}, or when the request has no client connection: the
     * proxy's own requests); {@code connection}: whether a pooled connection may serve.
     */
    void acquire(HttpPeer peer, @Nullable ClientAddresses proxyHeader, EventLoop loop, ConnectionChoice connection,
                 Callback callback);

    /** Which connection a stream may go on. */
    enum ConnectionChoice {
        /** A pooled connection (or an HTTP/2 one with room) when there is one, else a new one. */
        ANY,
        /**
         * Never a pooled HTTP/1.1 connection: a new one, in the protocol the peer and the origin agree on. A
         * retry after a pooled connection went stale (the keep-alive race): the next idle one may be as
         * stale. HTTP/2 needs nothing of the kind, a stale connection leaves its pool on its GOAWAY or close.
         */
        NEW,
        /**
         * A new HTTP/1.1 connection of its own: a {@code CONNECT} tunnel must not inherit another exchange's
         * connection, and it needs HTTP/1.1 (an {@code h2-or-h1} connection that gets h2 fails).
         */
        NEW_HTTP1
    }
}
