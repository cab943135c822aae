package dev.relay.filters.cache;

import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.cache.CacheModuleFactory;

import static java.util.Objects.requireNonNull;

/**
 * The {@code cache} filter: an RFC 9111 shared cache in front of the origin, in memory or in memory
 * in front of a directory (which survives a restart). Responses are stored and served as
 * {@link dev.relay.core.cache.HttpCache} decides; the {@code Cache-Status} field (RFC 9211) says what
 * the cache did.
 *
 * <pre>{@code
 * proxy.filters = [{
 *   name = cache
 *   max-size = 256MiB                                   # memory tier
 *   max-object-size = 8MiB                              # larger bodies stream through uncached
 *   disk { path = "/var/cache/relay", max-size = 10GiB }  # optional disk tier
 *   lock-timeout = 5s                                   # concurrent misses of one key: one origin request
 *   purge-allow = [ "127.0.0.0/8", "::1/128" ]          # who may send PURGE
 *   stale-while-revalidate = 0s                         # when a response gives none
 *   stale-if-error = 0s                                 # when a response gives none
 *   heuristic-freshness = false                         # Last-Modified heuristics (RFC 9111 4.2.2)
 *   status-name = relay                                 # the name in Cache-Status
 * }]
 * }</pre>
 *
 * <p>Every key is optional but {@code disk.path} in a {@code disk} block, which must be absolute.
 * Sizes are HOCON sizes ({@code 512k}, {@code 256MiB}, {@code 10GiB}) or numbers of bytes; each tier
 * keeps bodies up to the smaller of {@code max-object-size} and its own size. {@link #create} checks
 * everything and throws an {@link InvalidSettingException} naming the key.
 *
 * <p>A reload that keeps a filter's settings keeps its cache with what it stores (this provider is
 * loaded once per process and remembers the caches its filters hold); filters with equal settings
 * share one cache. The server releases the filters of a configuration it retires, and the last
 * release closes the cache ({@link CacheModuleFactory#release()}).
 */
public final class CacheFilterProvider implements FilterProvider {
    /** The name configurations use. */
    public static final String NAME = "cache";

    private final SharedCaches caches = new SharedCaches();

    /** Used by {@link java.util.ServiceLoader}. */
    public CacheFilterProvider() {}

    @Override
    public String name() {
        return NAME;
    }

    /**
     * A filter over the cache of {@code settings}: the one a live configuration already holds with
     * equal settings, or a new one (opening the disk tier reads its directory's index on this thread).
     */
    @Override
    public CacheModuleFactory create(FilterSettings settings) {
        requireNonNull(settings, "settings");
        return caches.acquire(CacheFilterSettings.read(settings));
    }

    /** How many caches this provider has open (tests). */
    int openCaches() {
        return caches.openCaches();
    }

    /** How many disk tiers are open (tests). */
    int openDisks() {
        return caches.openDisks();
    }
}
