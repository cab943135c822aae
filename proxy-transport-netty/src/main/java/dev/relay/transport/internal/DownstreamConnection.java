package dev.relay.transport.internal;

import io.netty.channel.ChannelHandler;

/**
 * The handler that owns a client connection, whatever its protocol ({@link DownstreamHandler} for
 * HTTP/1.1, {@link Http2DownstreamConnection} for HTTP/2): what a stopping server asks of each.
 * Found with {@code pipeline.get(DownstreamConnection.class)}; every method runs on the connection's
 * event loop.
 */
public interface DownstreamConnection extends ChannelHandler {

    /**
     * The server stops (the engine is draining already): requests in flight may finish within
     * {@code graceMillis}. HTTP/1.1 closes an idle connection when {@code closeIdle} (otherwise the
     * next response closes it); HTTP/2 sends GOAWAY at once either way (the client learns which
     * streams will be served, so no request races with the close) and closes after its last stream.
     */
    void drain(boolean closeIdle, long graceMillis);

    /** Closes the connection now, whatever is in flight (the end of a grace period, an immediate stop). */
    void closeNow();
}
