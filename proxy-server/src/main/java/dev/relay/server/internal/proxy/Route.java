package dev.relay.server.internal.proxy;

import dev.relay.core.HttpModuleFactory;
import dev.relay.core.RequestHeader;
import dev.relay.server.internal.config.ProxyConfig.RouteConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * One route at run time: what it matches (host patterns, one kind of path match, methods, header
 * fields) and where it goes (an upstream group, through its filters). Immutable.
 *
 * <p>Host patterns: {@code example.com} matches that host exactly (case-insensitively, any port);
 * {@code *.example.com} matches any name below it ({@code a.example.com}, {@code a.b.example.com})
 * but not {@code example.com} itself, as nginx's {@code server_name}; {@code *} matches any host.
 * The path prefix matches on segment boundaries: {@code /api} matches {@code /api}, {@code /api/x}
 * and {@code /api?q}, not {@code /apix}; a prefix ending in {@code /} is a plain prefix. An exact
 * path matches only itself; a path regex matches when it is found in the path ({@code find}, anchor
 * it with {@code ^...$} as needed). The query is never part of the path. Which route wins when
 * several match is the {@link Router}'s business.
 */
public final class Route {
    /** How a route matches the path, most specific first (the order of {@link Router}'s priority). */
    enum PathKind { EXACT, REGEX, PREFIX, ANY }

    private final int index;
    private final String name;
    private final List<String> exactHosts;
    private final List<String> wildcardSuffixes;
    private final boolean anyHost;
    private final String pathPrefix;
    private final String exactPath;
    private final Pattern pathRegex;
    private final String[] methods;
    private final String[] headerNames;
    private final String[] headerValues;
    private final UpstreamGroup upstream;
    private final List<HttpModuleFactory> filters;
    /** Set once by {@link #of} before the route is published in a snapshot; never changed after. */
    private boolean websocket = true;

    /** A route on host patterns and a path prefix only (tests). */
    public Route(int index, List<String> hosts, String pathPrefix, UpstreamGroup upstream,
                 List<HttpModuleFactory> filters) {
        this(index, "route-" + index, hosts, pathPrefix, null, null, List.of(), Map.of(), upstream, filters);
    }

    /** The route of {@code config}, going to {@code upstream} through {@code filters} (ordered). */
    public static Route of(RouteConfig config, UpstreamGroup upstream, List<HttpModuleFactory> filters) {
        Route route = new Route(config.index(), config.name(), config.hosts(), config.pathPrefix(), config.path(),
                config.pathRegex(), config.methods(), config.headers(), upstream, filters);
        route.websocket = config.websocket();
        return route;
    }

    /**
     * A route.
     *
     * @param index      its position in the configuration
     * @param name       its name in metrics and logs
     * @param hosts      lower-case patterns; empty for any host
     * @param pathPrefix nullable
     * @param exactPath  nullable
     * @param pathRegex  nullable
     * @param methods    upper case; empty for any
     * @param headers    lower-case names to values ({@code *}: present with any value)
     * @param upstream   where matching requests go
     * @param filters    the filters of matching requests, in order
     */
    public Route(int index, String name, List<String> hosts, String pathPrefix, String exactPath, Pattern pathRegex,
                 List<String> methods, Map<String, String> headers, UpstreamGroup upstream,
                 List<HttpModuleFactory> filters) {
        this.index = index;
        this.name = requireNonNull(name, "name");
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
        this.exactPath = exactPath;
        this.pathRegex = pathRegex;
        this.methods = methods.toArray(new String[0]);
        this.headerNames = headers.keySet().toArray(new String[0]);
        this.headerValues = headers.values().toArray(new String[0]);
        this.upstream = requireNonNull(upstream, "upstream");
        this.filters = List.copyOf(filters);
    }

    /** Its position in the configuration. */
    public int index() {
        return index;
    }

    /** Its name (metrics label, logs). */
    public String name() {
        return name;
    }

    /** Where matching requests go. */
    public UpstreamGroup upstream() {
        return upstream;
    }

    /** The filters of matching requests. */
    public List<HttpModuleFactory> filters() {
        return filters;
    }

    List<String> exactHosts() {
        return exactHosts;
    }

    List<String> wildcardSuffixes() {
        return wildcardSuffixes;
    }

    boolean anyHost() {
        return anyHost;
    }

    PathKind pathKind() {
        return exactPath != null ? PathKind.EXACT : pathRegex != null ? PathKind.REGEX
                : pathPrefix != null ? PathKind.PREFIX : PathKind.ANY;
    }

    int pathPrefixLength() {
        return pathPrefix == null ? 0 : pathPrefix.length();
    }

    /** How many method and header conditions the route has (more wins a tie). */
    int conditions() {
        return (methods.length > 0 ? 1 : 0) + headerNames.length;
    }

    /**
     * Whether a request for {@code host} (lower case, without port; null when the request names
     * none) and {@code path} takes this route, ignoring methods and headers.
     */
    public boolean matches(String host, String path) {
        return hostMatches(host) && pathMatches(path);
    }

    boolean hostMatches(String host) {
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

    /** Path, method and header conditions (the host is matched by the router's index). */
    boolean matchesRest(String path, RequestHeader request) {
        return pathMatches(path) && methodMatches(request) && headersMatch(request);
    }

    boolean pathMatches(String path) {
        if (exactPath != null) {
            return exactPath.equals(path);
        }
        if (pathRegex != null) {
            return pathRegex.matcher(path).find();
        }
        if (pathPrefix == null) {
            return true;
        }
        if (!path.startsWith(pathPrefix)) {
            return false;
        }
        return pathPrefix.endsWith("/") || path.length() == pathPrefix.length() || path.charAt(pathPrefix.length()) == '/';
    }

    private boolean methodMatches(RequestHeader request) {
        if (methods.length == 0) {
            return true;
        }
        String method = request.method();
        for (String m : methods) {
            if (m.equals(method)) {
                return true;
            }
        }
        return false;
    }

    private boolean headersMatch(RequestHeader request) {
        for (int i = 0; i < headerNames.length; i++) {
            String value = request.headers().get(headerNames[i]);
            if (value == null || (!headerValues[i].equals("*") && !headerValues[i].equals(value.trim()))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return "Route#" + index + "{" + name + ", hosts=" + (anyHost ? "*" : exactHosts + "" + wildcardSuffixes)
                + ", path=" + (exactPath != null ? "=" + exactPath : pathRegex != null ? "~" + pathRegex : pathPrefix)
                + ", upstream=" + upstream.name() + ", filters=" + filters.size() + '}';
    }

    /**
     * Whether WebSocket and other HTTP/1.1 upgrades pass through this route (its {@code websocket}
     * key, true by default); when false the request's {@code Upgrade} is removed and it is proxied
     * as an ordinary request.
     */
    public boolean websocket() {
        return websocket;
    }
}
