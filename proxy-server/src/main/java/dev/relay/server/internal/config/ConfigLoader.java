package dev.relay.server.internal.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigSyntax;
import dev.relay.core.Addresses;
import dev.relay.core.Backend;
import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.PeerOptions;
import dev.relay.server.internal.FilterRegistry;
import dev.relay.server.internal.config.ProxyConfig.AccessLogFormat;
import dev.relay.server.internal.config.ProxyConfig.AdminConfig;
import dev.relay.server.internal.config.ProxyConfig.FilterConfig;
import dev.relay.server.internal.config.ProxyConfig.ListenerConfig;
import dev.relay.server.internal.config.ProxyConfig.RouteConfig;
import dev.relay.server.internal.config.ProxyConfig.Selection;
import dev.relay.server.internal.config.ProxyConfig.ServerSettings;
import dev.relay.server.internal.config.ProxyConfig.UpstreamConfig;
import dev.relay.transport.TransportRuntime;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import static java.util.Objects.requireNonNull;

/**
 * Reads the HOCON configuration of the proxy server and validates all of it into a
 * {@link ProxyConfig}; the first problem found is thrown as a {@link ConfigProblem} naming the file,
 * the line and the key. The format is documented in {@code the README (section "Running the proxy server and its configuration")}; the
 * defaults live in this module's {@code reference.conf}.
 *
 * <pre>{@code
 * ProxyConfig config = new ConfigLoader(FilterRegistry.load(classLoader)).load(Path.of("relay.conf"));
 * }</pre>
 */
public final class ConfigLoader {
    /** The bundled configuration used when no file is given: demo origins behind a round robin. */
    public static final String DEFAULT_RESOURCE = "relay-default.conf";

    private static final Set<String> PROXY_KEYS =
            Set.of("listeners", "upstreams", "upstream-defaults", "routes", "filters", "server", "demo", "admin");
    private static final Set<String> SERVER_KEYS = Set.of("threads", "grace-period", "max-attempts", "transport",
            "access-log", "access-log-format", "shutdown-timeout", "retry-backoff", "max-idle-upstream-connections",
            "pid-file", "upgrade-socket");
    private static final Set<String> UPSTREAM_DEFAULT_KEYS = Set.of("selection", "tls", "sni", "verify",
            "host-header", "connect-timeout", "total-connect-timeout", "read-timeout", "write-timeout",
            "idle-timeout", "alpn", "tcp-keepalive");
    private static final Set<String> UPSTREAM_KEYS = union(UPSTREAM_DEFAULT_KEYS, Set.of("backends"));
    private static final Set<String> ROUTE_KEYS = Set.of("name", "match", "upstream", "filters");
    private static final Set<String> MATCH_KEYS = Set.of("host", "path-prefix", "path", "path-regex", "method", "headers");
    private static final Set<String> ADMIN_KEYS = Set.of("address");
    private static final Set<String> DEMO_KEYS = Set.of("origins");

    private final FilterRegistry filters;
    private final ClassLoader classLoader;

    /** A loader that resolves filter names in {@code filters}; defaults come from this module's class loader. */
    public ConfigLoader(FilterRegistry filters) {
        this(filters, ConfigLoader.class.getClassLoader());
    }

    /** A loader that reads {@code reference.conf} (and the bundled default) through {@code classLoader}. */
    public ConfigLoader(FilterRegistry filters, ClassLoader classLoader) {
        this.filters = requireNonNull(filters, "filters");
        this.classLoader = requireNonNull(classLoader, "classLoader");
    }

    /** Loads and validates {@code file}, over the defaults of {@code reference.conf}. */
    public ProxyConfig load(Path file) {
        requireNonNull(file, "file");
        if (!Files.isRegularFile(file)) {
            throw new ConfigProblem(file.toString(), -1, null,
                    Files.exists(file) ? "not a regular file" : "cannot read the file: no such file", null);
        }
        if (!Files.isReadable(file)) {
            throw new ConfigProblem(file.toString(), -1, null, "cannot read the file: permission denied", null);
        }
        Config parsed;
        try {
            parsed = ConfigFactory.parseFile(file.toFile(), parseOptions());
        } catch (ConfigException e) {
            throw ConfigProblem.from(e);
        }
        return validate(parsed, file.toString());
    }

    /** Loads and validates the bundled {@value #DEFAULT_RESOURCE}. */
    public ProxyConfig loadDefault() {
        Config parsed;
        try {
            parsed = ConfigFactory.parseResources(classLoader, DEFAULT_RESOURCE, parseOptions());
        } catch (ConfigException e) {
            throw ConfigProblem.from(e);
        }
        return validate(parsed, DEFAULT_RESOURCE);
    }

    /** Validates configuration text, for tests: {@code name} stands for the file name in messages. */
    public ProxyConfig parseString(String hocon, String name) {
        Config parsed;
        try {
            parsed = ConfigFactory.parseString(hocon, parseOptions().setOriginDescription(name));
        } catch (ConfigException e) {
            throw ConfigProblem.from(e);
        }
        return validate(parsed, name);
    }

    private static ConfigParseOptions parseOptions() {
        // Whatever the file's extension, it is HOCON (JSON is a subset).
        return ConfigParseOptions.defaults().setAllowMissing(false).setSyntax(ConfigSyntax.CONF);
    }

    private ProxyConfig validate(Config userConfig, String source) {
        Config resolved;
        try {
            Config reference = ConfigFactory.parseResources(classLoader, "reference.conf", ConfigParseOptions.defaults());
            // Substitutions (${?RELAY_LISTEN}, ${HOME} ...) resolve against the merged tree, then the environment.
            resolved = userConfig.withFallback(reference).resolve();
        } catch (ConfigException e) {
            throw ConfigProblem.from(e);
        }
        // The user's file on its own, only for the positions of errors in blocks that reference.conf
        // also defines; a substitution it cannot resolve alone stays unresolved there.
        Config userResolved;
        try {
            userResolved = userConfig.resolve(ConfigResolveOptions.defaults().setAllowUnresolved(true));
        } catch (ConfigException e) {
            userResolved = ConfigFactory.empty();
        }
        ConfigObject rootObject = resolved.root();
        if (rootObject.get("proxy") == null) {
            throw new ConfigProblem(source, -1, "proxy", "missing (expected: a proxy { ... } block)", null);
        }
        ConfigNode proxy = ConfigNode.of("proxy", rootObject.get("proxy"), userResolved.root().get("proxy"));
        proxy.object();
        proxy.checkKeys(PROXY_KEYS);

        ServerSettings server = serverSettings(proxy.get("server"));
        List<ListenerConfig> listeners = listeners(proxy.get("listeners"));
        AdminConfig admin = admin(proxy.get("admin"), listeners);

        Map<String, UpstreamConfig> upstreams = new LinkedHashMap<>();
        int demoOrigins = 0;
        ConfigNode upstreamsNode = proxy.get("upstreams");
        ConfigNode defaults = proxy.get("upstream-defaults");
        if (!defaults.isMissing()) {
            defaults.checkKeys(UPSTREAM_DEFAULT_KEYS);
        }
        if (upstreamsNode.isMissing()) {
            demoOrigins = demoOrigins(proxy.get("demo"));
            if (demoOrigins == 0) {
                throw upstreamsNode.problem("missing (expected: a block of upstream groups, "
                        + "upstreams { NAME { backends = [\"host:port\", ...] } })");
            }
        } else {
            Map<String, ConfigNode> groups = upstreamsNode.entries();
            if (groups.isEmpty()) {
                throw upstreamsNode.problem("no upstream group (expected: upstreams { NAME { backends = [...] } })");
            }
            for (Map.Entry<String, ConfigNode> e : groups.entrySet()) {
                upstreams.put(e.getKey(), upstream(e.getKey(), e.getValue(), defaults));
            }
        }
        Set<String> upstreamNames = demoOrigins > 0 ? Set.of(ProxyConfig.DEMO_UPSTREAM) : upstreams.keySet();

        List<FilterConfig> globalFilters = proxy.has("filters") ? filters(proxy.get("filters")) : List.of();
        List<RouteConfig> routes = routes(proxy.get("routes"), upstreamNames);
        return new ProxyConfig(source, server, listeners, upstreams, routes, globalFilters, demoOrigins, admin);
    }

    // ---------------------------------------------------------------------------------------------

    private static ServerSettings serverSettings(ConfigNode node) {
        node.checkKeys(SERVER_KEYS);
        int threads = node.get("threads").integer(0, 4096);
        Duration grace = node.get("grace-period").duration();
        if (grace.isNegative()) {
            throw node.get("grace-period").problem(grace + " (expected: >= 0)");
        }
        int maxAttempts = node.get("max-attempts").integer(1, 1000);
        ConfigNode transportNode = node.get("transport");
        TransportRuntime.Kind transport = switch (transportNode.string().trim().toLowerCase(Locale.ROOT)) {
            case "auto" -> TransportRuntime.Kind.AUTO;
            case "io_uring", "io-uring" -> TransportRuntime.Kind.IO_URING;
            case "epoll" -> TransportRuntime.Kind.EPOLL;
            case "nio" -> TransportRuntime.Kind.NIO;
            default -> throw transportNode.problem("unknown value '" + transportNode.string()
                    + "' (expected: auto, io_uring, epoll or nio)");
        };
        boolean accessLog = node.get("access-log").bool();
        ConfigNode formatNode = node.get("access-log-format");
        AccessLogFormat format = switch (formatNode.string().trim().toLowerCase(Locale.ROOT)) {
            case "combined" -> AccessLogFormat.COMBINED;
            case "json" -> AccessLogFormat.JSON;
            default -> throw formatNode.problem("unknown value '" + formatNode.string() + "' (expected: combined or json)");
        };
        Duration shutdownTimeout = node.get("shutdown-timeout").duration();
        if (shutdownTimeout.isNegative()) {
            throw node.get("shutdown-timeout").problem(shutdownTimeout + " (expected: >= 0)");
        }
        Duration retryBackoff = timeout(node.get("retry-backoff"), false);
        int maxIdle = node.get("max-idle-upstream-connections").integer(0, 1_000_000);
        String pidFile = optionalPath(node.get("pid-file"));
        String upgradeSocket = optionalPath(node.get("upgrade-socket"));
        return new ServerSettings(threads, grace, maxAttempts, transport, accessLog, format, shutdownTimeout,
                retryBackoff, maxIdle, pidFile, upgradeSocket);
    }

    /** A file path, or null when missing, null or {@code none}. */
    private static String optionalPath(ConfigNode node) {
        if (node.isMissing()) {
            return null;
        }
        String text = node.string().trim();
        if (text.equalsIgnoreCase("none")) {
            return null;
        }
        if (text.isEmpty() || text.indexOf('\0') >= 0) {
            throw node.problem("'" + text + "' (expected: a file path, or none)");
        }
        return text;
    }

    private static AdminConfig admin(ConfigNode node, List<ListenerConfig> listeners) {
        if (node.isMissing()) {
            return null;
        }
        node.checkKeys(ADMIN_KEYS);
        ConfigNode address = node.get("address");
        if (address.isMissing()) {
            return null;
        }
        String text = address.string().trim();
        InetSocketAddress parsed = parseAddress(address, text, 0);
        for (ListenerConfig l : listeners) {
            InetSocketAddress other = Addresses.parseHostPort(l.address());
            if (parsed.getPort() != 0 && Addresses.format(other).equals(Addresses.format(parsed))) {
                throw address.problem("'" + text + "' is also a proxy listener (expected: an address of its own)");
            }
        }
        return new AdminConfig(text, address.where());
    }

    private static List<ListenerConfig> listeners(ConfigNode node) {
        if (node.isMissing()) {
            throw node.problem("missing (expected: a list of listeners, listeners = [ { address = \"127.0.0.1:6188\" } ])");
        }
        List<ConfigNode> items = node.list();
        if (items.isEmpty()) {
            throw node.problem("empty (expected: at least one listener)");
        }
        List<ListenerConfig> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (ConfigNode item : items) {
            ConfigNode address = item;
            if (item.isObject()) {
                item.checkKeys(Set.of("address"));
                address = item.get("address");
            }
            String text = address.string();
            InetSocketAddress parsed = parseAddress(address, text, 0);
            if (!seen.add(Addresses.format(parsed))) {
                throw address.problem("'" + text + "' is listed twice (expected: each address once)");
            }
            out.add(new ListenerConfig(text.trim(), address.where()));
        }
        return out;
    }

    private static int demoOrigins(ConfigNode node) {
        if (node.isMissing()) {
            return 0;
        }
        node.checkKeys(DEMO_KEYS);
        ConfigNode origins = node.get("origins");
        return origins.isMissing() ? 0 : origins.integer(0, 16);
    }

    private static UpstreamConfig upstream(String name, ConfigNode node, ConfigNode defaults) {
        node.object();
        node.checkKeys(UPSTREAM_KEYS);
        // A key the group leaves out comes from proxy.upstream-defaults (which reference.conf fills).
        Function<String, ConfigNode> key = k -> {
            ConfigNode own = node.get(k);
            if (own.value() != null || defaults.isMissing()) {
                return own;
            }
            return defaults.get(k);
        };

        ConfigNode backendsNode = node.get("backends");
        if (backendsNode.isMissing()) {
            throw backendsNode.problem("missing (expected: a list of \"host:port\" or { address = \"host:port\", weight = N })");
        }
        List<ConfigNode> items = backendsNode.list();
        if (items.isEmpty()) {
            throw backendsNode.problem("empty (expected: at least one backend)");
        }
        List<Backend> backends = new ArrayList<>();
        Set<InetSocketAddress> seen = new HashSet<>();
        for (ConfigNode item : items) {
            ConfigNode address = item;
            int weight = 1;
            if (item.isObject()) {
                item.checkKeys(Set.of("address", "weight"));
                address = item.get("address");
                ConfigNode weightNode = item.get("weight");
                if (!weightNode.isMissing()) {
                    weight = weightNode.integer(1, 1_000_000);
                }
            }
            InetSocketAddress parsed = parseAddress(address, address.string(), 1);
            if (!seen.add(parsed)) {
                throw address.problem("'" + address.string() + "' is listed twice (expected: each backend once; use weight)");
            }
            backends.add(Backend.of(parsed, weight));
        }

        ConfigNode selectionNode = key.apply("selection");
        Selection selection = switch (selectionNode.string().trim()) {
            case "round-robin" -> Selection.ROUND_ROBIN;
            case "random" -> Selection.RANDOM;
            default -> throw selectionNode.problem("unknown value '" + selectionNode.string()
                    + "' (expected: round-robin or random)");
        };
        boolean tls = key.apply("tls").bool();
        ConfigNode sniNode = key.apply("sni");
        String sni = sniNode.isMissing() ? null : sniNode.string().trim();
        if (sni != null && !tls) {
            throw sniNode.problem("'" + sni + "' is set but tls = false (expected: tls = true, or no sni)");
        }
        boolean verify = key.apply("verify").bool();
        ConfigNode hostHeaderNode = key.apply("host-header");
        String hostHeader = hostHeaderNode.isMissing() ? null : hostHeaderNode.string().trim();
        if (hostHeader != null && (hostHeader.isEmpty() || hostHeader.chars().anyMatch(c -> c <= ' ' || c == 0x7f))) {
            throw hostHeaderNode.problem("'" + hostHeader + "' (expected: a host name, optionally with :port)");
        }

        ConfigNode alpnNode = key.apply("alpn");
        dev.relay.core.Alpn alpn = dev.relay.core.Alpn.H1;
        if (!alpnNode.isMissing()) {
            alpn = switch (alpnNode.string().trim().toLowerCase(Locale.ROOT)) {
                case "h1", "http/1.1" -> dev.relay.core.Alpn.H1;
                case "h2-or-h1", "h2,h1" -> dev.relay.core.Alpn.H2_OR_H1;
                case "h2" -> dev.relay.core.Alpn.H2;
                default -> throw alpnNode.problem("unknown value '" + alpnNode.string() + "' (expected: h1, h2-or-h1 or h2)");
            };
            if (alpn != dev.relay.core.Alpn.H1 && !tls) {
                throw alpnNode.problem("'" + alpnNode.string() + "' needs tls = true (expected: h1 without TLS)");
            }
        }
        ConfigNode keepAliveNode = key.apply("tcp-keepalive");
        PeerOptions options = PeerOptions.builder()
                .alpn(alpn)
                .tcpKeepAlive(!keepAliveNode.isMissing() && keepAliveNode.bool())
                .totalConnectionTimeout(timeout(key.apply("total-connect-timeout"), false))
                .connectTimeout(timeout(key.apply("connect-timeout"), false))
                .readTimeout(timeout(key.apply("read-timeout"), false))
                .writeTimeout(timeout(key.apply("write-timeout"), false))
                .idleTimeout(timeout(key.apply("idle-timeout"), true))
                .verifyCert(verify)
                .verifyHostname(verify)
                .build();
        return new UpstreamConfig(name, backends, selection, tls, sni, verify, hostHeader, options);
    }

    /** A timeout: missing, null or {@code none} means no timer. */
    private static Duration timeout(ConfigNode node, boolean zeroAllowed) {
        if (node.isMissing()) {
            return null;
        }
        if (node.value().valueType() == com.typesafe.config.ConfigValueType.STRING
                && node.string().trim().equalsIgnoreCase("none")) {
            return null;
        }
        Duration d = node.duration();
        if (d.isNegative() || (d.isZero() && !zeroAllowed)) {
            throw node.problem(node.describeValue() + " (expected: " + (zeroAllowed ? ">= 0" : "> 0") + ", or none)");
        }
        return d;
    }

    private static InetSocketAddress parseAddress(ConfigNode node, String text, int minPort) {
        InetSocketAddress address;
        try {
            address = Addresses.parseHostPort(text);
        } catch (IllegalArgumentException e) {
            throw node.problem("bad address '" + text + "' (expected: host:port)");
        }
        if (address.getPort() < minPort) {
            throw node.problem("bad address '" + text + "' (expected: a port in " + minPort + "..65535)");
        }
        return address;
    }

    private List<RouteConfig> routes(ConfigNode node, Set<String> upstreamNames) {
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
            String name = upstream.string().trim();
            if (!upstreamNames.contains(name)) {
                throw upstream.problem("unknown upstream '" + name + "' (expected: " + ConfigNode.oneOf(upstreamNames) + ")");
            }
            String routeName = "route-" + i;
            ConfigNode nameNode = route.get("name");
            if (!nameNode.isMissing()) {
                routeName = nameNode.string().trim();
                if (!routeName.matches("[A-Za-z0-9_.:-]+")) {
                    throw nameNode.problem("'" + routeName + "' (expected: letters, digits, '_', '.', ':' or '-')");
                }
            }
            if (!names.add(routeName)) {
                throw (nameNode.isMissing() ? route : nameNode).problem("route name '" + routeName
                        + "' is used twice (expected: each route's name once)");
            }
            List<String> hosts = List.of();
            String pathPrefix = null;
            String path = null;
            java.util.regex.Pattern pathRegex = null;
            List<String> methods = List.of();
            Map<String, String> headers = Map.of();
            ConfigNode match = route.get("match");
            if (!match.isMissing()) {
                match.checkKeys(MATCH_KEYS);
                ConfigNode host = match.get("host");
                if (!host.isMissing()) {
                    hosts = hostPatterns(host);
                }
                int pathKinds = 0;
                ConfigNode prefix = match.get("path-prefix");
                if (!prefix.isMissing()) {
                    pathKinds++;
                    pathPrefix = prefix.string().trim();
                    if (!pathPrefix.startsWith("/")) {
                        throw prefix.problem("'" + pathPrefix + "' (expected: a path starting with /)");
                    }
                }
                ConfigNode exact = match.get("path");
                if (!exact.isMissing()) {
                    if (++pathKinds > 1) {
                        throw exact.problem("set together with path-prefix (expected: one of path, path-prefix, path-regex)");
                    }
                    path = exact.string().trim();
                    if (!path.startsWith("/")) {
                        throw exact.problem("'" + path + "' (expected: a path starting with /)");
                    }
                }
                ConfigNode regex = match.get("path-regex");
                if (!regex.isMissing()) {
                    if (++pathKinds > 1) {
                        throw regex.problem("set together with another path match (expected: one of path, path-prefix, path-regex)");
                    }
                    try {
                        pathRegex = java.util.regex.Pattern.compile(regex.string());
                    } catch (java.util.regex.PatternSyntaxException e) {
                        throw regex.problem("bad regular expression '" + regex.string() + "': "
                                + e.getDescription() + " at index " + e.getIndex() + " (expected: a Java regular expression)");
                    }
                }
                ConfigNode method = match.get("method");
                if (!method.isMissing()) {
                    List<ConfigNode> list = method.isList() ? method.list() : List.of(method);
                    if (list.isEmpty()) {
                        throw method.problem("empty (expected: a method such as GET, or a list of them)");
                    }
                    List<String> ms = new ArrayList<>();
                    for (ConfigNode m : list) {
                        String text = m.string().trim();
                        if (!text.matches("[A-Za-z]+")) {
                            throw m.problem("bad method '" + text + "' (expected: a method such as GET)");
                        }
                        ms.add(text.toUpperCase(Locale.ROOT));
                    }
                    methods = ms;
                }
                ConfigNode headersNode = match.get("headers");
                if (!headersNode.isMissing()) {
                    Map<String, String> hs = new LinkedHashMap<>();
                    for (Map.Entry<String, ConfigNode> e : headersNode.entries().entrySet()) {
                        String field = e.getKey().trim();
                        if (field.isEmpty() || !field.chars().allMatch(c -> c > ' ' && c < 0x7f && c != ':')) {
                            throw e.getValue().problem("bad header name '" + field + "' (expected: a field name)");
                        }
                        hs.put(field.toLowerCase(Locale.ROOT), e.getValue().string());
                    }
                    headers = hs;
                }
            }
            List<FilterConfig> routeFilters = route.has("filters") ? filters(route.get("filters")) : List.of();
            out.add(new RouteConfig(i, routeName, hosts, pathPrefix, name, routeFilters, route.where(), path, pathRegex,
                    methods, headers));
        }
        return out;
    }

    private static List<String> hostPatterns(ConfigNode node) {
        List<ConfigNode> items = node.isList() ? node.list() : List.of(node);
        if (items.isEmpty()) {
            throw node.problem("empty (expected: a host name, *.domain, or a list of them)");
        }
        List<String> out = new ArrayList<>();
        for (ConfigNode item : items) {
            String pattern = item.string().trim().toLowerCase(Locale.ROOT);
            if (!validHostPattern(pattern)) {
                throw item.problem("bad host pattern '" + item.string()
                        + "' (expected: a host name such as example.com, *.example.com, or *)");
            }
            out.add(pattern);
        }
        return out;
    }

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

    private List<FilterConfig> filters(ConfigNode node) {
        List<FilterConfig> out = new ArrayList<>();
        for (ConfigNode item : node.list()) {
            ConfigObject block = item.object();
            ConfigNode nameNode = item.get("name");
            String name = nameNode.string().trim();
            FilterProvider provider = filters.find(name).orElseThrow(() -> nameNode.problem("unknown filter '" + name
                    + "' (expected: " + (filters.names().isEmpty() ? "no filter is on the classpath"
                    : ConfigNode.oneOf(filters.names())) + ")"));
            FilterSettings settings = new ConfigFilterSettings(block, Set.of("name"));
            HttpModuleFactory factory;
            try {
                factory = provider.create(settings);
            } catch (FilterSettings.InvalidSettingException e) {
                String key = e.key();
                ConfigValue at = locate(block, key);
                String message = e.getMessage();
                if (message != null && message.startsWith(key + ": ")) {
                    message = message.substring(key.length() + 2);
                }
                throw new ConfigProblem(at.origin(), item.path() + "." + key, message);
            } catch (RuntimeException e) {
                throw item.problem("filter '" + name + "' rejected its settings: " + e.getMessage());
            }
            if (factory == null) {
                throw item.problem("filter '" + name + "' created nothing (its provider returned null)");
            }
            out.add(new FilterConfig(name, factory, item.where()));
        }
        return out;
    }

    /**
     * The value that a filter's error key points at ({@code request-set.X-Name},
     * {@code response-remove[2]}), or the deepest enclosing one that exists.
     */
    static ConfigValue locate(ConfigObject block, String key) {
        ConfigValue current = block;
        int i = 0;
        while (i < key.length()) {
            if (key.charAt(i) == '[') {
                int close = key.indexOf(']', i);
                if (close < 0 || !(current instanceof ConfigList list)) {
                    break;
                }
                int index;
                try {
                    index = Integer.parseInt(key.substring(i + 1, close));
                } catch (NumberFormatException e) {
                    break;
                }
                if (index < 0 || index >= list.size()) {
                    break;
                }
                current = list.get(index);
                i = close + 1;
            } else {
                if (key.charAt(i) == '.') {
                    i++;
                }
                if (!(current instanceof ConfigObject object)) {
                    break;
                }
                // The longest key of this object that the rest starts with: names may contain dots.
                String rest = key.substring(i);
                String match = null;
                for (String candidate : object.keySet()) {
                    if (rest.startsWith(candidate) && (rest.length() == candidate.length()
                            || rest.charAt(candidate.length()) == '.' || rest.charAt(candidate.length()) == '[')
                            && (match == null || candidate.length() > match.length())) {
                        match = candidate;
                    }
                }
                if (match == null) {
                    break;
                }
                current = object.get(match);
                i += match.length();
            }
        }
        return current;
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> out = new HashSet<>(a);
        out.addAll(b);
        return Set.copyOf(out);
    }
}
