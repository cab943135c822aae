package dev.relay.filters.cache;

import dev.relay.core.cache.CacheKey;
import dev.relay.core.cache.CacheTierStats;
import dev.relay.core.cache.CachedObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.relay.filters.cache.TestObjects.assertSameObject;
import static dev.relay.filters.cache.TestObjects.object;
import static dev.relay.filters.cache.TestObjects.objectOfSize;
import static dev.relay.filters.cache.TestObjects.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
class TieredCacheStorageTest {
    private static final long NOW = System.currentTimeMillis();

    @TempDir
    Path directory;

    private MemoryCacheStorage memory;
    private DiskCacheStorage disk;
    private TieredCacheStorage tiered;

    @BeforeEach
    void open() {
        memory = MemoryCacheStorage.builder(1 << 20).maxObjectSize(100).maintenanceExecutor(Runnable::run).build();
        disk = DiskCacheStorage.builder(directory, 1 << 20).maxObjectSize(10_000).maintenanceExecutor(Runnable::run)
                .build();
        tiered = new TieredCacheStorage(memory, disk);
    }

    @AfterEach
    void close() {
        tiered.close();
    }

    private CachedObject fromTiered(String key) throws Exception {
        return tiered.lookup(key).toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    private CachedObject fromDisk(String key) throws Exception {
        return disk.lookup(key).toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    @Test
    void putStoresInBothTiers() throws Exception {
        CachedObject stored = object("both", NOW);
        tiered.put("http://a/x", stored);
        disk.flush();

        assertSameObject(stored, memory.get("http://a/x"));
        assertSameObject(stored, fromDisk("http://a/x"));
        assertTrue(tiered.lookup("http://a/x").toCompletableFuture().isDone(), "a memory hit answers at once");
    }

    @Test
    void diskHitIsPromotedIntoMemory() throws Exception {
        CachedObject stored = object("on disk", NOW);
        disk.put("http://a/x", stored);
        disk.flush();
        assertNull(memory.get("http://a/x"));

        assertSameObject(stored, fromTiered("http://a/x"));
        CachedObject promoted = memory.get("http://a/x");
        assertSameObject(stored, promoted);
        assertEquals("on disk", text(fromTiered("http://a/x")));
    }

    @Test
    void missInBothTiersIsNull() throws Exception {
        assertNull(fromTiered("http://a/none"));
        assertNull(memory.get("http://a/none"), "nothing promoted");
    }

    @Test
    void objectTooLargeForMemoryLivesOnDiskAlone() throws Exception {
        tiered.put("http://a/big", objectOfSize(1_000));
        disk.flush();

        assertNull(memory.get("http://a/big"));
        assertEquals(1_000, fromTiered("http://a/big").body().length);
        assertNull(memory.get("http://a/big"), "a promotion keeps to memory's cap too");
        assertEquals(10_000, tiered.maxObjectSize(), "the larger of the two caps");
    }

    @Test
    void purgeRemovesFromBothTiers() throws Exception {
        tiered.put("http://a/x", object("x", NOW));
        disk.flush();

        assertTrue(tiered.purge("http://a/x"));
        assertFalse(tiered.purge("http://a/x"));
        disk.flush();
        assertNull(memory.get("http://a/x"));
        assertNull(fromDisk("http://a/x"));
        assertFalse(Files.exists(DiskObjectFile.pathOf(directory, "http://a/x")));
        assertNull(fromTiered("http://a/x"));
    }

    @Test
    void purgePrefixRemovesFromBothTiersAndCountsEachObjectOnce() throws Exception {
        CacheKey resource = CacheKey.of("http://a/x");
        tiered.put(resource.withVariance("gzip").storageKey(), object("gz", NOW));
        tiered.put(resource.withVariance("br").storageKey(), objectOfSize(1_000)); // on disk only
        tiered.put("http://a/y", object("y", NOW));
        disk.flush();

        assertEquals(2, tiered.purgePrefix(resource.variantPrefix()));
        assertNull(fromTiered(resource.withVariance("gzip").storageKey()));
        assertNull(fromTiered(resource.withVariance("br").storageKey()));
        assertEquals("y", text(fromTiered("http://a/y")));
    }

    @Test
    void updateMetaReachesBothTiers() throws Exception {
        tiered.put("http://a/x", object("x", NOW));
        disk.flush();
        CachedObject revalidated = object("x", NOW + 2_000);

        assertTrue(tiered.updateMeta("http://a/x", revalidated.meta()));
        disk.flush();
        assertSameObject(revalidated, memory.get("http://a/x"));
        assertSameObject(revalidated, fromDisk("http://a/x"));
    }

    @Test
    void statsListMemoryThenDisk() {
        tiered.put("http://a/x", object("x", NOW));
        disk.flush();

        List<CacheTierStats> stats = tiered.stats();
        assertEquals(List.of("memory", "disk"), stats.stream().map(CacheTierStats::tier).toList());
        assertEquals(1, stats.get(0).entries());
        assertEquals(1, stats.get(1).entries());
    }
}
