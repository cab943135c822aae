package dev.relay.transport.internal;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The destinations a listener lets {@code CONNECT} tunnel to: {@code host:port} patterns where the
 * host is a name, an IP address ({@code [v6]} in brackets), {@code *.domain} (any name below the
 * domain, not the domain itself) or {@code *}, and the port a number or {@code *}. Names compare
 * case-insensitively and as written: {@code 127.0.0.1:*} does not allow {@code localhost:80}. Empty:
 * {@code CONNECT} is refused. Immutable.
 */
public final class ConnectAllowList {
    private static final ConnectAllowList NONE = new ConnectAllowList(List.of());

    private record Pattern(String host, int port) {
        boolean matches(String target, int targetPort) {
            if (port != 0 && port != targetPort) {
                return false;
            }
            if (host.equals("*")) {
                return true;
            }
            if (host.startsWith("*.")) {
                return target.endsWith(host.substring(1));
            }
            return host.equals(target);
        }
    }

    private final List<Pattern> patterns;

    private ConnectAllowList(List<Pattern> patterns) {
        this.patterns = List.copyOf(patterns);
    }

    /** The list that allows nothing. */
    public static ConnectAllowList none() {
        return NONE;
    }

    /**
     * Parses {@code patterns}.
     *
     * @throws IllegalArgumentException naming the first pattern that is not {@code host:port}
     */
    public static ConnectAllowList parse(List<String> patterns) {
        List<Pattern> out = new ArrayList<>(patterns.size());
        for (String text : patterns) {
            out.add(pattern(text));
        }
        return out.isEmpty() ? NONE : new ConnectAllowList(out);
    }

    private static Pattern pattern(String text) {
        String trimmed = text.trim().toLowerCase(Locale.ROOT);
        int colon = trimmed.lastIndexOf(':');
        String host = colon > 0 ? trimmed.substring(0, colon) : "";
        String portText = colon > 0 ? trimmed.substring(colon + 1) : "";
        if (host.startsWith("[") && host.endsWith("]") && host.length() > 2) {
            host = host.substring(1, host.length() - 1);
        } else if (host.indexOf(':') >= 0) {
            host = "";
        }
        int port = portText.equals("*") ? 0 : parsePort(portText);
        boolean hostOk = host.equals("*") || !host.isEmpty() && !host.substring(host.startsWith("*.") ? 2 : 0).isEmpty()
                && host.substring(host.startsWith("*.") ? 2 : 0).chars()
                    .allMatch(c -> Character.isLetterOrDigit(c) || c == '-' || c == '.' || c == '_' || c == ':');
        if (!hostOk || port < 0) {
            throw new IllegalArgumentException("connect allow pattern: '" + text
                    + "' (expected: host:port, where host is a name, an address, *.domain or *, and port a number or *)");
        }
        return new Pattern(host, port);
    }

    private static int parsePort(String text) {
        try {
            int port = Integer.parseInt(text);
            return port >= 1 && port <= 65535 ? port : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Whether no destination is allowed ({@code CONNECT} is refused with 405). */
    public boolean isEmpty() {
        return patterns.isEmpty();
    }

    /** Whether {@code target} (as the client named it) matches a pattern. */
    public boolean allows(InetSocketAddress target) {
        String host = target.getHostString().toLowerCase(Locale.ROOT);
        for (Pattern p : patterns) {
            if (p.matches(host, target.getPort())) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConnectAllowList other && patterns.equals(other.patterns);
    }

    @Override
    public int hashCode() {
        return patterns.hashCode();
    }

    @Override
    public String toString() {
        return patterns.toString();
    }
}
