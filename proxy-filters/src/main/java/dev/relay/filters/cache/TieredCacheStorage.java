package dev.relay.filters.cache;

import dev.relay.core.cache.CacheMeta;
import dev.relay.core.cache.CacheStorage;
import dev.relay.core.cache.CacheTierStats;
import dev.relay.core.cache.CachedObject;
import org.jspecify.annotations.Nullable;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Memory in front of disk: a lookup asks memory, then disk, and an object found on disk is promoted
 * into memory for the next request. A put goes to both (memory at once, the disk's file in the
 * background), so a restart finds on disk what memory held. Memory keeps only what fits its own
 * {@link MemoryCacheStorage#maxObjectSize()}; larger objects live on disk alone.
 *
 * <pre>{@code
 * CacheStorage storage = new TieredCacheStorage(
 *         MemoryCacheStorage.builder(256L << 20).build(),
 *         DiskCacheStorage.builder(Path.of("/var/cache/relay"), 10L << 30).build());
 * }</pre>
 */
public final class TieredCacheStorage implements CacheStorage {
    private final MemoryCacheStorage memory;
    private final DiskCacheStorage disk;
    /** What {@link #close()} does to the disk tier: close it, or let go of a tier shared with other caches. */
    private final Runnable closeDisk;
    private final KeyChanges changes = new KeyChanges();

    /** The two tiers; this storage owns them from now on ({@link #close()} closes both). */
    public TieredCacheStorage(MemoryCacheStorage memory, DiskCacheStorage disk) {
        this(memory, disk, disk::close);
    }

    /** The two tiers, the disk tier shared: {@link #close()} closes memory and runs {@code closeDisk}. */
    TieredCacheStorage(MemoryCacheStorage memory, DiskCacheStorage disk, Runnable closeDisk) {
        this.memory = Objects.requireNonNull(memory, "memory");
        this.disk = Objects.requireNonNull(disk, "disk");
        this.closeDisk = Objects.requireNonNull(closeDisk, "closeDisk");
    }

    /** From memory at once, else from disk (completing on the disk's thread), promoted into memory. */
    @Override
    public CompletionStage<@Nullable CachedObject> lookup(String key) {
        CachedObject inMemory = memory.get(key);
        if (inMemory != null) {
            return CompletableFuture.completedFuture(inMemory);
        }
        long mark = changes.quietMark(key);
        return disk.lookup(key).thenApply(found -> {
            if (found != null && mark != KeyChanges.BUSY) {
                promote(key, found, mark);
            }
            return found;
        });
    }

    /**
     * Puts what disk returned into memory, unless a put, update or purge of the key ran while disk was
     * read: the promoted object would be older than that change, or bring back what it purged.
     */
    private void promote(String key, CachedObject found, long mark) {
        if (!changes.unchangedSince(key, mark)) {
            return;
        }
        memory.put(key, found);
        if (!changes.unchangedSince(key, mark)) {
            memory.purge(key); // a change began as it was promoted: memory is only a copy, let disk answer
        }
    }

    @Override
    public void put(String key, CachedObject object) {
        changes.begin(key);
        try {
            memory.put(key, object);
            disk.put(key, object);
        } finally {
            changes.end(key);
        }
    }

    @Override
    public boolean updateMeta(String key, CacheMeta meta) {
        changes.begin(key);
        try {
            return memory.updateMeta(key, meta) | disk.updateMeta(key, meta);
        } finally {
            changes.end(key);
        }
    }

    @Override
    public boolean purge(String key) {
        changes.begin(key);
        try {
            return memory.purge(key) | disk.purge(key);
        } finally {
            changes.end(key);
        }
    }

    /** Removes from both tiers; an object that was in both counts once. */
    @Override
    public int purgePrefix(String prefix) {
        changes.beginAll();
        try {
            Set<String> removed = memory.purgeAll(prefix);
            removed.addAll(disk.purgeAll(prefix));
            return removed.size();
        } finally {
            changes.endAll();
        }
    }

    /** The larger of the two tiers' caps: memory keeps only what fits its own. */
    @Override
    public long maxObjectSize() {
        return Math.max(memory.maxObjectSize(), disk.maxObjectSize());
    }

    /** Memory's, then disk's. */
    @Override
    public List<CacheTierStats> stats() {
        List<CacheTierStats> stats = new ArrayList<>(memory.stats());
        stats.addAll(disk.stats());
        return List.copyOf(stats);
    }

    @Override
    public void close() {
        try {
            memory.close();
        } finally {
            closeDisk.run();
        }
    }

    /**
     * Counts, per stripe of keys, the changes begun and finished, so a promotion can tell whether a
     * change of its key overlapped its disk read: it promotes only if no change was under way when the
     * read began and none began since.
     */
    private static final class KeyChanges {
        static final long BUSY = -1;
        private static final int STRIPES = 64;
        private final AtomicLongArray begun = new AtomicLongArray(STRIPES);
        private final AtomicLongArray finished = new AtomicLongArray(STRIPES);

        void begin(String key) {
            begun.incrementAndGet(stripe(key));
        }

        void end(String key) {
            finished.incrementAndGet(stripe(key));
        }

        /** A prefix purge may touch a key of any stripe. */
        void beginAll() {
            for (int i = 0; i < STRIPES; i++) {
                begun.incrementAndGet(i);
            }
        }

        void endAll() {
            for (int i = 0; i < STRIPES; i++) {
                finished.incrementAndGet(i);
            }
        }

        /** The changes begun so far when none is under way, else {@link #BUSY}. */
        long quietMark(String key) {
            int stripe = stripe(key);
            long done = finished.get(stripe); // read first: finished never runs ahead of begun
            long started = begun.get(stripe);
            return started == done ? started : BUSY;
        }

        boolean unchangedSince(String key, long mark) {
            return begun.get(stripe(key)) == mark;
        }

        private static int stripe(String key) {
            int h = key.hashCode();
            return (h ^ (h >>> 16)) & (STRIPES - 1);
        }
    }
}
