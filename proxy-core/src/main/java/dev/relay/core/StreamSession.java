package dev.relay.core;

import java.net.SocketAddress;
import java.util.concurrent.Executor;

/**
 * One client connection of a {@link StreamProxy}, as its phases see it. Used on its own event loop
 * ({@link #eventLoop()}).
 */
public interface StreamSession {

    /** The client's address (the remote end of the accepted connection). */
    SocketAddress clientAddress();

    /** The local address that accepted the connection. */
    SocketAddress serverAddress();

    /** Upstream connect attempts made so far, the current one included (1 in the first {@code upstreamPeer}). */
    int attempts();

    /** When the connection was accepted, in {@link System#nanoTime()} terms. */
    long startNanos();

    /** The event loop of this connection: an asynchronous phase may complete its stage on it. */
    Executor eventLoop();
}
