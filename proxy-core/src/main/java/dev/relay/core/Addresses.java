package dev.relay.core;

import java.net.InetSocketAddress;

/** Parsing and printing of {@code host:port} addresses, one rule everywhere. */
public final class Addresses {
    private Addresses() {}

    /**
     * Parses {@code host:port}, {@code [v6]:port} or {@code *:port} (any address) into an unresolved
     * address, or a resolved one when the host is an IP literal (no DNS lookup either way).
     *
     * @throws IllegalArgumentException naming the text when it is not {@code host:port}
     */
    public static InetSocketAddress parseHostPort(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("address: '" + text + "' (expected: host:port)");
        }
        String value = text.trim();
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new IllegalArgumentException("address: '" + text + "' (expected: host:port)");
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
            if (host.isBlank()) {
                throw new IllegalArgumentException("address: '" + text + "' (expected: [ipv6]:port)");
            }
        } else if (host.indexOf(':') >= 0) {
            throw new IllegalArgumentException("address: '" + text + "' (expected: [ipv6]:port)");
        }
        if (host.equals("*")) {
            host = "0.0.0.0";
        }
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("address: '" + text + "' (expected: a port number after ':')");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("address: '" + text + "' (expected: a port in 0..65535)");
        }
        if (isIpLiteral(host)) {
            // InetSocketAddress resolves literals without a lookup.
            return new InetSocketAddress(host, port);
        }
        return InetSocketAddress.createUnresolved(host, port);
    }

    /** {@code host:port}, preferring the literal address, with brackets around IPv6. */
    public static String format(InetSocketAddress address) {
        String host = address.isUnresolved() || address.getAddress() == null
                ? address.getHostString()
                : address.getAddress().getHostAddress();
        if (host.indexOf(':') >= 0) {
            host = "[" + host + "]";
        }
        return host + ":" + address.getPort();
    }

    static boolean isIpLiteral(String host) {
        if (host.indexOf(':') >= 0) {
            return true;
        }
        int dots = 0;
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c == '.') {
                dots++;
            } else if (c < '0' || c > '9') {
                return false;
            }
        }
        return dots == 3;
    }
}
