package dev.relay.server.internal.config;

import dev.relay.core.Addresses;
import dev.relay.lb.HashKey;
import dev.relay.server.internal.config.ProxyConfig.ListenerConfig;
import dev.relay.server.internal.config.ProxyConfig.UpstreamConfig;
import dev.relay.transport.StreamOptions;
import dev.relay.transport.TlsSettings;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads {@code proxy.streams}: the layer-4 (TCP) services, each a listener relaying to an upstream
 * group of {@code proxy.upstreams}. The groups' backends, selection, health and TLS (origination,
 * CA file, client certificate) apply as for HTTP; a hashing selection can only hash the client's
 * address. A {@code tls} block terminates TLS exactly as on an HTTP listener ({@link TlsReader}).
 * The stream listeners are bound at start: a reload that changes them, their {@code tls} block
 * included, is noted as needing a restart or an upgrade (their groups' backends and health do
 * follow a reload, and changed certificate files are picked up while running).
 */
final class StreamsReader {
    private static final Set<String> STREAM_KEYS = Set.of("name", "address", "upstream", "idle-timeout",
            "connect-timeout", "max-attempts", "tls");

    private StreamsReader() {}

    /**
     * The streams of {@code node} ({@code proxy.streams}; missing: none), whose upstreams must be among
     * {@code groups} (by name; {@code demoGroup} too when not null) and whose addresses must not be
     * taken by a proxy listener. Records the list as restart-only.
     */
    static List<StreamConfig> read(ConfigNode node, Map<String, UpstreamConfig> groups, String demoGroup,
                                   List<ListenerConfig> listeners, int defaultMaxAttempts,
                                   RestartOnlySettings.Recorder restartOnly) {
        List<StreamConfig> out = new ArrayList<>();
        if (!node.isMissing()) {
            Set<String> addresses = new HashSet<>();
            for (ListenerConfig l : listeners) {
                if (!Addresses.isUnix(l.address())) {
                    addresses.add(Addresses.format(Addresses.parseHostPort(l.address())));
                }
            }
            Set<String> names = new HashSet<>();
            List<ConfigNode> items = node.list();
            for (int i = 0; i < items.size(); i++) {
                StreamConfig stream = stream(i, items.get(i), groups, demoGroup, defaultMaxAttempts);
                String bound = Addresses.format(Addresses.parseHostPort(stream.address()));
                if (Addresses.parseHostPort(stream.address()).getPort() != 0 && !addresses.add(bound)) {
                    throw items.get(i).get("address").problem("'" + stream.address()
                            + "' is already a listener (expected: an address of its own)");
                }
                if (!names.add(stream.name())) {
                    throw items.get(i).get("name").problem("'" + stream.name() + "' names two streams (expected: unique names)");
                }
                out.add(stream);
            }
        }
        // Stream listeners are bound once, at start, with their TLS (as written: the files it names
        // are still watched and reloaded when they change).
        List<Object> recorded = new ArrayList<>();
        for (int i = 0; i < out.size(); i++) {
            StreamConfig s = out.get(i);
            ConfigNode tls = node.list().get(i).get("tls");
            recorded.add(Arrays.asList(s.name(), s.address(), s.upstream(), s.streamOptions(),
                    tls.isMissing() ? null : tls.value().unwrapped()));
        }
        restartOnly.record(node.path(), recorded);
        return List.copyOf(out);
    }

    private static StreamConfig stream(int index, ConfigNode node, Map<String, UpstreamConfig> groups, String demoGroup,
                                       int defaultMaxAttempts) {
        node.object();
        node.checkKeys(STREAM_KEYS);
        ConfigNode addressNode = node.get("address");
        if (addressNode.isMissing()) {
            throw addressNode.problem("missing (expected: \"host:port\" to listen on)");
        }
        String address = addressNode.string().trim();
        addressNode.hostPort(address, 0);
        ConfigNode upstreamNode = node.get("upstream");
        if (upstreamNode.isMissing()) {
            throw upstreamNode.problem("missing (expected: the name of an upstream group)");
        }
        String upstream = upstreamNode.string().trim();
        UpstreamConfig group = groups.get(upstream);
        if (group == null && !upstream.equals(demoGroup)) {
            throw upstreamNode.problem("unknown upstream group '" + upstream + "' (expected: one of "
                    + (demoGroup != null ? Set.of(demoGroup) : groups.keySet()) + ")");
        }
        if (group != null && group.hashKey() != null && !group.hashKey().equals(HashKey.clientIp())) {
            throw upstreamNode.problem("group '" + upstream + "' hashes " + group.hashKey()
                    + ", which a stream does not have (expected: a group with hash-key = \"client-ip\" or without hashing)");
        }
        ConfigNode nameNode = node.get("name");
        String name = nameNode.isMissing() ? "stream-" + index : nameNode.string().trim();
        if (name.isEmpty() || !name.chars().allMatch(c -> c > ' ' && c < 0x7f)) {
            throw nameNode.problem("'" + name + "' (expected: visible ASCII, no spaces)");
        }
        ConfigNode idleNode = node.get("idle-timeout");
        Duration idle = idleNode.isMissing() ? StreamOptions.DEFAULT_IDLE_TIMEOUT : idleNode.duration();
        if (idle.isNegative()) {
            throw idleNode.problem("'" + idleNode.string() + "' (expected: a duration >= 0, 0 for none)");
        }
        Duration connect = node.get("connect-timeout").positiveDuration(StreamOptions.DEFAULT_CONNECT_TIMEOUT,
                Duration.ofHours(1));
        ConfigNode attemptsNode = node.get("max-attempts");
        int attempts = attemptsNode.isMissing() ? defaultMaxAttempts : attemptsNode.integer(1, 100);
        // The same block, files read and checked the same way, as an HTTP listener's.
        TlsSettings tls = TlsReader.tls(node.get("tls"));
        return new StreamConfig(name, address, upstream, idle, connect, attempts, tls, addressNode.where());
    }
}
