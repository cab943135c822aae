package dev.relay.server.internal.proxy;

import dev.relay.core.HttpModuleFactory;

import java.util.ArrayList;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * One route at run time: what it matches (host patterns, a path prefix) and where it goes (an
 * upstream group, through its filters). Immutable.
 *
 * <p>Host patterns: {@code example.com} matches that host exactly (case-insensitively, any port);
 * {@code *.example.com} matches any name below it ({@code a.example.com}, {@code a.b.example.com})
 * but not {@code example.com} itself, as nginx's {@code server_name}; {@code *} matches any host.
 * The path prefix matches on segment boundaries: {@code /api} matches {@code /api}, {@code /api/x}
 * and {@code /api?q}, not {@code /apix}; a prefix ending in {@code /} is a plain prefix.
 */
public final class Route {
    private final int index;
    private final List<String> exactHosts;
    private final List<String> wildcardSuffixes;
    private final boolean anyHost;
    private final String pathPrefix;
    private final UpstreamGroup upstream;
    private final List<HttpModuleFactory> filters;

    /**
     * A route.
     *
     * @param index      its position in the configuration
     * @param hosts      lower-case patterns; empty for any host
     * @param pathPrefix nullable: any path
     * @param upstream   where matching requests go
     * @param filters    the filters of matching requests, in configuration order
     */
    public Route(int index, List<String> hosts, String pathPrefix, UpstreamGroup upstream,
                 List<HttpModuleFactory> filters) {
        this.index = index;
        List<String> exact = new ArrayList<>();
        List<String> suffixes = new ArrayList<>();
        boolean any = hosts.isEmpty();
        for (String h : hosts) {
            if (h.equals("*")) {
                any = true;
            } else if (h.startsWith("*.")) {
                suffixes.add(h.substring(1));
            } else {
                exact.add(h);
            }
        }
        this.exactHosts = List.copyOf(exact);
        this.wildcardSuffixes = List.copyOf(suffixes);
        this.anyHost = any;
        this.pathPrefix = pathPrefix;
        this.upstream = requireNonNull(upstream, "upstream");
        this.filters = List.copyOf(filters);
    }

    /** Its position in the configuration. */
    public int index() {
        return index;
    }

    /** Where matching requests go. */
    public UpstreamGroup upstream() {
        return upstream;
    }

    /** The filters of matching requests. */
    public List<HttpModuleFactory> filters() {
        return filters;
    }

    /**
     * Whether a request for {@code host} (lower case, without port; null when the request names
     * none) and {@code path} takes this route.
     */
    public boolean matches(String host, String path) {
        return hostMatches(host) && pathMatches(path);
    }

    private boolean hostMatches(String host) {
        if (anyHost) {
            return true;
        }
        if (host == null) {
            return false;
        }
        for (int i = 0; i < exactHosts.size(); i++) {
            if (exactHosts.get(i).equals(host)) {
                return true;
            }
        }
        for (int i = 0; i < wildcardSuffixes.size(); i++) {
            String suffix = wildcardSuffixes.get(i);
            // ".example.com": at least one label before it.
            if (host.length() > suffix.length() && host.endsWith(suffix)) {
                return true;
            }
        }
        return false;
    }

    private boolean pathMatches(String path) {
        if (pathPrefix == null) {
            return true;
        }
        if (!path.startsWith(pathPrefix)) {
            return false;
        }
        return pathPrefix.endsWith("/") || path.length() == pathPrefix.length() || path.charAt(pathPrefix.length()) == '/';
    }

    @Override
    public String toString() {
        return "Route#" + index + "{hosts=" + (anyHost ? "*" : exactHosts + "" + wildcardSuffixes)
                + ", pathPrefix=" + pathPrefix + ", upstream=" + upstream.name() + ", filters=" + filters.size() + '}';
    }
}
