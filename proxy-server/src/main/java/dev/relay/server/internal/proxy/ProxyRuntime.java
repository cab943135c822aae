package dev.relay.server.internal.proxy;

import dev.relay.core.HttpModuleFactory;
import dev.relay.core.RequestIdModuleFactory;
import dev.relay.core.HttpModules;
import dev.relay.core.HttpPeer;
import dev.relay.server.internal.config.ProxyConfig;
import dev.relay.server.internal.config.ProxyConfig.FilterConfig;
import dev.relay.server.internal.config.ProxyConfig.RouteConfig;
import dev.relay.server.internal.config.ProxyConfig.UpstreamConfig;
import dev.relay.server.internal.metrics.RelayMetrics;
import dev.relay.server.internal.metrics.RelayMetrics.GroupStats;
import dev.relay.server.internal.metrics.RelayMetrics.RouteStats;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * Everything a request needs from the configuration, as one immutable snapshot: the routes, the
 * upstream groups, the global filters, the access-log switch and the metric handles. A reload
 * builds a new snapshot and swaps one reference ({@link ConfiguredProxy#swap}); a request takes the
 * snapshot current when it starts and keeps it to the end, so it finishes on the configuration it
 * started with.
 *
 * <p>Upstream groups whose configuration did not change are carried over as the same objects, with
 * their load balancer state (health, ejections, in-flight counts, discovered backends) and their
 * {@link HttpPeer}s; since the engine pools connections by the peer's value
 * ({@link HttpPeer#reuseKey()}, which includes the group's {@linkplain UpstreamGroup#id() id}),
 * their pooled connections stay in use as well. A group that changed is a new group, with new
 * pooled connections.
 */
public final class ProxyRuntime {
    private final long generation;
    private final ProxyConfig config;
    private final Router router;
    private final Map<String, UpstreamGroup> groups;
    private final HttpModuleFactory[] globalFilters;
    private final boolean accessLog;
    private final RouteStats[] routeStats;
    private final GroupStats[] routeGroupStats;
    private final RouteStats unmatched;
    /** The groups' ids, ascending, and the groups in the same order: {@link #ownerOf} without allocation. */
    private final long[] groupIds;
    private final UpstreamGroup[] groupsById;
    private final List<ConfiguredCache> caches;
    /** The request-id field of the global filters, null without a request-id filter; per route, the route's. */
    private final String globalRequestIdHeader;
    private final String[] routeRequestIdHeaders;
    private final List<ConfiguredMirror> mirrors;

    private ProxyRuntime(long generation, ProxyConfig config, Router router, Map<String, UpstreamGroup> groups,
                         HttpModuleFactory[] globalFilters, RelayMetrics metrics) {
        this.generation = generation;
        this.config = config;
        this.router = router;
        this.groups = groups;
        this.globalFilters = globalFilters;
        this.accessLog = config.server().accessLog();
        int maxIndex = 0;
        for (Route r : router.routes()) {
            maxIndex = Math.max(maxIndex, r.index() + 1);
        }
        this.routeStats = new RouteStats[maxIndex];
        this.routeGroupStats = new GroupStats[maxIndex];
        for (Route r : router.routes()) {
            routeStats[r.index()] = metrics == null ? null : metrics.route(r.name(), r.upstream().name());
            routeGroupStats[r.index()] = metrics == null ? null : metrics.group(r.upstream().name());
        }
        this.unmatched = metrics == null ? null : metrics.route("none", "none");
        UpstreamGroup[] byId = groups.values().toArray(new UpstreamGroup[0]);
        java.util.Arrays.sort(byId, java.util.Comparator.comparingLong(UpstreamGroup::id));
        this.groupsById = byId;
        this.groupIds = new long[byId.length];
        for (int i = 0; i < byId.length; i++) {
            groupIds[i] = byId[i].id();
        }
        this.caches = ConfiguredCache.of(config);
        this.mirrors = ConfiguredMirror.of(config);
        this.globalRequestIdHeader = requestIdHeader(java.util.Arrays.asList(globalFilters));
        this.routeRequestIdHeaders = new String[maxIndex];
        for (Route r : router.routes()) {
            routeRequestIdHeaders[r.index()] = globalRequestIdHeader != null ? globalRequestIdHeader
                    : requestIdHeader(r.filters());
        }
    }

    private static String requestIdHeader(List<HttpModuleFactory> filters) {
        for (HttpModuleFactory f : filters) {
            if (f instanceof RequestIdModuleFactory ids) {
                return ids.header();
            }
        }
        return null;
    }

    /**
     * The snapshot of {@code config}. Groups of {@code previous} (nullable) whose configuration is
     * unchanged are reused.
     *
     * @throws IllegalArgumentException when a route names a group that {@code config} lacks
     */
    public static ProxyRuntime build(ProxyConfig config, ProxyRuntime previous, RelayMetrics metrics) {
        requireNonNull(config, "config");
        Map<String, UpstreamGroup> groups = new LinkedHashMap<>();
        List<UpstreamGroup> created = new ArrayList<>();
        try {
            for (UpstreamConfig upstream : config.upstreams().values()) {
                UpstreamGroup old = previous == null ? null : previous.groups.get(upstream.name());
                UpstreamGroup group;
                if (old != null && old.config().equals(upstream)) {
                    group = old;
                } else {
                    group = UpstreamGroup.of(upstream);
                    created.add(group);
                }
                groups.put(upstream.name(), group);
            }
            List<Route> routes = new ArrayList<>();
            for (RouteConfig rc : config.routes()) {
                UpstreamGroup group = groups.get(rc.upstream());
                if (group == null) {
                    throw new IllegalArgumentException("routes[" + rc.index() + "].upstream: '" + rc.upstream()
                            + "' (expected one of: " + groups.keySet() + ")");
                }
                routes.add(Route.of(rc, group, ordered(rc.filters())));
            }
            HttpModuleFactory[] global = ordered(config.filters()).toArray(new HttpModuleFactory[0]);
            return new ProxyRuntime(previous == null ? 1 : previous.generation + 1, config, new Router(routes),
                    java.util.Collections.unmodifiableMap(groups), global, metrics);
        } catch (RuntimeException e) {
            created.forEach(UpstreamGroup::close);
            throw e;
        }
    }

    private static List<HttpModuleFactory> ordered(List<FilterConfig> filters) {
        HttpModules modules = new HttpModules();
        for (FilterConfig f : filters) {
            modules.add(f.factory());
        }
        return modules.ordered();
    }

    /** 1 for the first configuration, then one more per successful reload. */
    public long generation() {
        return generation;
    }

    /** The configuration (in demo mode, with the demo group). */
    public ProxyConfig config() {
        return config;
    }

    /** The router. */
    public Router router() {
        return router;
    }

    /** The upstream groups by name. */
    public Map<String, UpstreamGroup> groups() {
        return groups;
    }

    /** The caches of this configuration's {@code cache} filters, each once (metrics, admin, purges). */
    public List<ConfiguredCache> caches() {
        return caches;
    }

    /** The {@code mirror} filters of this configuration (metrics). */
    public List<ConfiguredMirror> mirrors() {
        return mirrors;
    }

    /** The global filters in their order. */
    HttpModuleFactory[] globalFilters() {
        return globalFilters;
    }

    /**
     * The request header that holds the id of a request that ran through {@code route} (null: no route
     * matched): the first request-id filter's, the global ones first, as they run first; null when
     * neither the global filters nor the route's have one.
     */
    String requestIdHeader(Route route) {
        return route == null ? globalRequestIdHeader : routeRequestIdHeaders[route.index()];
    }

    /** Whether requests are access-logged. */
    boolean accessLog() {
        return accessLog;
    }

    /** The metric handles of {@code route} (null: a request no route matched); null without metrics. */
    RouteStats routeStats(Route route) {
        return route == null ? unmatched : routeStats[route.index()];
    }

    /** The metric handles of the group of {@code route}; null without metrics. */
    GroupStats groupStats(Route route) {
        return routeGroupStats[route.index()];
    }

    /** The group of this snapshot that made {@code peer} (by its pool group), or null. */
    UpstreamGroup ownerOf(HttpPeer peer) {
        int i = java.util.Arrays.binarySearch(groupIds, peer.groupKey());
        return i >= 0 ? groupsById[i] : null;
    }

    @Override
    public String toString() {
        return "ProxyRuntime#" + generation + "{routes=" + router.routes().size() + ", groups=" + groups.keySet() + '}';
    }
}
