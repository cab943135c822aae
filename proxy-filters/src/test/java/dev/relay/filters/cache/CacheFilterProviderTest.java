package dev.relay.filters.cache;

import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.Session;
import dev.relay.core.cache.CacheModuleFactory;
import dev.relay.core.cache.CacheTierStats;
import dev.relay.core.cache.CachedObject;
import dev.relay.core.cache.HttpCache;
import dev.relay.core.cache.SessionCache;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;

import static dev.relay.filters.cache.TestObjects.object;
import static dev.relay.filters.cache.TestObjects.text;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
class CacheFilterProviderTest {
    @TempDir
    Path dir;

    private final CacheFilterProvider provider = new CacheFilterProvider();
    private final List<CacheModuleFactory> created = new ArrayList<>();

    @AfterEach
    void releaseAll() {
        created.forEach(CacheModuleFactory::release);
    }

    private CacheModuleFactory create(Map<String, ?> values) {
        CacheModuleFactory factory = provider.create(FilterSettings.of(values));
        created.add(factory);
        return factory;
    }

    private CacheFilterSettings settings(Map<String, ?> values) {
        return ((CacheFilter) create(values)).settings();
    }

    private static Map<String, Object> map(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    private static InvalidSettingException invalid(Map<String, ?> values) {
        return assertThrows(InvalidSettingException.class, () -> new CacheFilterProvider().create(FilterSettings.of(values)));
    }

    @Test
    void serviceLoaderFindsTheCacheFilter() {
        List<String> names = ServiceLoader.load(FilterProvider.class).stream().map(p -> p.get().name()).toList();
        assertTrue(names.contains("cache"), names.toString());
    }

    @Test
    void withoutSettingsItIsA256MiBMemoryCacheWithTheDocumentedDefaults() {
        CacheModuleFactory factory = create(Map.of());
        HttpCache cache = factory.cache();

        assertEquals("cache", factory.name());
        assertEquals(List.of(new CacheTierStats("memory", 0, 0, 256L << 20, 0)), cache.stats().tiers());
        assertEquals(8L << 20, cache.storage().maxObjectSize());
        assertEquals(Duration.ofSeconds(5), cache.lockTimeout());
        assertEquals("relay", cache.statusName());
        assertEquals(Duration.ZERO, cache.defaults().staleWhileRevalidate());
        assertEquals(Duration.ZERO, cache.defaults().staleIfError());
        assertFalse(cache.defaults().heuristicFreshness());
        assertTrue(cache.mayPurge(new InetSocketAddress("127.0.0.1", 1)));
        assertTrue(cache.mayPurge(new InetSocketAddress("::1", 1)));
        assertFalse(cache.mayPurge(new InetSocketAddress("192.0.2.1", 1)));
    }

    @Test
    void everySettingIsRead() {
        CacheModuleFactory factory = create(map("max-size", "64MiB", "max-object-size", "512k",
                "disk", map("path", dir.toString(), "max-size", "1GiB"), "lock-timeout", "250ms",
                "purge-allow", List.of("10.0.0.0/8"), "stale-while-revalidate", "30s", "stale-if-error", "5m",
                "heuristic-freshness", true, "status-name", "edge"));
        HttpCache cache = factory.cache();

        assertEquals(List.of(new CacheTierStats("memory", 0, 0, 64L << 20, 0), new CacheTierStats("disk", 0, 0, 1L << 30, 0)),
                cache.stats().tiers());
        assertInstanceOf(TieredCacheStorage.class, cache.storage());
        assertEquals(512L << 10, cache.storage().maxObjectSize());
        assertEquals(Duration.ofMillis(250), cache.lockTimeout());
        assertEquals(Duration.ofSeconds(30), cache.defaults().staleWhileRevalidate());
        assertEquals(Duration.ofMinutes(5), cache.defaults().staleIfError());
        assertTrue(cache.defaults().heuristicFreshness());
        assertEquals("edge", cache.statusName());
        assertTrue(cache.mayPurge(new InetSocketAddress("10.1.2.3", 1)));
        assertFalse(cache.mayPurge(new InetSocketAddress("127.0.0.1", 1)));
    }

    @Test
    void sizesMayBeNumbersOfBytesAndTheDiskDefaultsTo10GiB() {
        CacheFilterSettings s = settings(map("max-size", 1048576, "max-object-size", 4096, "disk", map("path", dir.toString())));

        assertEquals(1L << 20, s.maxSize());
        assertEquals(4096, s.maxObjectSize());
        assertEquals(10L << 30, s.diskMaxSize());
        assertEquals(dir.toAbsolutePath().normalize(), s.diskPath());
    }

    @Test
    void theDefaultObjectSizeShrinksToASmallCache() {
        assertEquals(1L << 20, settings(map("max-size", "1MiB")).maxObjectSize());
    }

    @Test
    void anEmptyPurgeListRefusesEveryPurge() {
        HttpCache cache = create(map("purge-allow", List.of())).cache();
        assertFalse(cache.mayPurge(new InetSocketAddress("127.0.0.1", 1)));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "max-size | lots",
            "max-size | 0",
            "max-object-size | 512MiB",
            "max-object-size | 0",
            "lock-timeout | -1s",
            "lock-timeout | soon",
            "stale-while-revalidate | -5s",
            "stale-if-error | later",
            "heuristic-freshness | maybe",
            "status-name | two words",
            "status-name | 9lives",
            "status-name | ''"})
    void aBadValueNamesItsKey(String key, String value) {
        assertEquals(key, invalid(map(key, value)).key());
    }

    @Test
    void anObjectSizeBeyondOneGiBIsRefusedEvenWithALargeDisk() {
        InvalidSettingException e = invalid(map("max-object-size", "2GiB", "disk", map("path", dir.toString(), "max-size", "100GiB")));
        assertEquals("max-object-size", e.key());
        assertTrue(e.getMessage().contains("at most 1GiB"), e.getMessage());
    }

    @Test
    void anObjectSizeMayExceedTheMemoryTierWhenTheDiskHoldsIt() {
        CacheModuleFactory factory = create(map("max-size", "1MiB", "max-object-size", "4MiB", "disk", map("path", dir.toString())));
        assertEquals(4L << 20, factory.cache().storage().maxObjectSize());
    }

    @Test
    void aBadNetworkNamesItsPositionInTheList() {
        InvalidSettingException e = invalid(map("purge-allow", List.of("127.0.0.0/8", "10.1.2.3/8")));
        assertEquals("purge-allow[1]", e.key());
        assertTrue(e.getMessage().contains("10.1.2.3/8"), e.getMessage());
    }

    @Test
    void anUnknownKeyIsRefusedWithTheKnownOnes() {
        InvalidSettingException e = invalid(map("max-entries", 10));
        assertEquals("max-entries", e.key());
        assertTrue(e.getMessage().contains("max-size, max-object-size, disk"), e.getMessage());
    }

    @Test
    void theDiskBlockNamesItsOwnKeys() {
        assertEquals("disk.path", invalid(map("disk", map("max-size", "1GiB"))).key());
        assertEquals("disk.path", invalid(map("disk", map("path", "cache/relay"))).key());
        assertEquals("disk.max-size", invalid(map("disk", map("path", dir.toString(), "max-size", "big"))).key());
        assertEquals("disk.max-size", invalid(map("disk", map("path", dir.toString(), "max-size", 0))).key());
        assertEquals("disk.size", invalid(map("disk", map("path", dir.toString(), "size", "1GiB"))).key());
        assertEquals("disk", invalid(map("disk", "/var/cache")).key());
    }

    @Test
    void aDirectoryThatCannotBeOpenedIsReportedOnThePath() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "not a directory");
        InvalidSettingException e = invalid(map("disk", map("path", file.toString())));
        assertEquals("disk.path", e.key());
        assertTrue(e.getMessage().contains("cannot open"), e.getMessage());
    }

    @Test
    void theModuleEnablesTheCacheForEveryRequest() {
        CacheModuleFactory factory = create(Map.of());
        Session session = mock(Session.class);
        SessionCache sessionCache = mock(SessionCache.class);
        when(session.cache()).thenReturn(sessionCache);

        assertTrue(factory.newModule().requestHeaderFilter(session).toCompletableFuture().isDone());
        verify(sessionCache).enable(factory.cache());
        assertSame(factory.newModule(), factory.newModule(), "stateless: one module for all requests");
    }

    @Test
    void equalSettingsShareOneCacheAcrossReloads() {
        CacheModuleFactory first = create(map("max-size", "64MiB", "purge-allow", List.of("::1/128", "127.0.0.0/8")));
        first.cache().storage().put("k", object("stored", System.currentTimeMillis()));
        // A reload: the same settings written differently, then the old configuration is released.
        CacheModuleFactory reloaded = create(map("max-size", 64L << 20, "purge-allow", List.of("127.0.0.0/8", "::1/128")));
        first.release();

        assertSame(first.cache(), reloaded.cache());
        assertEquals("stored", text(reloaded.cache().storage().lookup("k").toCompletableFuture().join()));
        assertEquals(1, provider.openCaches());
    }

    @Test
    void otherSettingsMakeAnotherCacheAndTheLastReleaseClosesEach() {
        CacheModuleFactory small = create(map("max-size", "1MiB"));
        CacheModuleFactory large = create(map("max-size", "2MiB"));
        assertNotSame(small.cache(), large.cache());
        assertEquals(2, provider.openCaches());

        small.release();
        small.release(); // once per filter: a second release must not close a cache another filter holds
        assertEquals(1, provider.openCaches());
        large.release();
        assertEquals(0, provider.openCaches());
    }

    @Test
    void aCacheIsClosedOnlyWhenEveryFilterSharingItIsReleased() {
        CacheModuleFactory global = create(Map.of());
        CacheModuleFactory route = create(Map.of());
        assertSame(global.cache(), route.cache());

        global.release();
        assertEquals(1, provider.openCaches());
        route.release();
        assertEquals(0, provider.openCaches());
    }

    @Test
    void newSettingsThatKeepTheDiskTierShareItAndARejectedReloadLosesNothing() throws Exception {
        CacheModuleFactory old = create(map("disk", map("path", dir.toString()), "lock-timeout", "1s"));
        old.cache().storage().put("k", object("on disk", System.currentTimeMillis()));

        // A reload that changes the lock timeout only: a new cache over the same open disk tier.
        CacheModuleFactory changed = create(map("disk", map("path", dir.toString()), "lock-timeout", "2s"));
        assertNotSame(old.cache(), changed.cache());
        assertEquals(2, provider.openCaches());
        assertEquals(1, provider.openDisks(), "one disk tier per directory");
        assertEquals("on disk", text(changed.cache().storage().lookup("k").toCompletableFuture().join()));

        // Rejected after all: the new configuration's filter goes, the running cache keeps its disk tier.
        changed.release();
        assertEquals(1, provider.openDisks());
        assertEquals("on disk", text(old.cache().storage().lookup("k").toCompletableFuture().join()));
        old.release();
        assertEquals(0, provider.openDisks());
        assertEquals(0, provider.openCaches());
    }

    @Test
    void newDiskSettingsOnTheSameDirectoryCloseTheOldDiskTierFirstAndItsRequestsThenMissHarmlessly() throws Exception {
        CacheModuleFactory old = create(map("disk", map("path", dir.toString(), "max-size", "64MiB")));
        // The write is still pending, probably: closing the old tier first finishes it.
        old.cache().storage().put("k", object("on disk", System.currentTimeMillis()));

        CacheModuleFactory changed = create(map("disk", map("path", dir.toString(), "max-size", "128MiB")));

        assertEquals(1, provider.openDisks(), "one disk tier per directory");
        // The new tier found the old one's file; the old one, closed, still answers without throwing.
        assertEquals("on disk", text(changed.cache().storage().lookup("k").toCompletableFuture().join()));
        CachedObject afterClose = assertDoesNotThrow(() -> old.cache().storage().lookup("other").toCompletableFuture().join());
        assertNull(afterClose);
        assertDoesNotThrow(() -> old.cache().storage().put("late", object("late", System.currentTimeMillis())));
        assertDoesNotThrow(() -> old.cache().storage().purge("k"));
        old.release(); // its configuration is retired later: the new tier stays
        assertEquals(1, provider.openDisks());
        assertEquals("on disk", text(changed.cache().storage().lookup("k").toCompletableFuture().join()));
    }
}
