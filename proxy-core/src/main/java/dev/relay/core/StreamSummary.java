package dev.relay.core;

import org.jspecify.annotations.Nullable;

import java.net.SocketAddress;
import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * How one relayed client connection of a {@link StreamProxy} went: what {@link StreamProxy#streamDone}
 * receives.
 *
 * @param clientAddress   the client's address
 * @param peer            the upstream the bytes went to; null when none was connected
 * @param bytesFromClient bytes read from the client and relayed upstream
 * @param bytesToClient   bytes read from the upstream and relayed to the client
 * @param duration        from accept to the end of the relay
 * @param attempts        upstream connect attempts
 * @param end             how the connection ended
 * @param error           what went wrong; null when it ended normally (both sides closed, or half-closed
 *                        both ways)
 */
public record StreamSummary(SocketAddress clientAddress, @Nullable HttpPeer peer, long bytesFromClient,
                            long bytesToClient, Duration duration, int attempts, End end,
                            @Nullable ProxyError error) {

    public StreamSummary {
        requireNonNull(clientAddress, "clientAddress");
        requireNonNull(duration, "duration");
        requireNonNull(end, "end");
    }

    /** How a relayed connection ended; the lower-case name is what logs show. */
    public enum End {
        /** Both directions finished: each side closed or half-closed (FIN) its output. */
        COMPLETED,
        /** No byte moved either way for the idle timeout. */
        IDLE_TIMEOUT,
        /** No upstream could be connected (every attempt failed, or {@code upstreamPeer} failed). */
        CONNECT_FAILED,
        /** The client's socket failed (a reset, a TLS error). */
        CLIENT_ERROR,
        /** The upstream's socket failed (a reset, a TLS error). */
        UPSTREAM_ERROR,
        /** The service stopped (its grace period ended, or it was closed) while the relay ran. */
        SHUTDOWN
    }
}
