package dev.relay.server.internal.config;

import dev.relay.core.Addresses;
import dev.relay.lb.DnsDiscovery;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Reads a group's {@code discovery} block, where its backends come from when the file does not list
 * them: DNS records ({@code type = dns}) or a file that is polled ({@code type = file}). Each type
 * has keys of its own.
 */
final class DiscoveryReader {
    private static final Set<String> DNS_KEYS = Set.of("type", "name", "port", "record", "servers", "min-ttl", "max-ttl");
    private static final Set<String> FILE_KEYS = Set.of("type", "path", "poll-interval");
    private static final Map<String, Function<ConfigNode, DiscoveryConfig>> TYPES =
            Map.of("dns", DiscoveryReader::dns, "file", DiscoveryReader::file);
    private static final Map<String, DnsDiscovery.RecordType> RECORD_TYPES = Map.of("a", DnsDiscovery.RecordType.A,
            "aaaa", DnsDiscovery.RecordType.AAAA, "a_and_aaaa", DnsDiscovery.RecordType.A_AND_AAAA,
            "srv", DnsDiscovery.RecordType.SRV);

    private DiscoveryReader() {}

    /** The discovery that {@code node} ({@code proxy.upstreams.NAME.discovery}) describes. */
    static DiscoveryConfig discovery(ConfigNode node) {
        node.object();
        ConfigNode typeNode = node.get("type");
        if (typeNode.isMissing()) {
            throw typeNode.problem("missing (expected: dns or file)");
        }
        return typeNode.choice(TYPES, "dns or file").apply(node);
    }

    private static DiscoveryConfig.Dns dns(ConfigNode node) {
        node.checkKeys(DNS_KEYS);
        ConfigNode nameNode = node.get("name");
        if (nameNode.isMissing()) {
            throw nameNode.problem("missing (expected: the DNS name to look up, such as \"api.internal\")");
        }
        String name = nameNode.string().trim();
        nameNode.probe(() -> DnsDiscovery.builder(name));
        ConfigNode recordNode = node.get("record");
        DnsDiscovery.RecordType record = recordNode.isMissing() ? DnsDiscovery.RecordType.A_AND_AAAA
                : recordNode.choice(RECORD_TYPES, "A, AAAA, A_AND_AAAA or SRV");
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
            for (ConfigNode item : serversNode.nonEmptyList("name servers such as [\"127.0.0.1:53\"], or no servers "
                    + "for those of /etc/resolv.conf")) {
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
        (serversNode.isMissing() ? node : serversNode).probe(config::create);
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

    private static DiscoveryConfig.File file(ConfigNode node) {
        node.checkKeys(FILE_KEYS);
        ConfigNode pathNode = node.get("path");
        if (pathNode.isMissing()) {
            throw pathNode.problem("missing (expected: the file listing the backends, one host:port a line)");
        }
        String text = pathNode.string().trim();
        Path path;
        try {
            path = Path.of(text);
        } catch (InvalidPathException e) {
            throw pathNode.problem("bad path '" + text + "' (expected: a file path)");
        }
        if (text.isEmpty()) {
            throw pathNode.problem("empty (expected: a file path)");
        }
        if (!path.isAbsolute()) {
            // Relative to the configuration file, as an include would be.
            path = pathNode.relativeToFile(path);
        }
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
            throw pathNode.problem("cannot read '" + path + "': " + (Files.exists(path) ? "not a readable file" : "no such file")
                    + " (expected: a file listing the backends, one host:port a line)");
        }
        Duration poll = node.get("poll-interval").positiveDuration(Duration.ofSeconds(5), Duration.ofDays(1));
        return new DiscoveryConfig.File(path, poll);
    }
}
