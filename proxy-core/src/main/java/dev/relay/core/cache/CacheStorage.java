package dev.relay.core.cache;

import org.jspecify.annotations.Nullable;

import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Where cached responses live (Pingora's {@code Storage}). Keys are {@link CacheKey#storageKey()}
 * strings. Implementations are thread-safe and never block the caller: an event loop calls every
 * method, so a tier that does I/O completes {@link #lookup} on a thread of its own and writes in the
 * background. A tier decides what to evict itself, within its size cap.
 */
public interface CacheStorage extends AutoCloseable {

    /** The object stored under {@code key}, or null; may complete on another thread. */
    CompletionStage<@Nullable CachedObject> lookup(String key);

    /**
     * Stores {@code object} under {@code key}, replacing what was there. An object larger than
     * {@link #maxObjectSize()} is not stored. Returns at once.
     */
    void put(String key, CachedObject object);

    /** Replaces the metadata of the object under {@code key} (a revalidation); false when there is none. */
    boolean updateMeta(String key, CacheMeta meta);

    /** Removes the object under {@code key}; whether there was one. */
    boolean purge(String key);

    /** Removes every object whose key starts with {@code prefix}; how many there were. */
    int purgePrefix(String prefix);

    /** The largest body this storage keeps, in bytes; a longer response streams through uncached. */
    long maxObjectSize();

    /** A snapshot per tier, the fastest first. */
    List<CacheTierStats> stats();

    /** Finishes pending writes and releases files and threads; the storage is unusable afterwards. */
    @Override
    void close();
}
