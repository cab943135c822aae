package dev.relay.server.internal.proxy;

import dev.relay.core.cache.CacheModuleFactory;
import dev.relay.core.cache.CacheResult;
import dev.relay.core.cache.HttpCache;
import dev.relay.server.internal.config.ProxyConfig;
import dev.relay.server.internal.config.ProxyConfig.FilterConfig;
import dev.relay.server.internal.config.ProxyConfig.RouteConfig;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * A cache of the configuration ({@link CacheModuleFactory}, the {@code cache} filter) and where it is
 * configured, for metrics, the admin listener and purges.
 *
 * @param name  {@code global} ({@code proxy.filters}) or {@code route:NAME} (a route's filters); with
 *              several cache filters in one list, each name ends with the filter's index there,
 *              {@code route:api[2]}. A cache that several filters share (equal settings) is listed once,
 *              under its first place
 * @param cache the cache
 */
public record ConfiguredCache(String name, HttpCache cache) {
    private static final String[] RESULT_NAMES = resultNames();

    public ConfiguredCache {
        requireNonNull(name, "name");
        requireNonNull(cache, "cache");
    }

    /** {@code result} in lower case ({@code hit}, {@code miss} ...), as metrics, the access log and the admin listener name it. */
    public static String resultName(CacheResult result) {
        return RESULT_NAMES[result.ordinal()];
    }

    private static String[] resultNames() {
        CacheResult[] results = CacheResult.values();
        String[] names = new String[results.length];
        for (CacheResult r : results) {
            names[r.ordinal()] = r.name().toLowerCase(Locale.ROOT);
        }
        return names;
    }

    /** The caches of {@code config}: the global filters' first, then each route's in order; each cache once. */
    public static List<ConfiguredCache> of(ProxyConfig config) {
        List<ConfiguredCache> out = new ArrayList<>();
        Set<HttpCache> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        add("global", config.filters(), seen, out);
        for (RouteConfig route : config.routes()) {
            add("route:" + route.name(), route.filters(), seen, out);
        }
        return List.copyOf(out);
    }

    private static void add(String place, List<FilterConfig> filters, Set<HttpCache> seen, List<ConfiguredCache> out) {
        long here = filters.stream().filter(f -> f.factory() instanceof CacheModuleFactory).count();
        for (int i = 0; i < filters.size(); i++) {
            if (filters.get(i).factory() instanceof CacheModuleFactory factory && seen.add(factory.cache())) {
                out.add(new ConfiguredCache(here > 1 ? place + "[" + i + "]" : place, factory.cache()));
            }
        }
    }
}
