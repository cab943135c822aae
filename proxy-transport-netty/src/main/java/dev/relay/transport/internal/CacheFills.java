package dev.relay.transport.internal;

import dev.relay.core.cache.HttpCache;
import org.jspecify.annotations.Nullable;

import java.util.concurrent.ConcurrentHashMap;

/**
 * The fills in progress of one engine, by cache and lock key: the cache lock. Shared by every event
 * loop of the engine.
 */
final class CacheFills {
    private record Key(HttpCache cache, String lockKey) {}

    private final ConcurrentHashMap<Key, CacheFill> fills = new ConcurrentHashMap<>();

    /**
     * Starts a fill of {@code lockKey} and returns it (the caller is its writer), or returns null when
     * one is in progress already ({@link #inProgress} finds it).
     */
    @Nullable CacheFill tryStart(HttpCache cache, String lockKey) {
        CacheFill fill = new CacheFill(cache, lockKey, this);
        return fills.putIfAbsent(new Key(cache, lockKey), fill) == null ? fill : null;
    }

    /** The fill of {@code lockKey} in progress, or null. */
    @Nullable CacheFill inProgress(HttpCache cache, String lockKey) {
        return fills.get(new Key(cache, lockKey));
    }

    void remove(CacheFill fill) {
        fills.remove(new Key(fill.cache, fill.lockKey), fill);
    }

    int size() {
        return fills.size();
    }
}
