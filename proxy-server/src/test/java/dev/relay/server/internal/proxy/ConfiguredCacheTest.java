package dev.relay.server.internal.proxy;

import dev.relay.core.cache.CacheModuleFactory;
import dev.relay.core.cache.CachedObject;
import dev.relay.server.internal.FilterRegistry;
import dev.relay.server.internal.config.ConfigLoader;
import dev.relay.server.internal.config.ConfigProblem;
import dev.relay.server.internal.config.ProxyConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The caches of a configuration ({@code cache} filters), their names, and their release when a configuration is retired. */
@Timeout(20)
class ConfiguredCacheTest {
    /** One registry, as a process has: its cache provider remembers the caches across loads. */
    private final ConfigLoader loader = new ConfigLoader(FilterRegistry.load(getClass().getClassLoader()));

    private ProxyConfig load(String filters, String routeFilters) {
        return loader.parseString("""
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  upstreams { web { backends = [ "127.0.0.1:9" ] } }
                  filters = [ %s ]
                  routes = [ { name = api, match.path-prefix = "/api", upstream = web, filters = [ %s ] },
                             { name = rest, upstream = web } ]
                }
                """.formatted(filters, routeFilters), "test.conf");
    }

    private static CacheModuleFactory factory(ProxyConfig config, int index) {
        return (CacheModuleFactory) config.filters().get(index).factory();
    }

    @Test
    void cachesAreNamedByPlaceWithAnIndexWhereAListHasSeveralAndASharedCacheIsListedOnce() {
        ProxyConfig config = load("{ name = cache, max-size = 1MiB }, { name = headers }, { name = cache, max-size = 2MiB }",
                "{ name = cache, max-size = 1MiB }, { name = cache, max-size = 3MiB }");

        List<ConfiguredCache> caches = ConfiguredCache.of(config);

        assertEquals(List.of("global[0]", "global[2]", "route:api[1]"), caches.stream().map(ConfiguredCache::name).toList());
        assertSame(factory(config, 0).cache(), caches.get(0).cache());
        RetiredFilters.release(config, null);
    }

    @Test
    void aSingleCacheFilterIsNamedByItsPlaceAlone() {
        ProxyConfig config = load("", "{ name = cache }");
        assertEquals(List.of("route:api"), ConfiguredCache.of(config).stream().map(ConfiguredCache::name).toList());
        RetiredFilters.release(config, null);
    }

    @Test
    void releasingARetiredConfigurationKeepsTheCachesTheNextOneHolds() {
        ProxyConfig running = load("{ name = cache, max-size = 1MiB }", "");
        factory(running, 0).cache().storage().put("k", object());
        ProxyConfig next = load("{ name = cache, max-size = 1MiB }", "");

        RetiredFilters.release(running, next);

        assertNotNull(factory(next, 0).cache().storage().lookup("k").toCompletableFuture().join(), "still open, still stored");
        RetiredFilters.release(next, null);
        assertNull(factory(next, 0).cache().storage().lookup("k").toCompletableFuture().join(), "closed with the last holder");
    }

    @Test
    void aConfigurationSwappedInAgainIsNotReleasedByItsOwnSwap() {
        ProxyConfig config = load("{ name = cache }", "");
        factory(config, 0).cache().storage().put("k", object());

        RetiredFilters.release(config, config);

        assertNotNull(factory(config, 0).cache().storage().lookup("k").toCompletableFuture().join());
        RetiredFilters.release(config, null);
    }

    @Test
    void aLoadThatFailsAfterItsFiltersReleasesThem() {
        ProxyConfig running = load("{ name = cache, max-size = 1MiB }", "");
        factory(running, 0).cache().storage().put("k", object());

        // The same settings (so the same cache), then a route to a group that does not exist.
        assertThrows(ConfigProblem.class, () -> loader.parseString("""
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  upstreams { web { backends = [ "127.0.0.1:9" ] } }
                  filters = [ { name = cache, max-size = 1MiB } ]
                  routes = [ { upstream = nowhere } ]
                }
                """, "test.conf"));

        RetiredFilters.release(running, null);
        // Had the failed load kept its hold, the cache would still be open with its object.
        assertNull(factory(running, 0).cache().storage().lookup("k").toCompletableFuture().join());
    }

    private static CachedObject object() {
        dev.relay.core.ResponseHeader header = dev.relay.core.ResponseHeader.of(200);
        long now = System.currentTimeMillis();
        return new CachedObject(new dev.relay.core.cache.CacheMeta(200, header, now, now, 0, 3600, 0, 0, false, List.of()),
                new byte[] {1, 2, 3});
    }
}
