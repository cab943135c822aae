package dev.relay.core;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;

/**
 * Parsing and printing of addresses, one rule everywhere: {@code host:port} for TCP and
 * {@code unix:/path/to.sock} for a Unix-domain socket.
 */
public final class Addresses {
    /** The prefix that marks a Unix-domain socket path: {@code unix:/run/app.sock}. */
    public static final String UNIX_PREFIX = "unix:";

    private Addresses() {}

    /** Whether {@code text} names a Unix-domain socket ({@code unix:/path}) rather than {@code host:port}. */
    public static boolean isUnix(String text) {
        return text != null && text.trim().startsWith(UNIX_PREFIX);
    }

    /**
     * Parses {@code unix:/path/to.sock} (a relative path is kept relative: resolved against the
     * working directory when used).
     *
     * @throws IllegalArgumentException naming the text when it is not {@code unix:} and a path
     */
    public static UnixDomainSocketAddress parseUnix(String text) {
        if (!isUnix(text)) {
            throw new IllegalArgumentException("address: '" + text + "' (expected: unix:/path/to.sock)");
        }
        String path = text.trim().substring(UNIX_PREFIX.length());
        if (path.isBlank() || path.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("address: '" + text + "' (expected: a socket path after 'unix:')");
        }
        try {
            return UnixDomainSocketAddress.of(path);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("address: '" + text + "' (expected: a valid socket path: "
                    + e.getMessage() + ")");
        }
    }

    /**
     * Parses {@code unix:/path} into a {@link UnixDomainSocketAddress}, anything else as
     * {@link #parseHostPort(String)} does.
     *
     * @throws IllegalArgumentException naming the text when it is neither
     */
    public static SocketAddress parse(String text) {
        return isUnix(text) ? parseUnix(text) : parseHostPort(text);
    }

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

    /**
     * {@code unix:/path} for a Unix-domain socket address, {@link #format(InetSocketAddress)} for an IP
     * one, the address's own text for anything else.
     */
    public static String format(SocketAddress address) {
        if (address instanceof InetSocketAddress inet) {
            return format(inet);
        }
        if (address instanceof UnixDomainSocketAddress unix) {
            return UNIX_PREFIX + unix.getPath();
        }
        return String.valueOf(address);
    }

    /**
     * The address as text: IPv4 dotted; IPv6 in RFC 5952's canonical form ({@code 2001:db8::1}, not
     * Java's {@code 2001:db8:0:0:0:0:0:1}): lower-case hex, the first longest run of two or more zero
     * groups as {@code ::}, without a zone (it names an interface of this machine). What nginx writes
     * for {@code $remote_addr} and origins expect in forwarding headers.
     */
    public static String ipText(InetAddress address) {
        if (!(address instanceof Inet6Address)) {
            return address.getHostAddress();
        }
        byte[] b = address.getAddress();
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = (b[2 * i] & 0xff) << 8 | (b[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; ) {
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        StringBuilder out = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLength - 1;
                continue;
            }
            if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(groups[i]));
        }
        return out.toString();
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
