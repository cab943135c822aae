package dev.relay.server.internal.proxy;

import dev.relay.core.RequestHeader;

import java.util.List;
import java.util.Locale;

/**
 * Picks the route of a request: the first {@link Route}, in configuration order, that matches the
 * request's host and path. Immutable, thread-safe.
 */
public final class Router {
    private final List<Route> routes;
    private final boolean anyRouteHasFilters;

    /** A router over {@code routes} in order. */
    public Router(List<Route> routes) {
        this.routes = List.copyOf(routes);
        this.anyRouteHasFilters = this.routes.stream().anyMatch(r -> !r.filters().isEmpty());
    }

    /** The routes in order. */
    public List<Route> routes() {
        return routes;
    }

    /** Whether some route has filters (otherwise no per-route filter module is needed). */
    public boolean anyRouteHasFilters() {
        return anyRouteHasFilters;
    }

    /** The route of {@code request}, or null when none matches. */
    public Route match(RequestHeader request) {
        String host = hostOf(request);
        String path = pathOf(request.uri());
        for (int i = 0; i < routes.size(); i++) {
            Route route = routes.get(i);
            if (route.matches(host, path)) {
                return route;
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
        return host.substring(0, end).toLowerCase(Locale.ROOT);
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
