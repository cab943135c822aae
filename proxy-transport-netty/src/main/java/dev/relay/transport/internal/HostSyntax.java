package dev.relay.transport.internal;

/**
 * The syntax of {@code Host} and of the authority of an absolute-form target (RFC 9110 §7.2, RFC 3986
 * §3.2.2-3): {@code uri-host [ ":" port ]}, where the host is a reg-name (which covers IPv4 addresses)
 * or an IP literal in brackets. A request whose authority fails is answered 400 (RFC 9112 §3.2), so
 * that no origin or routing rule behind the proxy reads a host the proxy did not see the same way.
 */
final class HostSyntax {
    /** Per byte: whether it may stand in a reg-name (unreserved and sub-delims; {@code %} is checked apart). */
    private static final boolean[] REG_NAME = new boolean[256];
    /** Per byte: whether it may stand inside the brackets of an IPv6 literal. */
    private static final boolean[] IPV6 = new boolean[256];
    /** Digits of the longest port, 65535. */
    private static final int MAX_PORT_DIGITS = 5;

    static {
        for (int c = '0'; c <= '9'; c++) {
            REG_NAME[c] = true;
            IPV6[c] = true;
        }
        for (int c = 'a'; c <= 'z'; c++) {
            REG_NAME[c] = true;
            REG_NAME[c - 'a' + 'A'] = true;
        }
        for (char c : "-._~!$&'()*+,;=".toCharArray()) {
            REG_NAME[c] = true;
        }
        for (char c : "abcdefABCDEF:.".toCharArray()) {
            IPV6[c] = true;
        }
    }

    private HostSyntax() {}

    /**
     * Whether {@code a[start, end)} is a valid authority for HTTP: a non-empty host, no userinfo (its
     * {@code @} is no host character: RFC 9110 §4.2.4 makes it an error), no whitespace, and a port, if
     * there is a colon, of one to five digits up to 65535 (an empty port is refused: RFC 3986 §3.2.3
     * asks senders to omit the colon then, so only a probe sends one).
     */
    static boolean isValidAuthority(byte[] a, int start, int end) {
        int i = start;
        if (i < end && a[i] == '[') {
            int close = i + 1;
            boolean colon = false;
            while (close < end && IPV6[a[close] & 0xff]) {
                colon |= a[close] == ':';
                close++;
            }
            if (close == end || a[close] != ']' || !colon) {
                return false;
            }
            i = close + 1;
        } else {
            while (i < end) {
                int c = a[i] & 0xff;
                if (c == '%') {
                    if (i + 2 >= end || Character.digit(a[i + 1], 16) < 0 || Character.digit(a[i + 2], 16) < 0) {
                        return false;
                    }
                    i += 3;
                } else if (REG_NAME[c]) {
                    i++;
                } else {
                    break;
                }
            }
            if (i == start) {
                return false;
            }
        }
        if (i == end) {
            return true;
        }
        if (a[i] != ':' || end - i - 1 < 1 || end - i - 1 > MAX_PORT_DIGITS) {
            return false;
        }
        int port = 0;
        for (i++; i < end; i++) {
            int digit = a[i] - '0';
            if (digit < 0 || digit > 9) {
                return false;
            }
            port = port * 10 + digit;
        }
        return port <= 65535;
    }
}
