package dev.relay.server.internal.config;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValue;
import dev.relay.lb.HttpHealthCheck;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads a group's health blocks, {@code health-check} (active checks) and {@code outlier-detection}
 * (passive health). Each key comes from the group's own block, then from the same block of
 * {@code proxy.upstream-defaults}, then from the built-in default. A reload applies both: a group
 * whose blocks changed is a changed group and is built anew.
 */
final class HealthCheckReader {
    private static final Set<String> HEALTH_CHECK_KEYS = Set.of("type", "interval", "parallel", "consecutive-success",
            "consecutive-failure", "connect-timeout", "read-timeout", "tls", "sni", "verify-hostname", "port", "host",
            "method", "path", "headers", "expected-statuses", "reuse-connection");
    /** The health-check keys that only an http check has. */
    private static final Set<String> HTTP_CHECK_KEYS = Set.of("read-timeout", "host", "method", "path", "headers",
            "expected-statuses", "reuse-connection");
    private static final Set<String> OUTLIER_KEYS = Set.of("consecutive-failures", "failure-rate-percent",
            "minimum-requests", "window", "base-ejection-time", "max-ejection-time", "max-ejection-percent");
    private static final Map<String, HealthCheckConfig.Type> CHECK_TYPES =
            Map.of("tcp", HealthCheckConfig.Type.TCP, "http", HealthCheckConfig.Type.HTTP);

    private HealthCheckReader() {}

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

    /**
     * Checks only the key names of {@code check}: for a block of {@code proxy.upstream-defaults} that
     * holds settings for the groups' own checks (they give the type), nothing else can be wrong yet.
     */
    static void checkKeyNames(ConfigNode check) {
        check.checkKeys(HEALTH_CHECK_KEYS);
    }

    /**
     * The active health check of a group, or null when it has none. The check speaks to the backends
     * as the group does ({@code groupTls}, {@code groupSni}, {@code groupVerify}, its {@code Host})
     * unless its block says otherwise.
     */
    static HealthCheckConfig healthCheck(ConfigNode groupNode, ConfigNode defaultsNode, boolean groupTls,
                                         String groupSni, boolean groupVerify, String hostHeader) {
        Block b = block(groupNode, defaultsNode, HEALTH_CHECK_KEYS, false);
        if (b == null) {
            return null;
        }
        ConfigNode typeNode = b.get("type");
        if (typeNode.isMissing()) {
            throw typeNode.problem("missing (expected: tcp or http)");
        }
        HealthCheckConfig.Type type = typeNode.choice(CHECK_TYPES, "tcp or http");
        if (type == HealthCheckConfig.Type.TCP) {
            for (String k : new TreeSet<>(HTTP_CHECK_KEYS)) {
                if (b.own().has(k)) {
                    throw b.own().get(k).problem("only for type = http (expected: no " + k + " with type = tcp)");
                }
            }
        }
        Duration interval = b.get("interval").positiveDuration(Duration.ofSeconds(5), Duration.ofDays(1));
        boolean parallel = !b.get("parallel").isMissing() && b.get("parallel").bool();
        ConfigNode successNode = b.get("consecutive-success");
        int success = successNode.isMissing() ? 1 : successNode.integer(1, 1000);
        ConfigNode failureNode = b.get("consecutive-failure");
        int failure = failureNode.isMissing() ? 1 : failureNode.integer(1, 1000);
        Duration connect = b.get("connect-timeout").positiveDuration(Duration.ofSeconds(1), Duration.ofMinutes(10));
        Duration read = b.get("read-timeout").positiveDuration(Duration.ofSeconds(1), Duration.ofMinutes(10));
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
            (hostNode.isMissing() ? b.own() : hostNode).probe(() -> HttpHealthCheck.builder(checkedHost));
            ConfigNode methodNode = b.get("method");
            if (!methodNode.isMissing()) {
                method = methodNode.string().trim().toUpperCase(Locale.ROOT);
                String m = method;
                methodNode.probe(() -> HttpHealthCheck.builder("h").method(m));
            }
            ConfigNode pathNode = b.get("path");
            if (!pathNode.isMissing()) {
                path = pathNode.string().trim();
                String p = path;
                pathNode.probe(() -> HttpHealthCheck.builder("h").path(p));
            }
            ConfigNode headersNode = b.get("headers");
            if (!headersNode.isMissing()) {
                for (Map.Entry<String, ConfigNode> e : headersNode.entries().entrySet()) {
                    String field = e.getKey().trim();
                    String value = e.getValue().string();
                    e.getValue().probe(() -> HttpHealthCheck.builder("h").header(field, value));
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
        b.own().probe(() -> config.create().close());
        return config;
    }

    /** {@code [200, 204]}, {@code [ "200-399" ]}, {@code "200-399"} or {@code 200}: ascending, each once. */
    private static List<Integer> statuses(ConfigNode node) {
        TreeSet<Integer> out = new TreeSet<>();
        for (ConfigNode item : node.oneOrMore("statuses such as [200, 204] or a range such as \"200-399\"")) {
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

    /** The passive health of a group, or null when it is off. */
    static OutlierDetectionConfig outlierDetection(ConfigNode groupNode, ConfigNode defaultsNode) {
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
        Duration base = b.get("base-ejection-time").positiveDuration(d.baseEjectionTime(), Duration.ofDays(1));
        Duration max = maxTimeNode.positiveDuration(d.maxEjectionTime(), Duration.ofDays(1));
        if (max.compareTo(base) < 0) {
            throw (maxTimeNode.isMissing() ? b.get("base-ejection-time") : maxTimeNode).problem(
                    "max-ejection-time " + ConfigText.duration(max) + " is below base-ejection-time "
                            + ConfigText.duration(base) + " (expected: max-ejection-time >= base-ejection-time)");
        }
        return new OutlierDetectionConfig(
                consecutive.isMissing() ? d.consecutiveFailures() : consecutive.integer(0, 1_000_000),
                rate.isMissing() ? d.failureRatePercent() : rate.integer(0, 100),
                minimum.isMissing() ? d.minimumRequests() : minimum.integer(1, 1_000_000),
                b.get("window").positiveDuration(d.window(), Duration.ofDays(1)),
                base, max,
                maxPercent.isMissing() ? d.maxEjectionPercent() : maxPercent.integer(0, 100));
    }
}
