package dev.relay.transport.internal;

import dev.relay.core.Alpn;
import dev.relay.core.HttpPeer;
import org.jspecify.annotations.Nullable;

import java.util.concurrent.ConcurrentHashMap;

/**
 * What each {@code h2-or-h1} origin chose in its last TLS handshake, per pool key, so that later
 * requests go straight to the right pool: to a multiplexed connection (or one being opened) rather
 * than each opening a connection of its own to ask again. Shared by every event loop.
 */
final class ChosenProtocols {
    private final ConcurrentHashMap<HttpPeer.PoolKey, Alpn> chosen = new ConcurrentHashMap<>();

    /** {@link Alpn#H2} or {@link Alpn#H1}; null when no connection to {@code key} has been negotiated yet. */
    @Nullable Alpn get(HttpPeer.PoolKey key) {
        return chosen.get(key);
    }

    void remember(HttpPeer.PoolKey key, Alpn protocol) {
        if (chosen.get(key) != protocol) {
            chosen.put(key, protocol);
        }
    }
}
