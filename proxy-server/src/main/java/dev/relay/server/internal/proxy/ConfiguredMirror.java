package dev.relay.server.internal.proxy;

import dev.relay.core.MirrorModuleFactory;
import dev.relay.server.internal.config.ProxyConfig;
import dev.relay.server.internal.config.ProxyConfig.FilterConfig;
import dev.relay.server.internal.config.ProxyConfig.RouteConfig;

import java.util.ArrayList;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * A {@code mirror} filter of the configuration and where it is configured, for metrics.
 *
 * @param name   {@code global} ({@code proxy.filters}) or {@code route:NAME}; with several mirror filters
 *               in one list, each name ends with the filter's index there, {@code route:api[2]}
 * @param filter the filter, whose counters the metrics read
 */
public record ConfiguredMirror(String name, MirrorModuleFactory filter) {

    public ConfiguredMirror {
        requireNonNull(name, "name");
        requireNonNull(filter, "filter");
    }

    /** The mirror filters of {@code config}: the global ones first, then each route's, in order. */
    public static List<ConfiguredMirror> of(ProxyConfig config) {
        List<ConfiguredMirror> out = new ArrayList<>();
        add("global", config.filters(), out);
        for (RouteConfig route : config.routes()) {
            add("route:" + route.name(), route.filters(), out);
        }
        return List.copyOf(out);
    }

    private static void add(String place, List<FilterConfig> filters, List<ConfiguredMirror> out) {
        List<Integer> at = new ArrayList<>();
        for (int i = 0; i < filters.size(); i++) {
            if (filters.get(i).factory() instanceof MirrorModuleFactory) {
                at.add(i);
            }
        }
        for (int i : at) {
            out.add(new ConfiguredMirror(at.size() > 1 ? place + "[" + i + "]" : place,
                    (MirrorModuleFactory) filters.get(i).factory()));
        }
    }
}
