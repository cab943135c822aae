package dev.relay.filters.cache;

import com.github.benmanes.caffeine.cache.Cache;
import dev.relay.core.cache.CacheTierStats;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;

/** What the tiers do alike with the Caffeine cache that holds their entries. */
final class TierCaches {
    private TierCaches() {}

    /**
     * Removes, with {@code remover}, each of {@code keys} that starts with {@code prefix}; the keys it
     * removed. {@code keys} is a live, weakly consistent view, so a key may be gone by the time it is
     * tried: {@code remover} says whether it removed anything.
     */
    static Set<String> removeStartingWith(Iterable<String> keys, String prefix, Predicate<String> remover) {
        Set<String> removed = new HashSet<>();
        for (String key : keys) {
            if (key.startsWith(prefix) && remover.test(key)) {
                removed.add(key);
            }
        }
        return removed;
    }

    /** A snapshot of the tier {@code tier} whose entries {@code cache} holds; its pending maintenance done first. */
    static CacheTierStats stats(String tier, Cache<String, ?> cache, long maxBytes, LongAdder evictions) {
        cache.cleanUp();
        long bytes = cache.policy().eviction().orElseThrow().weightedSize().orElse(0);
        return new CacheTierStats(tier, cache.estimatedSize(), bytes, maxBytes, evictions.sum());
    }
}
