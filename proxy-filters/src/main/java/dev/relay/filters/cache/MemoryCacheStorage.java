package dev.relay.filters.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.RemovalCause;
import dev.relay.core.cache.CacheMeta;
import dev.relay.core.cache.CacheStorage;
import dev.relay.core.cache.CacheTierStats;
import dev.relay.core.cache.CachedObject;
import org.jspecify.annotations.Nullable;

import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.LongAdder;

/**
 * A cache tier in the heap: a Caffeine cache capped in bytes of objects (as counted below), which
 * evicts with W-TinyLFU, so a burst of objects requested once does not flush the popular ones. Every
 * method completes on the caller's thread without blocking.
 *
 * <p>An object without a validator goes once it is stale beyond its stale windows (nobody can be
 * served it any more); one with a validator stays until the size policy evicts it, since a 304 can
 * make it fresh again.
 *
 * <p>Each object is kept as two arrays, its encoded metadata ({@link CacheMeta#encode()}) and its
 * body, decoded again on every lookup. A few hundred thousand small objects as header strings would
 * be tens of objects each for the collector to copy and trace, and a cache that churns (every request
 * a new URL) then pauses the process for tens of milliseconds per young collection; two arrays are
 * cheap to keep, and the weight counts them truly (arrays, entry and key, not an estimate).
 *
 * <pre>{@code
 * MemoryCacheStorage memory = MemoryCacheStorage.builder(256L << 20)   // 256 MiB of objects
 *         .maxObjectSize(4L << 20)                                      // larger bodies are not kept
 *         .build();
 * }</pre>
 */
public final class MemoryCacheStorage implements CacheStorage {
    /** The default largest body: large files belong on disk, where they do not crowd out the small. */
    public static final long DEFAULT_MAX_OBJECT_SIZE = 1L << 20;

    /** What an entry costs besides its arrays' contents: the cache node, the entry, two array headers, the key. */
    private static final int ENTRY_OVERHEAD = 160;

    /** One stored object: its encoded metadata, its body, and when it stops being of any use. */
    private record Packed(byte[] meta, byte[] body, long uselessAtMillis) {
        static Packed of(CacheMeta meta, byte[] body) {
            return new Packed(meta.encode(), body, UntilUseless.uselessAtMillis(meta));
        }

        CachedObject unpack() {
            return new CachedObject(CacheMeta.decode(meta), body);
        }
    }

    private final Cache<String, Packed> objects;
    private final UntilUseless<String, Packed> expiry;
    private final long maxBytes;
    private final long maxObjectSize;
    private final LongAdder evictions = new LongAdder();

    private MemoryCacheStorage(Builder builder) {
        this.maxBytes = builder.maxBytes;
        this.maxObjectSize = builder.maxObjectSize;
        this.expiry = builder.expiry(Packed::uselessAtMillis);
        this.objects = builder.buildCache((key, p) -> ENTRY_OVERHEAD + 2L * key.length() + p.meta().length
                + p.body().length, expiry, (key, object, cause) -> {
            if (cause == RemovalCause.SIZE) {
                evictions.increment();
            }
        });
    }

    /** A memory tier of at most {@code maxBytes} bytes of objects: their arrays, keys and cache entries. */
    public static Builder builder(long maxBytes) {
        return new Builder(maxBytes);
    }

    /** The stored object, at once (a new completed future each time). */
    @Override
    public CompletionStage<@Nullable CachedObject> lookup(String key) {
        return CompletableFuture.completedFuture(get(key));
    }

    /** The stored object, or null. */
    @Nullable CachedObject get(String key) {
        Packed packed = objects.getIfPresent(Objects.requireNonNull(key, "key"));
        return packed == null ? null : packed.unpack();
    }

    /**
     * Stores {@code object}. One this tier does not keep (a body above {@link #maxObjectSize()}, or
     * already of no use) still replaces: the older object under {@code key} goes, since the origin
     * has sent something newer.
     */
    @Override
    public void put(String key, CachedObject object) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(object, "object");
        if (object.body().length > maxObjectSize || expiry.isUseless(object.meta())) {
            objects.invalidate(key);
            return;
        }
        objects.put(key, Packed.of(object.meta(), object.body()));
    }

    @Override
    public boolean updateMeta(String key, CacheMeta meta) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(meta, "meta");
        return objects.asMap().computeIfPresent(key, (k, packed) -> Packed.of(meta, packed.body())) != null;
    }

    @Override
    public boolean purge(String key) {
        return objects.asMap().remove(Objects.requireNonNull(key, "key")) != null;
    }

    @Override
    public int purgePrefix(String prefix) {
        return purgeAll(prefix).size();
    }

    /** Removes every object whose key starts with {@code prefix}; their keys. */
    Set<String> purgeAll(String prefix) {
        Objects.requireNonNull(prefix, "prefix");
        return TierCaches.removeStartingWith(objects.asMap().keySet(), prefix,
                key -> objects.asMap().remove(key) != null);
    }

    @Override
    public long maxObjectSize() {
        return maxObjectSize;
    }

    /** One tier, {@code memory}; pending maintenance is done first so the numbers are current. */
    @Override
    public List<CacheTierStats> stats() {
        return List.of(TierCaches.stats("memory", objects, maxBytes, evictions));
    }

    /** Drops every object. */
    @Override
    public void close() {
        objects.invalidateAll();
        objects.cleanUp();
    }

    /** Builds a {@link MemoryCacheStorage}. */
    public static final class Builder extends TierBuilder<Builder> {
        private Builder(long maxBytes) {
            super(maxBytes, DEFAULT_MAX_OBJECT_SIZE);
        }

        @Override
        Builder self() {
            return this;
        }

        public MemoryCacheStorage build() {
            checkMaxObjectSize(maxBytes);
            return new MemoryCacheStorage(this);
        }
    }
}
