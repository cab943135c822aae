package dev.relay.filters.cache;

import dev.relay.core.cache.HttpCache;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The caches that one {@link CacheFilterProvider} made and that a configuration still holds, by their
 * settings. The server loads each provider once per process, so a reload that gives a filter the
 * same settings gets the same cache, stored objects and counters included; and every filter of one
 * configuration with equal settings shares one cache.
 *
 * <p>Each {@link CacheFilter} handed out holds its cache until the server {@linkplain CacheFilter#release()
 * releases} it; the last release closes the cache's storage. Disk tiers are shared apart, by
 * directory: a reload that changes a cache's other settings (its memory size, its lock timeout ...)
 * makes a new cache over the same open disk tier, so nothing on disk is closed, and a reload that is
 * then rejected leaves the running cache whole. Only a change of the disk tier's own settings (its
 * size, the largest object) closes the old disk tier before the new one opens the directory: two
 * storages on one directory would delete each other's files. Requests still in flight on the closed
 * one then miss and store nothing ({@link DiskCacheStorage} after {@code close()}); nothing throws.
 *
 * <p>Thread-safe; opening and closing a disk tier (reading its index, flushing its writes) happen
 * under the lock, on the thread that loads or retires a configuration, never an event loop.
 */
final class SharedCaches {
    private final Map<CacheFilterSettings, Shared> caches = new HashMap<>();
    private final Map<Path, SharedDisk> disks = new HashMap<>();

    /** One cache and how many unreleased filters hold it. */
    private static final class Shared {
        final HttpCache cache;
        int holders;

        Shared(HttpCache cache) {
            this.cache = cache;
        }
    }

    /** One open disk tier and how many caches hold it. */
    private static final class SharedDisk {
        final DiskCacheStorage disk;
        int holders;

        SharedDisk(DiskCacheStorage disk) {
            this.disk = disk;
        }
    }

    /** A filter on the cache of {@code settings}: the one already held, or a new one. */
    synchronized CacheFilter acquire(CacheFilterSettings settings) {
        Shared shared = caches.get(settings);
        if (shared == null) {
            Path directory = settings.diskPath();
            SharedDisk disk = directory == null ? null : holdDisk(settings, directory);
            AtomicBoolean released = new AtomicBoolean();
            Runnable releaseDisk = () -> {
                if (disk != null && released.compareAndSet(false, true)) {
                    releaseDisk(disk, directory);
                }
            };
            try {
                shared = new Shared(settings.newCache(disk == null ? null : disk.disk, releaseDisk));
            } catch (RuntimeException e) {
                releaseDisk.run();
                throw e;
            }
            caches.put(settings, shared);
        }
        shared.holders++;
        return new CacheFilter(shared.cache, settings, this);
    }

    /** Drops {@code filter}'s hold on its cache; the last hold closes it. Once per filter. */
    synchronized void release(CacheFilter filter) {
        Shared shared = caches.get(filter.settings());
        if (shared == null || shared.cache != filter.cache()) {
            return;
        }
        if (--shared.holders == 0) {
            caches.remove(filter.settings());
            shared.cache.storage().close();
        }
    }

    /** How many caches are open (tests). */
    synchronized int openCaches() {
        return caches.size();
    }

    /** How many disk tiers are open (tests). */
    synchronized int openDisks() {
        return disks.size();
    }

    /** A hold on the disk tier of {@code settings}: the open one when its settings match, else a new one. */
    private SharedDisk holdDisk(CacheFilterSettings settings, Path directory) {
        SharedDisk open = disks.get(directory);
        if (open != null && (open.disk.maxBytes() != settings.diskMaxSize()
                || open.disk.maxObjectSize() != settings.diskMaxObjectSize())) {
            disks.remove(directory);
            open.disk.close();
            open = null;
        }
        if (open == null) {
            open = new SharedDisk(settings.openDisk());
            disks.put(directory, open);
        }
        open.holders++;
        return open;
    }

    private synchronized void releaseDisk(SharedDisk shared, Path directory) {
        if (--shared.holders == 0 && disks.get(directory) == shared) {
            disks.remove(directory);
            shared.disk.close();
        }
    }
}
