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
import dev.relay.lb.DnsDiscovery;
import dev.relay.lb.HashKey;
import dev.relay.lb.SelectionAlgorithms;
import dev.relay.server.internal.FilterRegistry;
import dev.relay.server.internal.config.ProxyConfig.AccessLogFormat;
import dev.relay.server.internal.config.ProxyConfig.AdminConfig;
import dev.relay.server.internal.config.ProxyConfig.FilterConfig;
import dev.relay.server.internal.config.ProxyConfig.ListenerConfig;
import dev.relay.server.internal.config.ProxyConfig.RouteConfig;
import dev.relay.server.internal.config.ProxyConfig.Selection;
import dev.relay.server.internal.config.ProxyConfig.ServerSettings;
import dev.relay.server.internal.config.ProxyConfig.UpstreamConfig;
import dev.relay.transport.ProxyOptions;
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
            "access-log", "access-log-format", "shutdown-timeout", "shutdown-delay", "retry-backoff", "max-idle-upstream-connections",
            "pid-file", "upgrade-socket", "retry-buffer", "request-deadline", "header-read-timeout",
            "keepalive-timeout", "body-read-timeout", "max-header-size", "max-request-line");
    private static final Set<String> LISTENER_KEYS = Set.of("address", "header-read-timeout", "keepalive-timeout",
            "body-read-timeout");
    private static final Set<String> UPSTREAM_DEFAULT_KEYS = Set.of("selection", "tls", "sni", "verify",
            "host-header", "connect-timeout", "total-connect-timeout", "read-timeout", "write-timeout",
            "idle-timeout", "max-idle-connections", "alpn", "tcp-keepalive", "hash-key", "health-check",
            "outlier-detection");
    private static final Set<String> UPSTREAM_KEYS = union(UPSTREAM_DEFAULT_KEYS, Set.of("backends", "discovery"));
    private static final Set<String> HEALTH_CHECK_KEYS = Set.of("type", "interval", "parallel", "consecutive-success",
            "consecutive-failure", "connect-timeout", "read-timeout", "tls", "sni", "verify-hostname", "port", "host",
            "method", "path", "headers", "expected-statuses", "reuse-connection");
    /** The health-check keys that only an http check has. */
    private static final Set<String> HTTP_CHECK_KEYS = Set.of("read-timeout", "host", "method", "path", "headers",
            "expected-statuses", "reuse-connection");
    private static final Set<String> OUTLIER_KEYS = Set.of("consecutive-failures", "failure-rate-percent",
            "minimum-requests", "window", "base-ejection-time", "max-ejection-time", "max-ejection-percent");
    private static final Set<String> DNS_DISCOVERY_KEYS = Set.of("type", "name", "port", "record", "servers",
            "min-ttl", "max-ttl");
    private static final Set<String> FILE_DISCOVERY_KEYS = Set.of("type", "path", "poll-interval");
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
            checkUpstreamDefaults(defaults);
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
        ConfigNode delayNode = node.get("shutdown-delay");
        Duration shutdownDelay = delayNode.isMissing() ? Duration.ZERO : delayNode.duration();
        if (shutdownDelay.isNegative()) {
            throw delayNode.problem(shutdownDelay + " (expected: >= 0)");
        }
        Duration retryBackoff = timeout(node.get("retry-backoff"), false);
        int maxIdle = node.get("max-idle-upstream-connections").integer(0, 1_000_000);
        String pidFile = optionalPath(node.get("pid-file"));
        String upgradeSocket = optionalPath(node.get("upgrade-socket"));
        // Client limits: reference.conf has every one, a file may leave any out.
        ProxyOptions engine = ProxyOptions.defaults();
        ConfigNode retryBufferNode = node.get("retry-buffer");
        int retryBuffer = retryBufferNode.isMissing() ? engine.retryBufferBytes()
                : (int) retryBufferNode.bytes(0, 64L * 1024 * 1024);
        Duration deadline = timeout(node.get("request-deadline"), false);
        Duration headerRead = clientTimeout(node.get("header-read-timeout"), engine.headerReadTimeout());
        Duration keepAlive = clientTimeout(node.get("keepalive-timeout"), engine.keepAliveTimeout());
        Duration bodyRead = clientTimeout(node.get("body-read-timeout"), engine.bodyReadTimeout());
        ConfigNode headerSizeNode = node.get("max-header-size");
        int maxHeader = headerSizeNode.isMissing() ? engine.maxHeaderBytes()
                : (int) headerSizeNode.bytes(256, 16L * 1024 * 1024);
        ConfigNode requestLineNode = node.get("max-request-line");
        int maxRequestLine = requestLineNode.isMissing() ? engine.maxRequestLineBytes()
                : (int) requestLineNode.bytes(64, 16L * 1024 * 1024);
        return new ServerSettings(threads, grace, maxAttempts, transport, accessLog, format, shutdownTimeout,
                retryBackoff, maxIdle, pidFile, upgradeSocket, retryBuffer, deadline, headerRead, keepAlive, bodyRead,
                maxHeader, maxRequestLine, shutdownDelay);
    }

    /**
     * A client-side timeout ({@code header-read-timeout} ...): a positive duration; {@code fallback}
     * when missing. There is no {@code none}: a client that never finishes must not hold a
     * connection forever.
     */
    private static Duration clientTimeout(ConfigNode node, Duration fallback) {
        if (node.isMissing()) {
            return fallback;
        }
        if (node.isString() && node.string().trim().equalsIgnoreCase("none")) {
            throw node.problem("none (expected: a duration > 0 such as 10s; a client timeout cannot be turned off)");
        }
        Duration d = node.duration();
        if (d.isNegative() || d.isZero()) {
            throw node.problem(node.describeValue() + " (expected: > 0)");
        }
        return d;
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
            Duration headerRead = null;
            Duration keepAlive = null;
            Duration bodyRead = null;
            if (item.isObject()) {
                item.checkKeys(LISTENER_KEYS);
                address = item.get("address");
                headerRead = clientTimeout(item.get("header-read-timeout"), null);
                keepAlive = clientTimeout(item.get("keepalive-timeout"), null);
                bodyRead = clientTimeout(item.get("body-read-timeout"), null);
            }
            String text = address.string();
            InetSocketAddress parsed = parseAddress(address, text, 0);
            if (!seen.add(Addresses.format(parsed))) {
                throw address.problem("'" + text + "' is listed twice (expected: each address once)");
            }
            out.add(new ListenerConfig(text.trim(), address.where(), headerRead, keepAlive, bodyRead));
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
        ConfigNode discoveryNode = node.get("discovery");
        List<Backend> backends = List.of();
        DiscoveryConfig discovery = null;
        if (!discoveryNode.isMissing()) {
            if (!backendsNode.isMissing()) {
                throw discoveryNode.problem("set together with backends (expected: one of backends, discovery)");
            }
            discovery = discovery(discoveryNode);
        } else {
            if (backendsNode.isMissing()) {
                throw backendsNode.problem("missing (expected: a list of \"host:port\" or { address = \"host:port\", weight = N }, "
                        + "or a discovery { type = dns | file, ... } block)");
            }
            backends = staticBackends(backendsNode);
        }

        ConfigNode selectionNode = key.apply("selection");
        Selection selection = selection(selectionNode);
        HashKey hashKey = null;
        ConfigNode ownHashKey = node.get("hash-key");
        if (selection.usesKey()) {
            ConfigNode hashKeyNode = key.apply("hash-key");
            if (hashKeyNode.isMissing()) {
                // Point at the group, not at the defaults that also lack it.
                throw ownHashKey.problem("missing (expected: what selection = " + selection.configName()
                        + " hashes: \"uri\", \"client-ip\", \"header:NAME\" or \"cookie:NAME\")");
            }
            hashKey = hashKey(hashKeyNode);
        } else if (!ownHashKey.isMissing()) {
            throw ownHashKey.problem("'" + ownHashKey.string() + "' is set but selection = " + selection.configName()
                    + " does not hash (expected: selection = fnv, ketama or maglev, or no hash-key)");
        }

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
        ConfigNode maxIdleNode = key.apply("max-idle-connections");
        PeerOptions options = PeerOptions.builder()
                .maxIdleConnections(maxIdleNode.isMissing() ? 0 : maxIdleNode.integer(0, 1_000_000))
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

        ConfigNode defaultCheck = defaults.isMissing() ? null : defaults.get("health-check");
        HealthCheckConfig healthCheck = healthCheck(node.get("health-check"), defaultCheck, tls, sni, verify, hostHeader);
        ConfigNode defaultOutliers = defaults.isMissing() ? null : defaults.get("outlier-detection");
        OutlierDetectionConfig outliers = outlierDetection(node.get("outlier-detection"), defaultOutliers);
        return new UpstreamConfig(name, backends, selection, tls, sni, verify, hostHeader, options, hashKey, discovery,
                healthCheck, outliers);
    }

    /**
     * Checks the blocks and values of {@code proxy.upstream-defaults} that a group may not use (a
     * typo there must not wait for the group that inherits it).
     */
    private static void checkUpstreamDefaults(ConfigNode defaults) {
        defaults.checkKeys(UPSTREAM_DEFAULT_KEYS);
        ConfigNode selectionNode = defaults.get("selection");
        if (!selectionNode.isMissing()) {
            selection(selectionNode);
        }
        ConfigNode hashKeyNode = defaults.get("hash-key");
        if (!hashKeyNode.isMissing()) {
            hashKey(hashKeyNode);
        }
        ConfigNode tls = defaults.get("tls");
        ConfigNode sni = defaults.get("sni");
        ConfigNode verify = defaults.get("verify");
        ConfigNode host = defaults.get("host-header");
        ConfigNode check = defaults.get("health-check");
        if (check.isObject() && !check.has("type")) {
            // Settings for the groups' own checks (they give the type): only the names can be wrong yet.
            check.checkKeys(HEALTH_CHECK_KEYS);
        } else {
            healthCheck(check, null, !tls.isMissing() && tls.bool(), sni.isMissing() ? null : sni.string().trim(),
                    verify.isMissing() || verify.bool(), host.isMissing() ? null : host.string().trim());
        }
        outlierDetection(defaults.get("outlier-detection"), null);
    }

    private static Selection selection(ConfigNode node) {
        Selection selection = Selection.byConfigName(node.string().trim());
        if (selection == null) {
            throw node.problem("unknown value '" + node.string() + "' (expected: "
                    + String.join(", ", SelectionAlgorithms.NAMES.subList(0, SelectionAlgorithms.NAMES.size() - 1))
                    + " or " + SelectionAlgorithms.NAMES.get(SelectionAlgorithms.NAMES.size() - 1) + ")");
        }
        return selection;
    }

    private static HashKey hashKey(ConfigNode node) {
        String spec = node.string().trim();
        try {
            return HashKey.parse(spec);
        } catch (IllegalArgumentException e) {
            throw node.problem("unknown value '" + spec
                    + "' (expected: \"uri\", \"client-ip\", \"header:NAME\" or \"cookie:NAME\" with a token NAME)");
        }
    }

    private static List<Backend> staticBackends(ConfigNode backendsNode) {
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
        return backends;
    }

    // ---------------------------------------------------------------------------------------------
    // health-check, outlier-detection: a group's own block over the one of upstream-defaults

    /**
     * The block that applies to a group, key by key: the group's own block, then the one of
     * {@code proxy.upstream-defaults} (when the group's is a block too), then the built-in default.
     */
    private record Block(ConfigNode own, ConfigNode fallback) {
        ConfigNode get(String k) {
            ConfigNode o = own.get(k);
            if (o.value() != null || fallback == null) {
                return o;
            }
            ConfigNode f = fallback.get(k);
            return f.value() != null ? f : o;
        }
    }

    /**
     * The block of {@code groupNode} (or, when the group does not set it, of {@code defaultsNode}),
     * or null when it is off: missing, {@code null}, {@code off}, {@code false} or {@code none}.
     * {@code on}/{@code true} (only when {@code onAllowed}) takes the defaults' block, else the built-in defaults.
     */
    private static Block block(ConfigNode groupNode, ConfigNode defaultsNode, Set<String> keys, boolean onAllowed) {
        boolean fromGroup = groupNode.value() != null;
        ConfigNode effective = fromGroup ? groupNode : defaultsNode;
        if (effective == null || effective.isMissing()) {
            return null;
        }
        ConfigNode fallback = fromGroup && defaultsNode != null && defaultsNode.isObject() ? defaultsNode : null;
        if (!effective.isObject()) {
            String expected = onAllowed ? "a block { ... }, on or off" : "a block { ... }, or off";
            boolean on;
            if (effective.isString() && effective.string().trim().equalsIgnoreCase("none")) {
                on = false;
            } else if (effective.isBoolean() || effective.isString()) {
                try {
                    on = effective.bool();
                } catch (ConfigProblem notBoolean) {
                    throw effective.problem(effective.describeValue() + " (expected: " + expected + ")");
                }
            } else {
                throw effective.problem(effective.describeValue() + " (expected: " + expected + ")");
            }
            if (!on) {
                return null;
            }
            if (!onAllowed) {
                throw effective.problem(effective.describeValue() + " (expected: " + expected + ")");
            }
            if (fallback != null) {
                fallback.checkKeys(keys);
                return new Block(fallback, null);
            }
            ConfigValue empty = ConfigFactory.empty().root().withOrigin(effective.value().origin());
            return new Block(ConfigNode.of(effective.path(), empty), null);
        }
        effective.checkKeys(keys);
        if (fallback != null) {
            fallback.checkKeys(keys);
        }
        return new Block(effective, fallback);
    }

    private static HealthCheckConfig healthCheck(ConfigNode groupNode, ConfigNode defaultsNode, boolean groupTls,
                                                 String groupSni, boolean groupVerify, String hostHeader) {
        Block b = block(groupNode, defaultsNode, HEALTH_CHECK_KEYS, false);
        if (b == null) {
            return null;
        }
        ConfigNode typeNode = b.get("type");
        if (typeNode.isMissing()) {
            throw typeNode.problem("missing (expected: tcp or http)");
        }
        HealthCheckConfig.Type type = switch (typeNode.string().trim().toLowerCase(Locale.ROOT)) {
            case "tcp" -> HealthCheckConfig.Type.TCP;
            case "http" -> HealthCheckConfig.Type.HTTP;
            default -> throw typeNode.problem("unknown value '" + typeNode.string() + "' (expected: tcp or http)");
        };
        if (type == HealthCheckConfig.Type.TCP) {
            for (String k : new java.util.TreeSet<>(HTTP_CHECK_KEYS)) {
                if (b.own().has(k)) {
                    throw b.own().get(k).problem("only for type = http (expected: no " + k + " with type = tcp)");
                }
            }
        }
        Duration interval = boundedDuration(b.get("interval"), Duration.ofSeconds(5), Duration.ofDays(1));
        boolean parallel = !b.get("parallel").isMissing() && b.get("parallel").bool();
        ConfigNode successNode = b.get("consecutive-success");
        int success = successNode.isMissing() ? 1 : successNode.integer(1, 1000);
        ConfigNode failureNode = b.get("consecutive-failure");
        int failure = failureNode.isMissing() ? 1 : failureNode.integer(1, 1000);
        Duration connect = boundedDuration(b.get("connect-timeout"), Duration.ofSeconds(1), Duration.ofMinutes(10));
        Duration read = boundedDuration(b.get("read-timeout"), Duration.ofSeconds(1), Duration.ofMinutes(10));
        ConfigNode tlsNode = b.get("tls");
        boolean tls = tlsNode.isMissing() ? groupTls : tlsNode.bool();
        ConfigNode sniNode = b.get("sni");
        String sni;
        if (sniNode.isMissing()) {
            sni = tls ? groupSni : null;
        } else {
            sni = sniNode.string().trim();
            if (!tls) {
                throw sniNode.problem("'" + sni + "' is set but the check's tls = false (expected: tls = true, or no sni)");
            }
            if (sni.isEmpty() || sni.chars().anyMatch(c -> c <= ' ' || c >= 0x7f)) {
                throw sniNode.problem("'" + sni + "' (expected: a host name)");
            }
        }
        ConfigNode verifyNode = b.get("verify-hostname");
        boolean verifyHostname = verifyNode.isMissing() ? groupVerify : verifyNode.bool();
        ConfigNode portNode = b.get("port");
        int port = portNode.isMissing() ? 0 : portNode.integer(1, 65535);

        String host = hostHeader != null ? hostHeader : groupSni != null ? groupSni : "localhost";
        String method = "GET";
        String path = "/";
        Map<String, String> headers = new LinkedHashMap<>();
        List<Integer> statuses = List.of(200);
        boolean reuse = false;
        if (type == HealthCheckConfig.Type.HTTP) {
            ConfigNode hostNode = b.get("host");
            if (!hostNode.isMissing()) {
                host = hostNode.string().trim();
            }
            String checkedHost = host;
            probe(hostNode.isMissing() ? b.own() : hostNode, () -> dev.relay.lb.HttpHealthCheck.builder(checkedHost));
            ConfigNode methodNode = b.get("method");
            if (!methodNode.isMissing()) {
                method = methodNode.string().trim().toUpperCase(Locale.ROOT);
                String m = method;
                probe(methodNode, () -> dev.relay.lb.HttpHealthCheck.builder("h").method(m));
            }
            ConfigNode pathNode = b.get("path");
            if (!pathNode.isMissing()) {
                path = pathNode.string().trim();
                String p = path;
                probe(pathNode, () -> dev.relay.lb.HttpHealthCheck.builder("h").path(p));
            }
            ConfigNode headersNode = b.get("headers");
            if (!headersNode.isMissing()) {
                for (Map.Entry<String, ConfigNode> e : headersNode.entries().entrySet()) {
                    String field = e.getKey().trim();
                    String value = e.getValue().string();
                    probe(e.getValue(), () -> dev.relay.lb.HttpHealthCheck.builder("h").header(field, value));
                    headers.put(field, value);
                }
            }
            ConfigNode statusesNode = b.get("expected-statuses");
            if (!statusesNode.isMissing()) {
                statuses = statuses(statusesNode);
            }
            ConfigNode reuseNode = b.get("reuse-connection");
            reuse = !reuseNode.isMissing() && reuseNode.bool();
        }
        HealthCheckConfig config = new HealthCheckConfig(type, interval, parallel, success, failure, connect, read, tls,
                sni, groupVerify, verifyHostname, port, host, method, path, headers, statuses, reuse);
        // Whatever else the check would refuse, now rather than when the group is built.
        probe(b.own(), () -> config.create().close());
        return config;
    }

    /** Runs {@code check}; what it throws becomes a problem with {@code node}. */
    private static void probe(ConfigNode node, Runnable check) {
        try {
            check.run();
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw node.problem(String.valueOf(e.getMessage()));
        }
    }

    /** {@code [200, 204]}, {@code [ "200-399" ]}, {@code "200-399"} or {@code 200}: ascending, each once. */
    private static List<Integer> statuses(ConfigNode node) {
        List<ConfigNode> items = node.isList() ? node.list() : List.of(node);
        if (items.isEmpty()) {
            throw node.problem("empty (expected: statuses such as [200, 204] or a range such as \"200-399\")");
        }
        java.util.TreeSet<Integer> out = new java.util.TreeSet<>();
        for (ConfigNode item : items) {
            String text = item.string().trim();
            int dash = text.indexOf('-');
            try {
                int from = Integer.parseInt(dash < 0 ? text : text.substring(0, dash).trim());
                int to = dash < 0 ? from : Integer.parseInt(text.substring(dash + 1).trim());
                if (from < 100 || to > 599 || from > to) {
                    throw item.problem("'" + text + "' (expected: statuses from 100 to 599, a range as \"FROM-TO\" with FROM <= TO)");
                }
                for (int s = from; s <= to; s++) {
                    out.add(s);
                }
            } catch (NumberFormatException e) {
                throw item.problem("'" + text + "' (expected: a status such as 200 or a range such as \"200-399\")");
            }
        }
        return List.copyOf(out);
    }

    private static OutlierDetectionConfig outlierDetection(ConfigNode groupNode, ConfigNode defaultsNode) {
        Block b = block(groupNode, defaultsNode, OUTLIER_KEYS, true);
        if (b == null) {
            return null;
        }
        OutlierDetectionConfig d = OutlierDetectionConfig.DEFAULTS;
        ConfigNode consecutive = b.get("consecutive-failures");
        ConfigNode rate = b.get("failure-rate-percent");
        ConfigNode minimum = b.get("minimum-requests");
        ConfigNode maxPercent = b.get("max-ejection-percent");
        ConfigNode maxTimeNode = b.get("max-ejection-time");
        Duration base = boundedDuration(b.get("base-ejection-time"), d.baseEjectionTime(), Duration.ofDays(1));
        Duration max = boundedDuration(maxTimeNode, d.maxEjectionTime(), Duration.ofDays(1));
        if (max.compareTo(base) < 0) {
            throw (maxTimeNode.isMissing() ? b.get("base-ejection-time") : maxTimeNode).problem(
                    "max-ejection-time " + ConfigText.duration(max) + " is below base-ejection-time "
                            + ConfigText.duration(base) + " (expected: max-ejection-time >= base-ejection-time)");
        }
        return new OutlierDetectionConfig(
                consecutive.isMissing() ? d.consecutiveFailures() : consecutive.integer(0, 1_000_000),
                rate.isMissing() ? d.failureRatePercent() : rate.integer(0, 100),
                minimum.isMissing() ? d.minimumRequests() : minimum.integer(1, 1_000_000),
                boundedDuration(b.get("window"), d.window(), Duration.ofDays(1)),
                base, max,
                maxPercent.isMissing() ? d.maxEjectionPercent() : maxPercent.integer(0, 100));
    }

    /** A duration in {@code (0, max]}; {@code fallback} when missing. */
    private static Duration boundedDuration(ConfigNode node, Duration fallback, Duration max) {
        if (node.isMissing()) {
            return fallback;
        }
        Duration d = node.duration();
        if (d.isNegative() || d.isZero() || d.compareTo(max) > 0) {
            throw node.problem(node.describeValue() + " (expected: > 0 and <= " + ConfigText.duration(max) + ")");
        }
        return d;
    }

    // ---------------------------------------------------------------------------------------------
    // discovery

    private static DiscoveryConfig discovery(ConfigNode node) {
        node.object();
        ConfigNode typeNode = node.get("type");
        if (typeNode.isMissing()) {
            throw typeNode.problem("missing (expected: dns or file)");
        }
        return switch (typeNode.string().trim().toLowerCase(Locale.ROOT)) {
            case "dns" -> dnsDiscovery(node);
            case "file" -> fileDiscovery(node);
            default -> throw typeNode.problem("unknown value '" + typeNode.string() + "' (expected: dns or file)");
        };
    }

    private static DiscoveryConfig.Dns dnsDiscovery(ConfigNode node) {
        node.checkKeys(DNS_DISCOVERY_KEYS);
        ConfigNode nameNode = node.get("name");
        if (nameNode.isMissing()) {
            throw nameNode.problem("missing (expected: the DNS name to look up, such as \"api.internal\")");
        }
        String name = nameNode.string().trim();
        probe(nameNode, () -> DnsDiscovery.builder(name));
        ConfigNode recordNode = node.get("record");
        DnsDiscovery.RecordType record = DnsDiscovery.RecordType.A_AND_AAAA;
        if (!recordNode.isMissing()) {
            record = switch (recordNode.string().trim().toUpperCase(Locale.ROOT).replace('-', '_')) {
                case "A" -> DnsDiscovery.RecordType.A;
                case "AAAA" -> DnsDiscovery.RecordType.AAAA;
                case "A_AND_AAAA" -> DnsDiscovery.RecordType.A_AND_AAAA;
                case "SRV" -> DnsDiscovery.RecordType.SRV;
                default -> throw recordNode.problem("unknown value '" + recordNode.string()
                        + "' (expected: A, AAAA, A_AND_AAAA or SRV)");
            };
        }
        ConfigNode portNode = node.get("port");
        int port = 0;
        if (record == DnsDiscovery.RecordType.SRV) {
            if (!portNode.isMissing()) {
                throw portNode.problem(portNode.describeValue() + " is set with record = SRV (expected: no port, "
                        + "the SRV records carry the ports)");
            }
        } else {
            if (portNode.isMissing()) {
                throw portNode.problem("missing (expected: the backends' port, 1..65535, for record = " + record + ")");
            }
            port = portNode.integer(1, 65535);
        }
        List<InetSocketAddress> servers = new ArrayList<>();
        ConfigNode serversNode = node.get("servers");
        if (!serversNode.isMissing()) {
            List<ConfigNode> items = serversNode.list();
            if (items.isEmpty()) {
                throw serversNode.problem("empty (expected: name servers such as [\"127.0.0.1:53\"], or no servers "
                        + "for those of /etc/resolv.conf)");
            }
            for (ConfigNode item : items) {
                servers.add(nameServer(item));
            }
        }
        Duration minTtl = ttl(node.get("min-ttl"), Duration.ofSeconds(1));
        Duration maxTtl = ttl(node.get("max-ttl"), Duration.ofMinutes(5));
        if (minTtl.compareTo(maxTtl) > 0) {
            ConfigNode at = node.get("min-ttl").isMissing() ? node.get("max-ttl") : node.get("min-ttl");
            throw at.problem("min-ttl " + ConfigText.duration(minTtl) + " is above max-ttl " + ConfigText.duration(maxTtl)
                    + " (expected: min-ttl <= max-ttl)");
        }
        DiscoveryConfig.Dns config = new DiscoveryConfig.Dns(name, port, record, servers, minTtl, maxTtl);
        probe(serversNode.isMissing() ? node : serversNode, config::create);
        return config;
    }

    /** {@code "10.0.0.2:53"}, {@code "10.0.0.2"} (port 53), {@code "[::1]:53"}: an IP address, not a name. */
    private static InetSocketAddress nameServer(ConfigNode item) {
        String text = item.string().trim();
        String withPort = text;
        boolean bracketed = text.startsWith("[") && text.endsWith("]");
        if (bracketed || text.indexOf(':') < 0 || (text.indexOf(':') != text.lastIndexOf(':') && !text.startsWith("["))) {
            withPort = (bracketed || text.indexOf(':') < 0 ? text : "[" + text + "]") + ":53";
        }
        InetSocketAddress address;
        try {
            address = Addresses.parseHostPort(withPort);
        } catch (IllegalArgumentException e) {
            throw item.problem("bad address '" + text + "' (expected: an IP address, optionally with :port)");
        }
        if (address.isUnresolved() || address.getPort() == 0) {
            throw item.problem("bad address '" + text + "' (expected: an IP address, optionally with :port; not a name)");
        }
        return address;
    }

    /** A TTL bound: whole seconds, 0 to 1 day. */
    private static Duration ttl(ConfigNode node, Duration fallback) {
        if (node.isMissing()) {
            return fallback;
        }
        Duration d = node.duration();
        if (d.isNegative() || d.compareTo(Duration.ofDays(1)) > 0 || d.toNanos() % 1_000_000_000L != 0) {
            throw node.problem(node.describeValue() + " (expected: whole seconds, 0 to 1 day)");
        }
        return d;
    }

    private static DiscoveryConfig.File fileDiscovery(ConfigNode node) {
        node.checkKeys(FILE_DISCOVERY_KEYS);
        ConfigNode pathNode = node.get("path");
        if (pathNode.isMissing()) {
            throw pathNode.problem("missing (expected: the file listing the backends, one host:port a line)");
        }
        String text = pathNode.string().trim();
        Path path;
        try {
            path = Path.of(text);
        } catch (java.nio.file.InvalidPathException e) {
            throw pathNode.problem("bad path '" + text + "' (expected: a file path)");
        }
        if (text.isEmpty()) {
            throw pathNode.problem("empty (expected: a file path)");
        }
        if (!path.isAbsolute()) {
            // Relative to the configuration file, as an include would be.
            String file = pathNode.origin() == null ? null : pathNode.origin().filename();
            if (file != null && Path.of(file).getParent() != null) {
                path = Path.of(file).getParent().resolve(path);
            }
            path = path.toAbsolutePath().normalize();
        }
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
            throw pathNode.problem("cannot read '" + path + "': " + (Files.exists(path) ? "not a readable file" : "no such file")
                    + " (expected: a file listing the backends, one host:port a line)");
        }
        Duration poll = boundedDuration(node.get("poll-interval"), Duration.ofSeconds(5), Duration.ofDays(1));
        return new DiscoveryConfig.File(path, poll);
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
