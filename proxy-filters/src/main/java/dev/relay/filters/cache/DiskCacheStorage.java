package dev.relay.filters.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.RemovalCause;
import dev.relay.core.cache.CacheMeta;
import dev.relay.core.cache.CacheStorage;
import dev.relay.core.cache.CacheTierStats;
import dev.relay.core.cache.CachedObject;
import dev.relay.filters.cache.DiskObjectFile.CorruptFileException;
import dev.relay.filters.cache.DiskObjectFile.Header;
import org.jspecify.annotations.Nullable;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;

/**
 * A cache tier in a directory: one file per object, named by the SHA-256 of its key in two levels of
 * sub-directories ({@code ab/cd/abcd...}, as nginx's {@code levels=2:2}), so no directory grows huge.
 * An index in memory (Caffeine, W-TinyLFU within {@code maxBytes} of files) says what is on disk;
 * the file of an evicted or purged object is deleted. The index is rebuilt from the files' headers
 * when the storage starts, so the cache survives a restart.
 *
 * <p>No method blocks its caller: a lookup that finds the key in the index reads the file on the
 * storage's own daemon thread ({@code relay-cache-disk-N}) and completes there; a miss completes at
 * once. Writes go to a temporary file that then takes the object's name in one atomic move, so a
 * reader never sees half a file and a crash leaves only a temporary file, removed at the next start.
 * Files are not forced to the device (a cache can lose an object, and a sync per object would cost
 * more than it saves): after a power loss a file may be cut short, and the next start removes it too.
 * Every file operation runs on that one thread, in the order of the calls: a purge after a put
 * deletes what the put wrote, and one disk's bandwidth is the limit anyway. An object whose write is
 * still pending is served from memory.
 *
 * <p>At start, files that are not objects of this storage's format (another version, cut short,
 * foreign) are deleted, but only among those placed as its files are ({@code ab/cd/} + 64 hex digits):
 * anything else in the directory is left alone.
 *
 * <pre>{@code
 * DiskCacheStorage disk = DiskCacheStorage.builder(Path.of("/var/cache/relay"), 10L << 30) // 10 GiB
 *         .maxObjectSize(512L << 20)
 *         .build();
 * }</pre>
 */
public final class DiskCacheStorage implements CacheStorage {
    /** The default largest body: 64 MiB (at most the tier's size). */
    public static final long DEFAULT_MAX_OBJECT_SIZE = 64L << 20;

    private static final System.Logger LOG = System.getLogger(DiskCacheStorage.class.getName());
    private static final AtomicInteger THREAD_IDS = new AtomicInteger();
    /** How long close() waits for pending writes, then for the thread to stop. */
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);
    /** A body can be no longer than an array, less the header a file adds. */
    private static final long LARGEST_BODY = Integer.MAX_VALUE - 8 - DiskObjectFile.MAX_KEY_BYTES;

    private final Path directory;
    private final long maxBytes;
    private final long maxObjectSize;
    private final UntilUseless<String, DiskEntry> expiry;
    private final Cache<String, DiskEntry> index;
    /** Objects put whose file is not written yet, served from here meanwhile. */
    private final ConcurrentMap<String, PendingWrite> pendingWrites = new ConcurrentHashMap<>();
    private final ExecutorService fileThread;
    /** Tasks given to {@link #fileThread} and not finished: flush() waits until it is zero. */
    private final AtomicLong queuedTasks = new AtomicLong();
    private final LongAdder evictions = new LongAdder();
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * An object on disk: its file's size (its weight in the index) and when it stops being of use.
     * Compared by identity: a rewrite of the same key with the same numbers is another entry.
     */
    private static final class DiskEntry {
        final long fileSize;
        final long uselessAtMillis;

        DiskEntry(long fileSize, long uselessAtMillis) {
            this.fileSize = fileSize;
            this.uselessAtMillis = uselessAtMillis;
        }
    }

    /** An object put and not yet on disk; identity tells the latest put of a key from one it superseded. */
    private static final class PendingWrite {
        final CachedObject object;

        PendingWrite(CachedObject object) {
            this.object = object;
        }
    }

    private DiskCacheStorage(Builder builder) throws IOException {
        this.directory = builder.directory;
        this.maxBytes = builder.maxBytes;
        this.maxObjectSize = builder.maxObjectSize;
        this.expiry = builder.expiry(entry -> entry.uselessAtMillis);
        this.fileThread = Executors.newSingleThreadExecutor(task -> {
            Thread thread = new Thread(task, "relay-cache-disk-" + THREAD_IDS.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        // Runs within the eviction: counted before stats() returns, and the file's deletion is queued
        // behind every file operation asked for so far.
        this.index = builder.buildCache((key, entry) -> entry.fileSize, expiry, (key, entry, cause) -> {
            if (cause == RemovalCause.SIZE) {
                evictions.increment();
            }
            if (key != null) {
                deleteFileLater(key);
            }
        });
        try {
            Files.createDirectories(directory);
            loadIndex(builder.currentTimeMillis.getAsLong());
        } catch (IOException | RuntimeException e) {
            fileThread.shutdownNow();
            throw e;
        }
    }

    /** A disk tier in {@code directory} (created if need be) of at most {@code maxBytes} bytes of files. */
    public static Builder builder(Path directory, long maxBytes) {
        return new Builder(directory, maxBytes);
    }

    /**
     * The stored object: at once when the index does not hold the key (a miss) or its write is still
     * pending (served from memory); else read on the storage's thread, and completed there. Null after
     * {@link #close()}.
     */
    @Override
    public CompletionStage<@Nullable CachedObject> lookup(String key) {
        Objects.requireNonNull(key, "key");
        PendingWrite pending = pendingWrites.get(key);
        if (pending != null) {
            return CompletableFuture.completedFuture(pending.object);
        }
        if (closed.get() || index.getIfPresent(key) == null) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<@Nullable CachedObject> result = new CompletableFuture<>();
        boolean queued = runOnFileThread(() -> {
            try {
                result.complete(readFile(key));
            } catch (RuntimeException | Error e) {
                result.completeExceptionally(e);
            }
        });
        if (!queued) {
            result.complete(null);
        }
        return result;
    }

    /**
     * Stores {@code object}, writing its file in the background. One this tier does not keep (a body
     * above {@link #maxObjectSize()}, or already of no use) still replaces: the older object under
     * {@code key} goes, since the origin has sent something newer. Ignored after {@link #close()}.
     */
    @Override
    public void put(String key, CachedObject object) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(object, "object");
        if (closed.get()) {
            return;
        }
        if (object.body().length > maxObjectSize || expiry.isUseless(object.meta())) {
            purge(key);
            return;
        }
        PendingWrite write = new PendingWrite(object);
        pendingWrites.put(key, write);
        if (!runOnFileThread(() -> write(key, write))) {
            pendingWrites.remove(key, write);
        }
    }

    /** Replaces the metadata; the file is rewritten in the background (its body copied file to file). */
    @Override
    public boolean updateMeta(String key, CacheMeta meta) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(meta, "meta");
        PendingWrite rewritten = pendingWrites.computeIfPresent(key,
                (k, pending) -> new PendingWrite(pending.object.withMeta(meta)));
        if (rewritten != null) {
            return runOnFileThread(() -> write(key, rewritten));
        }
        DiskEntry entry = index.policy().getIfPresentQuietly(key);
        return entry != null && runOnFileThread(() -> rewriteMeta(key, entry, meta));
    }

    @Override
    public boolean purge(String key) {
        Objects.requireNonNull(key, "key");
        boolean pending = pendingWrites.remove(key) != null;
        return forget(key) || pending;
    }

    @Override
    public int purgePrefix(String prefix) {
        return purgeAll(prefix).size();
    }

    /** Removes every object whose key starts with {@code prefix}, pending or on disk; their keys. */
    Set<String> purgeAll(String prefix) {
        Objects.requireNonNull(prefix, "prefix");
        Set<String> removed = TierCaches.removeStartingWith(pendingWrites.keySet(), prefix,
                key -> pendingWrites.remove(key) != null);
        removed.addAll(TierCaches.removeStartingWith(index.asMap().keySet(), prefix, this::forget));
        return removed;
    }

    @Override
    public long maxObjectSize() {
        return maxObjectSize;
    }

    /** One tier, {@code disk}: the files in the index (not the writes still pending). */
    @Override
    public List<CacheTierStats> stats() {
        return List.of(TierCaches.stats("disk", index, maxBytes, evictions));
    }

    /**
     * Finishes the pending writes and deletions (waiting up to 10 s for them, then 10 s for the thread)
     * and stops the storage's thread. The files stay: a new storage on the directory finds them.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        index.cleanUp();
        if (!flush(CLOSE_WAIT)) {
            LOG.log(System.Logger.Level.WARNING, "disk cache {0}: pending writes did not finish within {1}; "
                    + "stopping anyway (unfinished objects are lost, nothing is corrupted)", directory, CLOSE_WAIT);
        }
        fileThread.shutdown();
        try {
            fileThread.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits (up to 30 s) until every file operation asked for so far, and those they asked for, is done. */
    void flush() {
        if (!flush(Duration.ofSeconds(30))) {
            throw new IllegalStateException("disk cache " + directory + ": pending file operations did not finish");
        }
    }

    /** The most bytes of files the tier keeps. */
    long maxBytes() {
        return maxBytes;
    }

    private boolean flush(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        // A marker runs after everything queued before it. Tasks queued meanwhile (a write's evictions
        // queue deletions) run after it: go round again until nothing is left.
        do {
            CompletableFuture<Void> marker = new CompletableFuture<>();
            try {
                fileThread.execute(() -> marker.complete(null));
                marker.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                return queuedTasks.get() == 0;
            } catch (TimeoutException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } catch (ExecutionException e) {
                throw new IllegalStateException("a marker task cannot fail", e);
            }
        } while (queuedTasks.get() > 0);
        return true;
    }

    /** Queues {@code task} on the file thread; false when the storage is stopped. */
    private boolean runOnFileThread(Runnable task) {
        queuedTasks.incrementAndGet();
        try {
            fileThread.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.ERROR, "disk cache " + directory + ": a file operation failed", e);
                } finally {
                    queuedTasks.decrementAndGet();
                }
            });
            return true;
        } catch (RejectedExecutionException e) {
            queuedTasks.decrementAndGet();
            return false;
        }
    }

    /** Removes {@code key} from the index and has its file deleted; whether it was there. */
    private boolean forget(String key) {
        if (index.asMap().remove(key) == null) {
            return false;
        }
        deleteFileLater(key);
        return true;
    }

    /**
     * Deletes {@code key}'s file on the file thread, unless the index holds the key again by then: the
     * file then belongs to a newer write of the same key (same key, same name).
     */
    private void deleteFileLater(String key) {
        runOnFileThread(() -> {
            if (index.policy().getIfPresentQuietly(key) != null) {
                return;
            }
            try {
                Files.deleteIfExists(DiskObjectFile.pathOf(directory, key));
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "disk cache " + directory + ": cannot delete the file of "
                        + key, e);
            }
        });
    }

    // ---- On the file thread ----

    private void write(String key, PendingWrite write) {
        if (pendingWrites.get(key) != write) {
            return; // purged, or superseded by a later put whose own task writes it
        }
        long uselessAtMillis = UntilUseless.uselessAtMillis(write.object.meta());
        long size;
        try {
            size = replaceFile(key, temp -> DiskObjectFile.write(temp, key, write.object, uselessAtMillis));
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "disk cache " + directory + ": cannot store " + key, e);
            pendingWrites.remove(key, write);
            forget(key); // what is on disk is older than what was put
            return;
        }
        DiskEntry entry = new DiskEntry(size, uselessAtMillis);
        index.put(key, entry);
        if (!pendingWrites.remove(key, write) && index.asMap().remove(key, entry)) {
            // Purged, or superseded, while the file was written: take back what this write registered.
            // A superseding write's task comes after the deletion's check, and registers its own file.
            deleteFileLater(key);
        }
    }

    private void rewriteMeta(String key, DiskEntry entry, CacheMeta meta) {
        if (index.policy().getIfPresentQuietly(key) != entry) {
            return; // purged, evicted or rewritten since
        }
        Path file = DiskObjectFile.pathOf(directory, key);
        long uselessAtMillis = UntilUseless.uselessAtMillis(meta);
        long size;
        try {
            size = replaceFile(key, temp -> DiskObjectFile.writeWithMeta(temp, file, key, meta, uselessAtMillis));
        } catch (IOException | RuntimeException e) {
            // Missing, unreadable or another key's: dropped, as a read would drop it.
            LOG.log(System.Logger.Level.WARNING, "disk cache " + directory + ": cannot rewrite " + key, e);
            forget(key); // its metadata is out of date
            return;
        }
        // Fails only when the entry was purged or evicted meanwhile: its deletion is queued behind this
        // task, and finds the key gone from the index.
        index.asMap().replace(key, entry, new DiskEntry(size, uselessAtMillis));
    }

    /** Writes the temporary file of a new version of an object; returns its size. */
    @FunctionalInterface
    private interface TempFileWriter {
        long writeTo(Path temp) throws IOException;
    }

    /** Has {@code writer} write {@code key}'s file under a temporary name, then gives it the object's name. */
    private long replaceFile(String key, TempFileWriter writer) throws IOException {
        Path file = DiskObjectFile.pathOf(directory, key);
        Path temp = DiskObjectFile.tempOf(file);
        Files.createDirectories(file.getParent());
        try {
            long size = writer.writeTo(temp);
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
            return size;
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
    }

    /** The object in {@code key}'s file, or null (gone from the index, missing or unreadable: then forgotten). */
    private @Nullable CachedObject readFile(String key) {
        if (index.policy().getIfPresentQuietly(key) == null) {
            return null; // purged or evicted since the lookup: its file is going
        }
        Path file = DiskObjectFile.pathOf(directory, key);
        try {
            DiskObjectFile.Stored stored = DiskObjectFile.read(file);
            if (stored.header().key().equals(key)) {
                return stored.object();
            }
            LOG.log(System.Logger.Level.WARNING, "disk cache {0}: {1} holds another key (a SHA-256 collision?)",
                    directory, file);
        } catch (NoSuchFileException e) {
            LOG.log(System.Logger.Level.WARNING, "disk cache {0}: {1} was deleted by someone else", directory, file);
        } catch (CorruptFileException e) {
            LOG.log(System.Logger.Level.WARNING, "disk cache {0}: dropping a corrupt file: {1}", directory,
                    e.getMessage());
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "disk cache " + directory + ": cannot read " + file, e);
        }
        forget(key);
        return null;
    }

    // ---- Start ----

    /**
     * Registers every object file under the directory from its header alone; deletes temporary files
     * (writes a crash interrupted), unreadable files and objects of no use any more.
     */
    private void loadIndex(long nowMillis) throws IOException {
        int loaded = 0;
        int deleted = 0;
        List<Path> files;
        // find() hands over the attributes the walk read already: no second stat per file.
        try (Stream<Path> found = Files.find(directory, 3, (file, attributes) -> attributes.isRegularFile())) {
            files = found.toList();
        }
        for (Path file : files) {
            Path relative = directory.relativize(file);
            if (DiskObjectFile.isTempFile(relative)) {
                deleted += Files.deleteIfExists(file) ? 1 : 0;
            } else if (DiskObjectFile.isObjectFile(relative)) {
                if (register(file, nowMillis)) {
                    loaded++;
                } else {
                    deleted += Files.deleteIfExists(file) ? 1 : 0;
                }
            }
        }
        LOG.log(System.Logger.Level.INFO, "disk cache {0}: {1} objects found, {2} unusable files deleted",
                directory, loaded, deleted);
    }

    /** Registers the object in {@code file}; false when it is unreadable, misplaced or of no use. */
    private boolean register(Path file, long nowMillis) throws IOException {
        Header header;
        try {
            header = DiskObjectFile.readHeader(file);
        } catch (CorruptFileException e) {
            LOG.log(System.Logger.Level.DEBUG, "disk cache {0}: {1}", directory, e.getMessage());
            return false;
        }
        if (!DiskObjectFile.nameOf(header.key()).equals(file.getFileName().toString())
                || header.uselessAtMillis() <= nowMillis) {
            return false;
        }
        index.put(header.key(), new DiskEntry(header.fileSize(), header.uselessAtMillis()));
        return true;
    }

    /** Builds a {@link DiskCacheStorage}. */
    public static final class Builder extends TierBuilder<Builder> {
        private final Path directory;

        private Builder(Path directory, long maxBytes) {
            super(maxBytes, DEFAULT_MAX_OBJECT_SIZE);
            this.directory = Objects.requireNonNull(directory, "directory");
        }

        @Override
        Builder self() {
            return this;
        }

        /**
         * Creates the directory if need be and reads the header of every file in it (on this thread).
         *
         * @throws UncheckedIOException when the directory cannot be created or read
         */
        public DiskCacheStorage build() {
            checkMaxObjectSize(Math.min(maxBytes, LARGEST_BODY));
            try {
                return new DiskCacheStorage(this);
            } catch (IOException e) {
                throw new UncheckedIOException("disk cache " + directory + ": cannot open", e);
            }
        }
    }
}
