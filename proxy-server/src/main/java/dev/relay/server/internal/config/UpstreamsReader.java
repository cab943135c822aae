package dev.relay.server.internal.config;

import dev.relay.core.Addresses;
import dev.relay.core.Alpn;
import dev.relay.core.Backend;
import dev.relay.core.PeerOptions;
import dev.relay.core.ProxyProtocol;
import dev.relay.lb.HashKey;
import dev.relay.lb.SelectionAlgorithms;
import dev.relay.server.internal.config.ProxyConfig.Selection;
import dev.relay.server.internal.config.ProxyConfig.UpstreamConfig;

import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import static java.util.Objects.requireNonNull;

/**
 * Reads the upstream groups: {@code proxy.upstreams}, the {@code proxy.upstream-defaults} they
 * inherit, and {@code proxy.demo}, whose in-process origins stand in for them when a file has none.
 * A group's health blocks go to {@link HealthCheckReader}, its {@code discovery} to
 * {@link DiscoveryReader}. A reload builds a group anew when its settings changed; only the number of
 * demo origins, started with the process, is restart-only.
 */
final class UpstreamsReader {
    private static final Set<String> DEFAULT_KEYS = Set.of("selection", "tls", "sni", "verify",
            "host-header", "connect-timeout", "total-connect-timeout", "read-timeout", "write-timeout",
            "idle-timeout", "max-idle-connections", "alpn", "tcp-keepalive", "hash-key", "health-check",
            "outlier-detection", "send-proxy-protocol", "ca-file", "client-cert", "client-key", "verify-name-alternative",
            "h2-max-streams", "h2-ping-interval");
    /** A group has the keys of the defaults and where its backends come from. */
    private static final Set<String> GROUP_KEYS = union(DEFAULT_KEYS, Set.of("backends", "discovery"));
    private static final Set<String> BACKEND_KEYS = Set.of("address", "weight");
    private static final Set<String> DEMO_KEYS = Set.of("origins");
    private static final Map<String, Alpn> ALPNS = Map.of("h1", Alpn.H1, "http/1.1", Alpn.H1,
            "h2-or-h1", Alpn.H2_OR_H1, "h2,h1", Alpn.H2_OR_H1, "h2", Alpn.H2);

    /**
     * What {@code proxy.upstreams} and {@code proxy.demo} give.
     *
     * @param groups      the groups by name, in file order; empty in demo mode
     * @param demoOrigins how many demo origins to start, 0 when the file has its own groups
     */
    record Upstreams(Map<String, UpstreamConfig> groups, int demoOrigins) {
        Upstreams {
            groups = Collections.unmodifiableMap(new LinkedHashMap<>(groups));
        }

        /** The names a route may send to. */
        Set<String> names() {
            return demoOrigins > 0 ? Set.of(ProxyConfig.DEMO_UPSTREAM) : groups.keySet();
        }
    }

    private UpstreamsReader() {}

    /**
     * Reads the groups of {@code proxy} (the {@code proxy} block), recording the restart-only number
     * of demo origins in {@code restartOnly}.
     */
    static Upstreams read(ConfigNode proxy, RestartOnlySettings.Recorder restartOnly) {
        requireNonNull(restartOnly, "restartOnly");
        ConfigNode upstreamsNode = proxy.get("upstreams");
        ConfigNode defaults = proxy.get("upstream-defaults");
        if (!defaults.isMissing()) {
            checkDefaults(defaults);
        }
        Map<String, UpstreamConfig> groups = new LinkedHashMap<>();
        int demoOrigins = 0;
        if (upstreamsNode.isMissing()) {
            demoOrigins = demoOrigins(proxy.get("demo"));
            if (demoOrigins == 0) {
                throw upstreamsNode.problem("missing (expected: a block of upstream groups, "
                        + "upstreams { NAME { backends = [\"host:port\", ...] } })");
            }
        } else {
            Map<String, ConfigNode> nodes = upstreamsNode.entries();
            if (nodes.isEmpty()) {
                throw upstreamsNode.problem("no upstream group (expected: upstreams { NAME { backends = [...] } })");
            }
            for (Map.Entry<String, ConfigNode> e : nodes.entrySet()) {
                groups.put(e.getKey(), group(e.getKey(), e.getValue(), defaults));
            }
        }
        // The demo origins are started with the process; a file with groups of its own has none.
        restartOnly.record(proxy.path() + ".demo.origins", demoOrigins);
        return new Upstreams(groups, demoOrigins);
    }

    private static int demoOrigins(ConfigNode node) {
        if (node.isMissing()) {
            return 0;
        }
        node.checkKeys(DEMO_KEYS);
        ConfigNode origins = node.get("origins");
        return origins.isMissing() ? 0 : origins.integer(0, 16);
    }

    private static UpstreamConfig group(String name, ConfigNode node, ConfigNode defaults) {
        node.object();
        node.checkKeys(GROUP_KEYS);
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
            discovery = DiscoveryReader.discovery(discoveryNode);
        } else {
            if (backendsNode.isMissing()) {
                throw backendsNode.problem("missing (expected: a list of \"host:port\" or { address = \"host:port\", weight = N }, "
                        + "or a discovery { type = dns | file, ... } block)");
            }
            backends = staticBackends(backendsNode);
        }

        Selection selection = selection(key.apply("selection"));
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
        String sni = sniNode.optionalText();
        if (sni != null && !tls) {
            throw sniNode.problem("'" + sni + "' is set but tls = false (expected: tls = true, or no sni)");
        }
        boolean verify = key.apply("verify").bool();
        ConfigNode hostHeaderNode = key.apply("host-header");
        String hostHeader = hostHeaderNode.optionalText();
        if (hostHeader != null && (hostHeader.isEmpty() || hostHeader.chars().anyMatch(c -> c <= ' ' || c == 0x7f))) {
            throw hostHeaderNode.problem("'" + hostHeader + "' (expected: a host name, optionally with :port)");
        }

        Alpn alpn = alpn(key.apply("alpn"), tls);
        ConfigNode keepAliveNode = key.apply("tcp-keepalive");
        ConfigNode maxIdleNode = key.apply("max-idle-connections");
        PeerOptions.Builder options = PeerOptions.builder()
                .maxIdleConnections(maxIdleNode.isMissing() ? 0 : maxIdleNode.integer(0, 1_000_000))
                .alpn(alpn)
                .maxH2Streams(h2MaxStreams(key.apply("h2-max-streams")))
                .h2PingInterval(key.apply("h2-ping-interval").timeout(false))
                .tcpKeepAlive(!keepAliveNode.isMissing() && keepAliveNode.bool())
                .totalConnectionTimeout(key.apply("total-connect-timeout").timeout(false))
                .connectTimeout(key.apply("connect-timeout").timeout(false))
                .readTimeout(key.apply("read-timeout").timeout(false))
                .writeTimeout(key.apply("write-timeout").timeout(false))
                .idleTimeout(key.apply("idle-timeout").timeout(true))
                .verifyCert(verify)
                .verifyHostname(verify)
                .sendProxyProtocol(sendProxyProtocol(key.apply("send-proxy-protocol")));
        upstreamTls(node, key, tls, verify, options);

        ConfigNode defaultCheck = defaults.isMissing() ? null : defaults.get("health-check");
        HealthCheckConfig healthCheck = HealthCheckReader.healthCheck(node.get("health-check"), defaultCheck, tls, sni,
                verify, hostHeader);
        ConfigNode defaultOutliers = defaults.isMissing() ? null : defaults.get("outlier-detection");
        OutlierDetectionConfig outliers = HealthCheckReader.outlierDetection(node.get("outlier-detection"), defaultOutliers);
        return new UpstreamConfig(name, backends, selection, tls, sni, verify, hostHeader, options.build(), hashKey,
                discovery, healthCheck, outliers);
    }

    /**
     * The TLS identity keys of a group: {@code ca-file} (the roots to verify against instead of the
     * system's), {@code client-cert} with {@code client-key} (mutual TLS) and
     * {@code verify-name-alternative} (a second name the certificate may carry). The files are read
     * now, so that a bad one fails the configuration test.
     */
    private static void upstreamTls(ConfigNode group, Function<String, ConfigNode> key, boolean tls, boolean verify,
                                    PeerOptions.Builder options) {
        ConfigNode caFile = key.apply("ca-file");
        ConfigNode clientCert = key.apply("client-cert");
        ConfigNode clientKey = key.apply("client-key");
        ConfigNode alternative = key.apply("verify-name-alternative");
        for (ConfigNode node : List.of(caFile, clientCert, clientKey, alternative)) {
            if (!node.isMissing() && !tls) {
                throw node.problem("is set but tls = false (expected: tls = true, or no " + lastKey(node) + ")");
            }
        }
        if (!caFile.isMissing()) {
            if (!verify) {
                throw caFile.problem("is set but verify = false (expected: verify = true, or no ca-file)");
            }
            options.trustedCertificates(PemFiles.certificates(caFile));
        }
        if (clientCert.isMissing() != clientKey.isMissing()) {
            // Point at the group, which lacks it (the defaults may lack it too).
            ConfigNode missing = group.get(clientCert.isMissing() ? "client-cert" : "client-key");
            throw missing.problem("missing (expected: client-cert and client-key together)");
        }
        if (!clientCert.isMissing()) {
            List<java.security.cert.X509Certificate> chain = PemFiles.certificates(clientCert);
            options.clientCertificate(PemFiles.privateKey(clientKey, chain.get(0)), chain);
        }
        String name = alternative.optionalText();
        if (name != null) {
            if (!verify) {
                throw alternative.problem("is set but verify = false (expected: verify = true, or no verify-name-alternative)");
            }
            try {
                options.alternativeName(name.trim());
            } catch (IllegalArgumentException e) {
                throw alternative.problem("'" + name + "' (expected: a host name)");
            }
        }
    }

    private static String lastKey(ConfigNode node) {
        return node.path().substring(node.path().lastIndexOf('.') + 1);
    }

    /**
     * {@code alpn}: with TLS the protocols offered in the handshake; without TLS nothing is
     * negotiated, so {@code h2} means HTTP/2 with prior knowledge (h2c) and {@code h2-or-h1} cannot be.
     */
    private static Alpn alpn(ConfigNode node, boolean tls) {
        if (node.isMissing()) {
            return Alpn.H1;
        }
        Alpn alpn = node.choice(ALPNS, "h1, h2-or-h1 or h2");
        if (alpn == Alpn.H2_OR_H1 && !tls) {
            throw node.problem("'" + node.string() + "' needs tls = true: without TLS there is no handshake to "
                    + "choose in (expected: h1, or h2 for HTTP/2 with prior knowledge)");
        }
        return alpn;
    }

    /** {@code h2-max-streams}: the cap of streams per HTTP/2 connection (the peer's limit may be lower). */
    private static int h2MaxStreams(ConfigNode node) {
        return node.isMissing() ? PeerOptions.defaults().maxH2Streams() : node.integer(1, 1_000_000);
    }

    /** {@code send-proxy-protocol}: {@code v1}, {@code v2} or {@code none} (the default). */
    private static ProxyProtocol sendProxyProtocol(ConfigNode node) {
        if (node.isMissing()) {
            return ProxyProtocol.NONE;
        }
        return node.choice(Map.of("none", ProxyProtocol.NONE, "v1", ProxyProtocol.V1, "v2", ProxyProtocol.V2),
                "v1, v2 or none");
    }

    /**
     * Checks the blocks and values of {@code proxy.upstream-defaults} that a group may not use (a
     * typo there must not wait for the group that inherits it).
     */
    private static void checkDefaults(ConfigNode defaults) {
        defaults.checkKeys(DEFAULT_KEYS);
        ConfigNode selectionNode = defaults.get("selection");
        if (!selectionNode.isMissing()) {
            selection(selectionNode);
        }
        ConfigNode hashKeyNode = defaults.get("hash-key");
        if (!hashKeyNode.isMissing()) {
            hashKey(hashKeyNode);
        }
        ConfigNode check = defaults.get("health-check");
        if (check.isObject() && !check.has("type")) {
            // Settings for the groups' own checks (they give the type): only the names can be wrong yet.
            HealthCheckReader.checkKeyNames(check);
        } else {
            ConfigNode tls = defaults.get("tls");
            ConfigNode verify = defaults.get("verify");
            HealthCheckReader.healthCheck(check, null, !tls.isMissing() && tls.bool(), defaults.get("sni").optionalText(),
                    verify.isMissing() || verify.bool(), defaults.get("host-header").optionalText());
        }
        HealthCheckReader.outlierDetection(defaults.get("outlier-detection"), null);
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
        List<Backend> backends = new ArrayList<>();
        Set<SocketAddress> seen = new HashSet<>();
        for (ConfigNode item : backendsNode.nonEmptyList("at least one backend")) {
            ConfigNode address = item;
            int weight = 1;
            if (item.isObject()) {
                item.checkKeys(BACKEND_KEYS);
                address = item.get("address");
                ConfigNode weightNode = item.get("weight");
                if (!weightNode.isMissing()) {
                    weight = weightNode.integer(1, 1_000_000);
                }
            }
            String text = address.string();
            SocketAddress parsed = Addresses.isUnix(text) ? Addresses.parseUnix(address.unixAddress(text))
                    : address.hostPort(text, 1);
            if (!seen.add(parsed)) {
                throw address.problem("'" + address.string() + "' is listed twice (expected: each backend once; use weight)");
            }
            backends.add(Backend.of(parsed, weight));
        }
        return backends;
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> out = new HashSet<>(a);
        out.addAll(b);
        return Set.copyOf(out);
    }
}
