package dev.relay.server.internal.config;

import dev.relay.core.Addresses;
import dev.relay.core.CidrBlock;
import dev.relay.server.internal.config.ProxyConfig.AdminConfig;
import dev.relay.server.internal.config.ProxyConfig.ListenerConfig;

import dev.relay.transport.TlsSettings;
import dev.relay.transport.ListenerOptions;

import java.net.InetSocketAddress;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * Reads where the proxy listens: {@code proxy.listeners} and the admin listener {@code proxy.admin}.
 * A live reload binds new proxy listeners and closes removed ones, but a listener that stays bound
 * keeps the client timeouts it was bound with (the transport sets them per socket), and the admin
 * listener is bound once: those are recorded as restart-only.
 */
final class ListenersReader {
    private static final Set<String> LISTENER_KEYS = Set.of("address", "header-read-timeout", "keepalive-timeout",
            "body-read-timeout", "max-connections", "max-connections-per-client", "proxy-protocol", "proxy-protocol-trusted", "allow", "deny", "tls", "connect", "mode",
            "http2");
    private static final Set<String> CONNECT_KEYS = Set.of("allow");
    private static final Set<String> ADMIN_KEYS = Set.of("address");

    private final RestartOnlySettings.Recorder restartOnly;

    /** A reader that records the restart-only settings it reads in {@code restartOnly}. */
    ListenersReader(RestartOnlySettings.Recorder restartOnly) {
        this.restartOnly = requireNonNull(restartOnly, "restartOnly");
    }

    /**
     * {@code proxy.listeners}: each an address, {@code "host:port"} or {@code "unix:/path"} (relative to
     * the configuration file's directory), or a block with the address and the listener's own
     * settings; at least one, each address once.
     */
    List<ListenerConfig> listeners(ConfigNode node) {
        if (node.isMissing()) {
            throw node.problem("missing (expected: a list of listeners, listeners = [ { address = \"127.0.0.1:6188\" } ])");
        }
        List<ConfigNode> items = node.nonEmptyList("at least one listener");
        List<ListenerConfig> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < items.size(); i++) {
            ConfigNode item = items.get(i);
            ConfigNode address = item;
            Duration headerRead = null;
            Duration keepAlive = null;
            Duration bodyRead = null;
            ConnectionSettings connection = ConnectionSettings.NONE;
            TlsSettings tls = null;
            List<String> connectAllow = List.of();
            ConfigNode mode = null;
            Boolean http2 = null;
            int maxConnections = 0;
            int maxConnectionsPerClient = 0;
            if (item.isObject()) {
                item.checkKeys(LISTENER_KEYS);
                address = item.get("address");
                headerRead = item.get("header-read-timeout").clientTimeout(null);
                keepAlive = item.get("keepalive-timeout").clientTimeout(null);
                bodyRead = item.get("body-read-timeout").clientTimeout(null);
                maxConnections = item.get("max-connections").limitOrNone(10_000_000);
                maxConnectionsPerClient = item.get("max-connections-per-client").limitOrNone(10_000_000);
                connection = connectionSettings(item);
                tls = TlsReader.tls(item.get("tls"));
                connectAllow = connectAllow(item.get("connect"));
                mode = item.get("mode");
                ConfigNode http2Node = item.get("http2");
                http2 = http2Node.isMissing() ? null : http2Node.bool();
            }
            String text = address.string();
            boolean unix = Addresses.isUnix(text);
            String listenAddress = unix ? address.unixAddress(text) : text.trim();
            if (!seen.add(unix ? listenAddress : Addresses.format(address.hostPort(text, 0)))) {
                throw address.problem("'" + text + "' is listed twice (expected: each address once)");
            }
            if (unix && !connection.trusted().isEmpty()) {
                throw item.get("proxy-protocol-trusted").problem("is set on a unix listener, whose peers have no IP "
                        + "address (expected: no proxy-protocol-trusted; the socket's mode says who may connect)");
            }
            ListenerConfig listener = new ListenerConfig(listenAddress, address.where(), headerRead, keepAlive, bodyRead,
                    connection, tls, connectAllow, socketMode(mode, unix), http2, maxConnections, maxConnectionsPerClient);
            // Keyed by address, not position: the same address in the next file is the same socket.
            // Its TLS is not restart-only: a reload gives a listener that stays bound its new TLS.
            restartOnly.record("listener " + listener.address(),
                    node.path() + "[" + i + "] settings of " + listener.address(),
                    listener.listenerOptions().toBuilder().tls(null).build());
            out.add(listener);
        }
        return out;
    }

    /**
     * A listener's {@code proxy-protocol} (a boolean), {@code proxy-protocol-trusted}, {@code allow}
     * and {@code deny} (lists of CIDR blocks; the trusted list only with the protocol on).
     */
    private static ConnectionSettings connectionSettings(ConfigNode item) {
        ConfigNode protocolNode = item.get("proxy-protocol");
        boolean proxyProtocol = !protocolNode.isMissing() && protocolNode.bool();
        ConfigNode trustedNode = item.get("proxy-protocol-trusted");
        List<CidrBlock> trusted = cidrs(trustedNode);
        if (!proxyProtocol && !trustedNode.isMissing()) {
            throw trustedNode.problem("is set but proxy-protocol is not true (expected: proxy-protocol = true, "
                    + "or no proxy-protocol-trusted)");
        }
        return new ConnectionSettings(proxyProtocol, trusted, cidrs(item.get("allow")), cidrs(item.get("deny")));
    }

    /**
     * A unix listener's {@code mode}: octal permission bits as a string ({@code "0660"}, {@code "660"}),
     * read, write and execute bits only; null when missing.
     */
    private static Set<PosixFilePermission> socketMode(ConfigNode node, boolean unix) {
        if (node == null || node.isMissing()) {
            return null;
        }
        if (!unix) {
            throw node.problem("is set on a TCP listener (expected: mode only with address = \"unix:/path\")");
        }
        String text = node.string().trim();
        if (!text.matches("0?[0-7]{3}")) {
            throw node.problem("bad mode '" + text + "' (expected: octal permission bits as a string, as \"0660\")");
        }
        int bits = Integer.parseInt(text, 8);
        Set<PosixFilePermission> mode = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = PosixFilePermission.values(); // OWNER_READ (0400) ... OTHERS_EXECUTE (0001)
        for (int i = 0; i < order.length; i++) {
            if ((bits & (0400 >> i)) != 0) {
                mode.add(order[i]);
            }
        }
        return mode;
    }

    /** A list of CIDR blocks ({@code [ "10.0.0.0/8", "2001:db8::/32" ]}); empty when missing. */
    private static List<CidrBlock> cidrs(ConfigNode node) {
        if (node.isMissing()) {
            return List.of();
        }
        List<CidrBlock> out = new ArrayList<>();
        for (ConfigNode item : node.list()) {
            String text = item.string();
            try {
                out.add(CidrBlock.parse(text));
            } catch (IllegalArgumentException e) {
                throw item.problem(e.getMessage());
            }
        }
        return out;
    }

    /**
     * A listener's {@code connect { allow = [ "host:port", ... ] }}: where CONNECT may tunnel to
     * (forward proxying); missing: CONNECT is refused.
     */
    private static List<String> connectAllow(ConfigNode connect) {
        if (connect.isMissing()) {
            return List.of();
        }
        connect.checkKeys(CONNECT_KEYS);
        ConfigNode allow = connect.get("allow");
        if (allow.isMissing()) {
            throw connect.problem("has no allow list (expected: connect { allow = [ \"*.example.com:443\" ] })");
        }
        List<String> patterns = new ArrayList<>();
        for (ConfigNode pattern : allow.oneOrMore("a host:port pattern, or a list of them")) {
            String text = pattern.string();
            try {
                ListenerOptions.builder().connectAllow(List.of(text)).build();
            } catch (IllegalArgumentException e) {
                throw pattern.problem("bad pattern '" + text.trim() + "' (expected: host:port, where host is a name, "
                        + "an address, *.domain or *, and port a number or *)");
            }
            patterns.add(text.trim());
        }
        return patterns;
    }

    /** {@code proxy.admin}: null when it has no address; never one of the proxy's {@code listeners}. */
    AdminConfig admin(ConfigNode node, List<ListenerConfig> listeners) {
        AdminConfig admin = readAdmin(node, listeners);
        // The admin server is bound once, at start.
        restartOnly.record(node.path() + ".address", admin == null ? null : admin.address());
        return admin;
    }

    private static AdminConfig readAdmin(ConfigNode node, List<ListenerConfig> listeners) {
        if (node.isMissing()) {
            return null;
        }
        node.checkKeys(ADMIN_KEYS);
        ConfigNode address = node.get("address");
        if (address.isMissing()) {
            return null;
        }
        String text = address.string().trim();
        InetSocketAddress parsed = address.hostPort(text, 0);
        for (ListenerConfig l : listeners) {
            if (Addresses.isUnix(l.address())) {
                continue;
            }
            InetSocketAddress other = Addresses.parseHostPort(l.address());
            if (parsed.getPort() != 0 && Addresses.format(other).equals(Addresses.format(parsed))) {
                throw address.problem("'" + text + "' is also a proxy listener (expected: an address of its own)");
            }
        }
        return new AdminConfig(text, address.where());
    }
}
