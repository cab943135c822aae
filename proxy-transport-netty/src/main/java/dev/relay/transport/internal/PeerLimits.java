package dev.relay.transport.internal;

import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;

/**
 * How many connections an engine opens to one pool key on one event loop, and how many acquirers may
 * wait there for a stream when they are all busy ({@link PeerWaitQueue}). The standalone client sets
 * them; the proxy has none ({@link #NONE}): its concurrency is bounded by its clients and its own limits.
 *
 * @param maxConnections the most connections per key and loop, connecting ones included; 0: no limit
 * @param maxPending     the most acquirers waiting per key and loop once the connections are busy
 */
record PeerLimits(int maxConnections, int maxPending) {
    /** No limit: every acquirer gets a connection (new if need be) at once. */
    static final PeerLimits NONE = new PeerLimits(0, 0);

    /** Whether connections per key are capped (and acquirers may wait). */
    boolean capped() {
        return maxConnections > 0;
    }

    /** The failure of an acquirer that found the wait queue of {@code peer} full. */
    ProxyError queueFull(HttpPeer peer) {
        return ProxyError.of(ErrorType.OVERLOADED, ErrorSource.INTERNAL, "too many requests to " + peer
                + ": its " + maxConnections + " connections (maxConnectionsPerPeer) are busy and "
                + maxPending + " requests already wait for one (maxPendingPerPeer)", null).setRetry(false);
    }
}
