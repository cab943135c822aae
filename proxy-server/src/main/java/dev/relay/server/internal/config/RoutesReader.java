package dev.relay.server.internal.config;

import dev.relay.server.internal.config.ProxyConfig.FilterConfig;
import dev.relay.server.internal.config.ProxyConfig.RouteConfig;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

import static java.util.Objects.requireNonNull;

/**
 * Reads {@code proxy.routes}: each route's name, what it matches ({@code match}), the upstream group
 * it sends to and its own filters (through {@link FiltersReader}). Without routes, a single group
 * takes every request. A reload applies all of it.
 */
final class RoutesReader {
    private static final Set<String> ROUTE_KEYS = Set.of("name", "match", "upstream", "filters", "websocket");
    private static final Set<String> MATCH_KEYS = Set.of("host", "path-prefix", "path", "path-regex", "method", "headers");

    /**
     * A route's {@code match} block.
     *
     * @param hosts      host patterns; empty: any host
     * @param pathPrefix the path prefix; null: not matched on
     * @param path       the exact path; null: not matched on
     * @param pathRegex  the regular expression of the whole path; null: not matched on
     * @param methods    the methods, upper case; empty: any
     * @param headers    required header fields (names lower case) and values
     */
    private record Match(List<String> hosts, String pathPrefix, String path, Pattern pathRegex, List<String> methods,
                         Map<String, String> headers) {
        /** No {@code match}: every request. */
        static final Match ANY = new Match(List.of(), null, null, null, List.of(), Map.of());
    }

    private final FiltersReader filters;

    /** A reader that reads the routes' filters with {@code filters}. */
    RoutesReader(FiltersReader filters) {
        this.filters = requireNonNull(filters, "filters");
    }

    /** The routes of {@code node} ({@code proxy.routes}), each sending to one of {@code upstreamNames}. */
    List<RouteConfig> routes(ConfigNode node, Set<String> upstreamNames) {
        List<ConfigNode> items = node.isMissing() ? List.of() : node.list();
        if (items.isEmpty()) {
            if (upstreamNames.size() == 1) {
                // One group and no routes: everything goes there.
                String only = upstreamNames.iterator().next();
                return List.of(new RouteConfig(0, List.of(), null, only, List.of(), node.where()));
            }
            throw node.problem((node.isMissing() ? "missing" : "empty")
                    + " (expected: routes = [ { upstream = NAME } ] when there are several upstream groups)");
        }
        List<RouteConfig> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < items.size(); i++) {
            ConfigNode route = items.get(i);
            route.object();
            route.checkKeys(ROUTE_KEYS);
            ConfigNode upstream = route.get("upstream");
            String upstreamName = upstream.string().trim();
            if (!upstreamNames.contains(upstreamName)) {
                throw upstream.problem("unknown upstream '" + upstreamName + "' (expected: "
                        + ConfigNode.oneOf(upstreamNames) + ")");
            }
            ConfigNode nameNode = route.get("name");
            String routeName = nameNode.isMissing() ? "route-" + i : name(nameNode);
            if (!names.add(routeName)) {
                throw (nameNode.isMissing() ? route : nameNode).problem("route name '" + routeName
                        + "' is used twice (expected: each route's name once)");
            }
            ConfigNode matchNode = route.get("match");
            Match match = matchNode.isMissing() ? Match.ANY : match(matchNode);
            List<FilterConfig> routeFilters = route.has("filters") ? filters.filters(route.get("filters"), "route:" + routeName) : List.of();
            // WebSocket and other upgrades pass unless the route turns them off.
            boolean websocket = !route.has("websocket") || route.get("websocket").bool();
            out.add(new RouteConfig(i, routeName, match.hosts(), match.pathPrefix(), upstreamName, routeFilters,
                    route.where(), match.path(), match.pathRegex(), match.methods(), match.headers(), websocket));
        }
        return out;
    }

    private static String name(ConfigNode node) {
        String name = node.string().trim();
        if (!name.matches("[A-Za-z0-9_.:-]+")) {
            throw node.problem("'" + name + "' (expected: letters, digits, '_', '.', ':' or '-')");
        }
        return name;
    }

    private static Match match(ConfigNode match) {
        match.checkKeys(MATCH_KEYS);
        ConfigNode host = match.get("host");
        List<String> hosts = host.isMissing() ? List.of() : hostPatterns(host);
        // At most one of the path matches.
        int pathKinds = 0;
        String pathPrefix = null;
        ConfigNode prefix = match.get("path-prefix");
        if (!prefix.isMissing()) {
            pathKinds++;
            pathPrefix = absolutePath(prefix);
        }
        String path = null;
        ConfigNode exact = match.get("path");
        if (!exact.isMissing()) {
            if (++pathKinds > 1) {
                throw exact.problem("set together with path-prefix (expected: one of path, path-prefix, path-regex)");
            }
            path = absolutePath(exact);
        }
        Pattern pathRegex = null;
        ConfigNode regex = match.get("path-regex");
        if (!regex.isMissing()) {
            if (++pathKinds > 1) {
                throw regex.problem("set together with another path match (expected: one of path, path-prefix, path-regex)");
            }
            pathRegex = regex(regex);
        }
        ConfigNode method = match.get("method");
        List<String> methods = method.isMissing() ? List.of() : methods(method);
        ConfigNode headers = match.get("headers");
        return new Match(hosts, pathPrefix, path, pathRegex, methods, headers.isMissing() ? Map.of() : headers(headers));
    }

    private static String absolutePath(ConfigNode node) {
        String path = node.string().trim();
        if (!path.startsWith("/")) {
            throw node.problem("'" + path + "' (expected: a path starting with /)");
        }
        return path;
    }

    private static Pattern regex(ConfigNode node) {
        try {
            return Pattern.compile(node.string());
        } catch (PatternSyntaxException e) {
            throw node.problem("bad regular expression '" + node.string() + "': "
                    + e.getDescription() + " at index " + e.getIndex() + " (expected: a Java regular expression)");
        }
    }

    private static List<String> methods(ConfigNode node) {
        List<String> methods = new ArrayList<>();
        for (ConfigNode m : node.oneOrMore("a method such as GET, or a list of them")) {
            String text = m.string().trim();
            if (!text.matches("[A-Za-z]+")) {
                throw m.problem("bad method '" + text + "' (expected: a method such as GET)");
            }
            methods.add(text.toUpperCase(Locale.ROOT));
        }
        return methods;
    }

    private static Map<String, String> headers(ConfigNode node) {
        Map<String, String> headers = new LinkedHashMap<>();
        for (Map.Entry<String, ConfigNode> e : node.entries().entrySet()) {
            String field = e.getKey().trim();
            if (field.isEmpty() || !field.chars().allMatch(c -> c > ' ' && c < 0x7f && c != ':')) {
                throw e.getValue().problem("bad header name '" + field + "' (expected: a field name)");
            }
            headers.put(field.toLowerCase(Locale.ROOT), e.getValue().string());
        }
        return headers;
    }

    private static List<String> hostPatterns(ConfigNode node) {
        List<String> out = new ArrayList<>();
        for (ConfigNode item : node.oneOrMore("a host name, *.domain, or a list of them")) {
            String pattern = item.string().trim().toLowerCase(Locale.ROOT);
            if (!validHostPattern(pattern)) {
                throw item.problem("bad host pattern '" + item.string()
                        + "' (expected: a host name such as example.com, *.example.com, or *)");
            }
            out.add(pattern);
        }
        return out;
    }

    /** Whether {@code pattern} (lower case) is {@code *}, a host name, or {@code *.} and a host name. */
    static boolean validHostPattern(String pattern) {
        if (pattern.equals("*")) {
            return true;
        }
        String name = pattern.startsWith("*.") ? pattern.substring(2) : pattern;
        if (name.isEmpty() || name.startsWith(".") || name.endsWith(".") || name.contains("..")) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
