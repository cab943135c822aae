package dev.relay.server.internal.proxy;

import dev.relay.core.RequestHeader;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Picks the route of a request. Immutable, thread-safe; built once per configuration.
 *
 * <h2>Priority</h2>
 * When several routes match a request, the most specific wins, host first, like nginx's
 * {@code server_name} then {@code location}:
 * <ol>
 *   <li>Host: an exact host ({@code api.example.com}) beats a wildcard ({@code *.example.com}); a
 *       longer wildcard beats a shorter one ({@code *.eu.example.com} before {@code *.example.com});
 *       any wildcard beats a route without host (or {@code *}).</li>
 *   <li>Then, among the routes of that host rank: an exact {@code path} beats a {@code path-regex},
 *       which beats a {@code path-prefix} (the longest prefix first), which beats a route without a
 *       path match.</li>
 *   <li>Then a route with more {@code method}/{@code headers} conditions beats one with fewer.</li>
 *   <li>Then the order in the file.</li>
 * </ol>
 * A route whose host matches but whose path, method or headers do not is skipped, and the search
 * goes on down the list (so a request for {@code api.example.com/other} can still be served by a
 * {@code *.example.com} route).
 */
public final class Router {
    private final List<Route> routes;
    private final boolean anyRouteHasFilters;
    private final Map<String, Route[]> byExactHost;
    private final String[] wildcardSuffixes;
    private final Route[] wildcardRoutes;
    private final Route[] anyHostRoutes;

    /** A router over {@code routes} (configuration order). */
    public Router(List<Route> routes) {
        this.routes = List.copyOf(routes);
        this.anyRouteHasFilters = this.routes.stream().anyMatch(r -> !r.filters().isEmpty());
        Comparator<Route> byPath = Comparator.<Route>comparingInt(r -> r.pathKind().ordinal())
                .thenComparing(Comparator.comparingInt(Route::pathPrefixLength).reversed())
                .thenComparing(Comparator.comparingInt(Route::conditions).reversed())
                .thenComparingInt(Route::index);
        Map<String, List<Route>> exact = new HashMap<>();
        record Wildcard(String suffix, Route route) {}
        List<Wildcard> wildcards = new ArrayList<>();
        List<Route> any = new ArrayList<>();
        for (Route r : this.routes) {
            for (String h : r.exactHosts()) {
                exact.computeIfAbsent(h, k -> new ArrayList<>()).add(r);
            }
            for (String s : r.wildcardSuffixes()) {
                wildcards.add(new Wildcard(s, r));
            }
            if (r.anyHost()) {
                any.add(r);
            }
        }
        Map<String, Route[]> exactSorted = new HashMap<>();
        exact.forEach((h, list) -> {
            list.sort(byPath);
            exactSorted.put(h, list.toArray(new Route[0]));
        });
        this.byExactHost = Map.copyOf(exactSorted);
        wildcards.sort(Comparator.<Wildcard>comparingInt(w -> -w.suffix().length())
                .thenComparing(Wildcard::route, byPath));
        this.wildcardSuffixes = wildcards.stream().map(Wildcard::suffix).toArray(String[]::new);
        this.wildcardRoutes = wildcards.stream().map(Wildcard::route).toArray(Route[]::new);
        any.sort(byPath);
        this.anyHostRoutes = any.toArray(new Route[0]);
    }

    /** The routes in configuration order. */
    public List<Route> routes() {
        return routes;
    }

    /** Whether some route has filters. */
    public boolean anyRouteHasFilters() {
        return anyRouteHasFilters;
    }

    /** The route of {@code request}, or null when none matches. */
    public Route match(RequestHeader request) {
        // Without host routes the host is not looked at: no field lookup per request for it.
        String host = byExactHost.isEmpty() && wildcardRoutes.length == 0 ? null : hostOf(request);
        String path = pathOf(request.uri());
        if (host != null) {
            Route[] exact = byExactHost.get(host);
            if (exact != null) {
                for (Route r : exact) {
                    if (r.matchesRest(path, request)) {
                        return r;
                    }
                }
            }
            for (int i = 0; i < wildcardRoutes.length; i++) {
                String suffix = wildcardSuffixes[i];
                if (host.length() > suffix.length() && host.endsWith(suffix) && wildcardRoutes[i].matchesRest(path, request)) {
                    return wildcardRoutes[i];
                }
            }
        }
        for (Route r : anyHostRoutes) {
            if (r.matchesRest(path, request)) {
                return r;
            }
        }
        return null;
    }

    /**
     * The host the request is for, lower case, without port or trailing dot: the {@code Host}
     * header, or the authority of an absolute-form request target; null when there is neither.
     */
    static String hostOf(RequestHeader request) {
        String host = request.headers().get("Host");
        if (host == null || host.isEmpty()) {
            host = authorityOf(request.uri());
            if (host == null) {
                return null;
            }
        }
        host = host.trim();
        int end = host.length();
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            end = close < 0 ? end : close + 1;
        } else {
            int colon = host.lastIndexOf(':');
            if (colon >= 0) {
                end = colon;
            }
        }
        if (end > 0 && host.charAt(end - 1) == '.') {
            end--;
        }
        String bare = end == host.length() ? host : host.substring(0, end);
        // Most clients send lower case already: only then is no copy made.
        for (int i = 0; i < bare.length(); i++) {
            char c = bare.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                return bare.toLowerCase(Locale.ROOT);
            }
        }
        return bare;
    }

    /** The path of a request target (origin form, or absolute form), without the query. */
    static String pathOf(String uri) {
        int start = 0;
        int scheme = uri.indexOf("://");
        if (scheme > 0 && !uri.startsWith("/")) {
            int slash = uri.indexOf('/', scheme + 3);
            if (slash < 0) {
                return "/";
            }
            start = slash;
        }
        int query = uri.indexOf('?', start);
        int end = query < 0 ? uri.length() : query;
        return start == 0 && end == uri.length() ? uri : uri.substring(start, end);
    }

    private static String authorityOf(String uri) {
        int scheme = uri.indexOf("://");
        if (scheme <= 0 || uri.startsWith("/")) {
            return null;
        }
        int start = scheme + 3;
        int end = start;
        while (end < uri.length() && uri.charAt(end) != '/' && uri.charAt(end) != '?') {
            end++;
        }
        String authority = uri.substring(start, end);
        int at = authority.lastIndexOf('@');
        return at >= 0 ? authority.substring(at + 1) : authority;
    }
}
