package dev.relay.core;

import org.jspecify.annotations.Nullable;

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

    /**
     * What the TLS handshake with the client settled (protocol, SNI name, client certificate) on a
     * listener that terminates TLS; null on a plain one. Set before {@link StreamProxy#newCtx()}
     * runs, as the handshake comes first, so {@code upstreamPeer} can choose by SNI name or
     * certificate. {@link TlsInfo#alpn()} is null: a stream listener offers no ALPN.
     */
    @Nullable TlsInfo downstreamTls();

    /** Upstream connect attempts made so far, the current one included (1 in the first {@code upstreamPeer}). */
    int attempts();

    /** When the connection was accepted, in {@link System#nanoTime()} terms. */
    long startNanos();

    /** The event loop of this connection: an asynchronous phase may complete its stage on it. */
    Executor eventLoop();
}
