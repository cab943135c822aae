package dev.relay.core.cache;

import dev.relay.core.CidrBlock;
import org.jspecify.annotations.Nullable;

import java.net.SocketAddress;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;

/**
 * One HTTP cache: a {@link CacheStorage}, the rules it applies, and its counters. Built once and
 * shared by every request that enables it ({@link dev.relay.core.Session#cache()}, usually from
 * {@link dev.relay.core.ProxyHttp#requestCacheFilter} or a module's request hook), on any event loop.
 *
 * <pre>{@code
 * HttpCache cache = HttpCache.builder(storage).lockTimeout(Duration.ofSeconds(5)).build();
 * // in requestCacheFilter:
 * session.cache().enable(cache);
 * }</pre>
 *
 * <p>Concurrent misses for one key make one origin request (the cache lock): the first request fetches,
 * the others wait up to {@link #lockTimeout()} and are served from its response as it arrives.
 */
public final class HttpCache {
    private final CacheStorage storage;
    private final CacheDefaults defaults;
    private final Duration lockTimeout;
    private final List<CidrBlock> purgeAllowedFrom;
    private final String statusName;
    private final Map<CacheResult, LongAdder> results = new EnumMap<>(CacheResult.class);
    private final LongAdder lockWaits = new LongAdder();
    private final LongAdder lockTimeouts = new LongAdder();
    private final LongAdder revalidationsInBackground = new LongAdder();

    private HttpCache(Builder b) {
        this.storage = b.storage;
        this.defaults = b.defaults;
        this.lockTimeout = b.lockTimeout;
        this.purgeAllowedFrom = List.copyOf(b.purgeAllowedFrom);
        this.statusName = b.statusName;
        for (CacheResult r : CacheResult.values()) {
            results.put(r, new LongAdder());
        }
    }

    /** A cache over {@code storage}, with RFC 9111 defaults, a 5 s lock and purges from loopback only. */
    public static Builder builder(CacheStorage storage) {
        return new Builder(storage);
    }

    public CacheStorage storage() {
        return storage;
    }

    public CacheDefaults defaults() {
        return defaults;
    }

    /** How long a request waits for another's fetch of the same key before going to the origin itself. */
    public Duration lockTimeout() {
        return lockTimeout;
    }

    /** The cache's name in the {@code Cache-Status} field (RFC 9211). */
    public String statusName() {
        return statusName;
    }

    /** Whether a {@code PURGE} from {@code client} is allowed. */
    public boolean mayPurge(@Nullable SocketAddress client) {
        for (CidrBlock block : purgeAllowedFrom) {
            if (block.contains(client)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Removes the stored response of {@code key} with every variant of it; whether there was any.
     * With {@code prefix}, every object whose primary key starts with {@code key.primary()} goes.
     *
     * @return how many objects were removed
     */
    public int purge(CacheKey key, boolean prefix) {
        if (prefix) {
            return storage.purgePrefix(key.primary());
        }
        int removed = storage.purge(key.primary()) ? 1 : 0;
        return removed + storage.purgePrefix(key.variantPrefix());
    }

    /** Counts a request's outcome; the engine calls it once per request that enabled this cache. */
    public void record(CacheResult result) {
        results.get(result).increment();
    }

    /** Counts a request that starts waiting for another's fetch of the same key. */
    public void recordLockWait() {
        lockWaits.increment();
    }

    /** Counts a wait on another's fetch that ran out of time (the request then went to the origin itself). */
    public void recordLockTimeout() {
        lockTimeouts.increment();
    }

    /** Counts a stale-while-revalidate refresh started in the background. */
    public void recordBackgroundRevalidation() {
        revalidationsInBackground.increment();
    }

    /** A snapshot of the counters and of every storage tier. */
    public CacheStats stats() {
        Map<CacheResult, Long> counts = new EnumMap<>(CacheResult.class);
        results.forEach((r, n) -> counts.put(r, n.sum()));
        return new CacheStats(counts, lockWaits.sum(), lockTimeouts.sum(), revalidationsInBackground.sum(),
                storage.stats());
    }

    /**
     * The counters of a cache.
     *
     * @param results                   requests by outcome
     * @param lockWaits                 requests that waited for another's fetch of the same key
     * @param lockTimeouts              of those, the ones whose wait ran out
     * @param backgroundRevalidations   stale-while-revalidate refreshes started
     * @param tiers                     the storage tiers, fastest first
     */
    public record CacheStats(Map<CacheResult, Long> results, long lockWaits, long lockTimeouts,
                             long backgroundRevalidations, List<CacheTierStats> tiers) {
        public CacheStats {
            results = Map.copyOf(results);
            tiers = List.copyOf(tiers);
        }

        /** Requests with {@code result}. */
        public long count(CacheResult result) {
            return results.getOrDefault(result, 0L);
        }
    }

    /** Builds an {@link HttpCache}. */
    public static final class Builder {
        private final CacheStorage storage;
        private CacheDefaults defaults = CacheDefaults.RFC9111;
        private Duration lockTimeout = Duration.ofSeconds(5);
        private List<CidrBlock> purgeAllowedFrom = List.of(CidrBlock.parse("127.0.0.0/8"), CidrBlock.parse("::1/128"));
        private String statusName = "relay";

        private Builder(CacheStorage storage) {
            this.storage = Objects.requireNonNull(storage, "storage");
        }

        /** What the cache assumes where a response says nothing; {@link CacheDefaults#RFC9111} by default. */
        public Builder defaults(CacheDefaults defaults) {
            this.defaults = Objects.requireNonNull(defaults, "defaults");
            return this;
        }

        /** How long a request waits for another's fetch of the same key (5 s, as nginx's {@code proxy_cache_lock_timeout}). */
        public Builder lockTimeout(Duration lockTimeout) {
            if (lockTimeout.isNegative()) {
                throw new IllegalArgumentException("lockTimeout: " + lockTimeout);
            }
            this.lockTimeout = lockTimeout;
            return this;
        }

        /** The client networks a {@code PURGE} is accepted from (loopback by default; empty: none). */
        public Builder purgeAllowedFrom(List<CidrBlock> blocks) {
            this.purgeAllowedFrom = List.copyOf(blocks);
            return this;
        }

        /** The cache's name in {@code Cache-Status} ({@code relay} by default). */
        public Builder statusName(String statusName) {
            if (statusName.isEmpty() || statusName.chars().anyMatch(c -> c <= ' ' || c == ';' || c == ',' || c >= 127)) {
                throw new IllegalArgumentException("statusName must be a token: " + statusName);
            }
            this.statusName = statusName;
            return this;
        }

        public HttpCache build() {
            return new HttpCache(this);
        }
    }
}
