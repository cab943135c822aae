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
     * The fill of {@code lockKey}: the one in progress, or else a new one whose writer is the caller
     * ({@link Claim#started}). The lock is taken or joined in one step: a fill is only allocated when
     * none is in progress.
     */
    Claim claim(HttpCache cache, String lockKey) {
        Key key = new Key(cache, lockKey);
        CacheFill theirs = fills.get(key);
        if (theirs != null) {
            return new Claim(theirs, false);
        }
        CacheFill mine = new CacheFill(cache, lockKey, this);
        theirs = fills.putIfAbsent(key, mine);
        return theirs != null ? new Claim(theirs, false) : new Claim(mine, true);
    }

    /** A fill found or started by {@link #claim}; {@code started}: the caller is its writer. */
    record Claim(CacheFill fill, boolean started) {}

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
