package dev.relay.filters.cache;

import dev.relay.core.cache.CacheKey;
import dev.relay.core.cache.CacheMeta;
import dev.relay.core.cache.CacheTierStats;
import dev.relay.core.cache.CachedObject;
import dev.relay.filters.cache.TestObjects.ManualTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.relay.filters.cache.TestObjects.START_MILLIS;
import static dev.relay.filters.cache.TestObjects.assertSameMeta;
import static dev.relay.filters.cache.TestObjects.assertSameObject;
import static dev.relay.filters.cache.TestObjects.meta;
import static dev.relay.filters.cache.TestObjects.object;
import static dev.relay.filters.cache.TestObjects.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class MemoryCacheStorageTest {
    private final ManualTime time = new ManualTime();

    private MemoryCacheStorage storage(long maxBytes, long maxObjectSize) {
        return MemoryCacheStorage.builder(maxBytes).maxObjectSize(maxObjectSize)
                .time(time, time).maintenanceExecutor(Runnable::run).build();
    }

    private static CachedObject lookupNow(MemoryCacheStorage storage, String key) {
        CompletableFuture<CachedObject> found = storage.lookup(key).toCompletableFuture();
        assertTrue(found.isDone(), "a memory lookup completes on the caller's thread");
        return found.join();
    }

    @Test
    void looksUpWhatWasPutAtOnce() {
        MemoryCacheStorage storage = storage(1 << 20, 1 << 16);
        CachedObject stored = object("hello", START_MILLIS);
        storage.put("http://a/x", stored);

        assertSameObject(stored, lookupNow(storage, "http://a/x"));
        assertNull(lookupNow(storage, "http://a/other"));
        CacheTierStats stats = storage.stats().get(0);
        assertEquals("memory", stats.tier());
        assertEquals(1, stats.entries());
        // Weighed as kept: the encoded metadata, the body, the key and a fixed cost per entry.
        assertEquals(160 + 2 * "http://a/x".length() + stored.meta().encode().length + stored.body().length, stats.bytes());
        assertEquals(1 << 20, stats.maxBytes());
    }

    @Test
    void refusesBodyLargerThanMaxObjectSizeAndDropsTheOlderObject() {
        MemoryCacheStorage storage = storage(1 << 20, 10);
        storage.put("http://a/fits", object("0123456789", START_MILLIS));
        storage.put("http://a/big", object("0123456789A", START_MILLIS));

        assertEquals("0123456789", text(lookupNow(storage, "http://a/fits")));
        assertNull(lookupNow(storage, "http://a/big"));
        assertEquals(10, storage.maxObjectSize());

        storage.put("http://a/fits", object("0123456789AB", START_MILLIS));
        assertNull(lookupNow(storage, "http://a/fits"), "a newer response, even one not kept, replaces the older");
    }

    @Test
    void evictsByWeightWithinMaxBytesAndCountsEvictions() {
        long maxBytes = 20_000;
        MemoryCacheStorage storage = storage(maxBytes, 2_000);
        for (int i = 0; i < 100; i++) {
            storage.put("http://a/" + i, new CachedObject(object("", START_MILLIS).meta(), new byte[1_000]));
        }

        CacheTierStats stats = storage.stats().get(0);
        assertTrue(stats.bytes() <= maxBytes, "weighs " + stats.bytes() + " bytes");
        assertTrue(stats.entries() > 0 && stats.entries() < 100, stats.entries() + " entries");
        assertEquals(100 - stats.entries(), stats.evictions(), "every object missing was evicted by size");
    }

    @Test
    void dropsObjectWithoutValidatorOnceStaleBeyondItsStaleWindows() {
        MemoryCacheStorage storage = storage(1 << 20, 1 << 16);
        // Fresh 10 s, then 5 s of stale-while-revalidate and 20 s of stale-if-error: of use for 30 s.
        storage.put("http://a/x", new CachedObject(meta(START_MILLIS, 10, 5, 20, false, false), new byte[3]));

        time.advance(Duration.ofSeconds(29));
        assertNotNull(lookupNow(storage, "http://a/x"), "still servable if the origin fails");
        time.advance(Duration.ofSeconds(2));
        assertNull(lookupNow(storage, "http://a/x"));
        assertEquals(0, storage.stats().get(0).evictions(), "an expiry is not a size eviction");
    }

    @Test
    void dropsMustRevalidateObjectWithoutValidatorOnceStale() {
        MemoryCacheStorage storage = storage(1 << 20, 1 << 16);
        storage.put("http://a/x", new CachedObject(meta(START_MILLIS, 10, 0, 600, true, false), new byte[3]));

        time.advance(Duration.ofSeconds(9));
        assertNotNull(lookupNow(storage, "http://a/x"));
        time.advance(Duration.ofSeconds(2));
        assertNull(lookupNow(storage, "http://a/x"), "must-revalidate: the stale windows do not apply");
    }

    @Test
    void keepsStaleObjectWithValidatorForRevalidation() {
        MemoryCacheStorage storage = storage(1 << 20, 1 << 16);
        storage.put("http://a/x", new CachedObject(meta(START_MILLIS, 10, 0, 0, false, true), new byte[3]));

        time.advance(Duration.ofDays(30));
        assertNotNull(lookupNow(storage, "http://a/x"), "an ETag can make it fresh again with a 304");
    }

    @Test
    void doesNotStoreObjectAlreadyOfNoUse() {
        MemoryCacheStorage storage = storage(1 << 20, 1 << 16);
        time.advance(Duration.ofMinutes(1));
        storage.put("http://a/x", new CachedObject(meta(START_MILLIS, 10, 0, 0, false, false), new byte[3]));

        assertNull(lookupNow(storage, "http://a/x"));
        assertEquals(0, storage.stats().get(0).entries());
    }

    @Test
    void updateMetaKeepsBodyAndMovesExpiry() {
        MemoryCacheStorage storage = storage(1 << 20, 1 << 16);
        storage.put("http://a/x", new CachedObject(meta(START_MILLIS, 10, 0, 0, false, false), new byte[] {1, 2}));
        time.advance(Duration.ofSeconds(8));
        CacheMeta revalidated = meta(START_MILLIS + 8_000, 100, 0, 0, false, false);

        assertTrue(storage.updateMeta("http://a/x", revalidated));
        assertFalse(storage.updateMeta("http://a/none", revalidated));
        time.advance(Duration.ofSeconds(50));
        CachedObject found = lookupNow(storage, "http://a/x");
        assertNotNull(found, "the new lifetime counts");
        assertSameMeta(revalidated, found.meta());
        assertSameObject(new CachedObject(revalidated, new byte[] {1, 2}), found);
    }

    @Test
    void purgeRemovesOneKey() {
        MemoryCacheStorage storage = storage(1 << 20, 1 << 16);
        storage.put("http://a/x", object("x", START_MILLIS));
        storage.put("http://a/y", object("y", START_MILLIS));

        assertTrue(storage.purge("http://a/x"));
        assertFalse(storage.purge("http://a/x"));
        assertNull(lookupNow(storage, "http://a/x"));
        assertEquals("y", text(lookupNow(storage, "http://a/y")));
    }

    @Test
    void purgePrefixRemovesEveryVariantAndNothingElse() {
        MemoryCacheStorage storage = storage(1 << 20, 1 << 16);
        CacheKey resource = CacheKey.of("http://a/x");
        storage.put(resource.withVariance("gzip").storageKey(), object("gz", START_MILLIS));
        storage.put(resource.withVariance("br").storageKey(), object("br", START_MILLIS));
        storage.put("http://a/xy", object("other", START_MILLIS));

        assertEquals(2, storage.purgePrefix(resource.variantPrefix()));
        assertNull(lookupNow(storage, resource.withVariance("gzip").storageKey()));
        assertNull(lookupNow(storage, resource.withVariance("br").storageKey()));
        assertEquals("other", text(lookupNow(storage, "http://a/xy")));
        assertEquals(1, storage.purgePrefix("http://a/"));
        assertEquals(0, storage.stats().get(0).entries());
    }

    @Test
    void closeDropsEverything() {
        MemoryCacheStorage storage = storage(1 << 20, 1 << 16);
        storage.put("http://a/x", object("x", START_MILLIS));
        storage.close();

        assertEquals(List.of(new CacheTierStats("memory", 0, 0, 1 << 20, 0)), storage.stats());
    }

    @Test
    void builderRejectsMaxObjectSizeAboveMaxBytes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MemoryCacheStorage.builder(100).maxObjectSize(101).build());
        assertTrue(e.getMessage().startsWith("maxObjectSize: 101"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MemoryCacheStorage.builder(0));
        assertEquals(100, MemoryCacheStorage.builder(100).build().maxObjectSize(), "the default fits the cap");
    }
}
