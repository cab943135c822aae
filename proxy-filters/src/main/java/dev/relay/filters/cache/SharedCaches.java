package dev.relay.filters.cache;

import dev.relay.core.cache.HttpCache;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;

/**
 * The caches that one {@link CacheFilterProvider} made and that a configuration still holds, by their
 * settings. The server loads each provider once per process, so a reload that gives a filter the
 * same settings gets the same cache, stored objects and counters included; and every filter of one
 * configuration with equal settings shares one cache.
 *
 * <p>Each {@link CacheFilter} handed out holds its cache until the server {@linkplain CacheFilter#release()
 * releases} it; the last release closes the cache's storage. A cache with other settings but the same
 * disk directory is closed before the new one opens it, whoever still holds it: two storages on one
 * directory would delete each other's files. Requests still in flight on the closed one then miss and
 * store nothing ({@link DiskCacheStorage} after {@code close()}); nothing throws.
 *
 * <p>Thread-safe; opening and closing a disk tier (reading its index, flushing its writes) happen
 * under the lock, on the thread that loads or retires a configuration, never an event loop.
 */
final class SharedCaches {
    private final Map<CacheFilterSettings, Shared> caches = new HashMap<>();

    /** One cache and how many unreleased filters hold it. */
    private static final class Shared {
        final HttpCache cache;
        int holders;

        Shared(HttpCache cache) {
            this.cache = cache;
        }
    }

    /** A filter on the cache of {@code settings}: the one already held, or a new one. */
    synchronized CacheFilter acquire(CacheFilterSettings settings) {
        Shared shared = caches.get(settings);
        if (shared == null) {
            if (settings.diskPath() != null) {
                closeOnDirectory(settings.diskPath());
            }
            shared = new Shared(settings.newCache());
            caches.put(settings, shared);
        }
        shared.holders++;
        return new CacheFilter(shared.cache, settings, this);
    }

    /** Drops {@code filter}'s hold on its cache; the last hold closes it. Once per filter. */
    synchronized void release(CacheFilter filter) {
        Shared shared = caches.get(filter.settings());
        if (shared == null || shared.cache != filter.cache()) {
            return; // already closed, for another cache on its directory
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

    private void closeOnDirectory(Path directory) {
        for (Iterator<Map.Entry<CacheFilterSettings, Shared>> it = caches.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<CacheFilterSettings, Shared> entry = it.next();
            if (Objects.equals(entry.getKey().diskPath(), directory)) {
                it.remove();
                entry.getValue().cache.storage().close();
            }
        }
    }
}
