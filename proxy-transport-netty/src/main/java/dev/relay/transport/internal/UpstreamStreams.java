package dev.relay.transport.internal;

import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import io.netty.channel.EventLoop;

import java.net.SocketAddress;

/**
 * Where upstream streams come from: a pool of connections and a connector, per protocol, behind one
 * interface. The HTTP/1.1 one ({@link Http1Streams}) gives each stream a connection of its own, from
 * the pool or newly opened; an HTTP/2 one would open a stream on a pooled connection that has room
 * under its concurrency cap, and connect only when none has.
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
    }

    /**
     * Gets a stream to {@code peer} on {@code loop} for a request of the client connection from
     * {@code client} to {@code server} (what a PROXY protocol header sent upstream tells).
     */
    void acquire(HttpPeer peer, SocketAddress client, SocketAddress server, EventLoop loop, Callback callback);
}
