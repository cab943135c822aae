package dev.relay.filters.limits;

import dev.relay.core.RequestHeader;
import dev.relay.core.Session;
import dev.relay.filters.internal.HttpSyntax;
import org.jspecify.annotations.Nullable;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import static java.util.Objects.requireNonNull;

/** The built-in {@link RateLimitKey}s; each prints as its configuration spec. */
final class RequestKeys {
    private RequestKeys() {}

    /** IPv4 addresses whole; IPv6 ones by their /64, the block one client (a home, a VM) is given. */
    static final RateLimitKey CLIENT_IP = new ClientIp(32, 64);

    /**
     * The client's address, cut to its network prefix: a client that holds a whole IPv6 /64 (which is what a
     * single site gets) could otherwise rotate through 2^64 keys. An IPv4-mapped IPv6 address
     * ({@code ::ffff:192.0.2.1}, a dual-stack socket's view of an IPv4 client) is the IPv4 address. A cut
     * address is written as its network ({@code 2001:db8:1:2::/64}, {@code 192.0.2.0/24}); a whole one as the
     * address alone.
     */
    static final class ClientIp extends Named {
        private final int ipv4Prefix;
        private final int ipv6Prefix;

        ClientIp(int ipv4Prefix, int ipv6Prefix) {
            super(ipv4Prefix == 32 && ipv6Prefix == 64 ? "client-ip"
                    : "client-ip(ipv4 /" + ipv4Prefix + ", ipv6 /" + ipv6Prefix + ")");
            this.ipv4Prefix = prefix(ipv4Prefix, 32, "ipv4-prefix");
            this.ipv6Prefix = prefix(ipv6Prefix, 128, "ipv6-prefix");
        }

        private static int prefix(int bits, int max, String name) {
            if (bits < 1 || bits > max) {
                throw new IllegalArgumentException(name + ": " + bits + " (expected: 1 to " + max + ")");
            }
            return bits;
        }

        @Override
        public @Nullable String keyOf(Session session) {
            SocketAddress client = session.clientAddress();
            if (client instanceof InetSocketAddress inet && inet.getAddress() != null) {
                return keyOf(inet.getAddress());
            }
            // A Unix-socket client has no address: all of them share one limit.
            return client instanceof UnixDomainSocketAddress ? "unix" : null;
        }

        String keyOf(InetAddress address) {
            byte[] bytes = address.getAddress();
            if (bytes.length == 16 && isIpv4Mapped(bytes)) {
                bytes = Arrays.copyOfRange(bytes, 12, 16);
            } else if (bytes.length == 16) {
                return ipv6Prefix == 128 ? address.getHostAddress() : ipv6Network(bytes, ipv6Prefix);
            }
            return ipv4(bytes, ipv4Prefix);
        }

        private static boolean isIpv4Mapped(byte[] bytes) {
            for (int i = 0; i < 10; i++) {
                if (bytes[i] != 0) {
                    return false;
                }
            }
            return bytes[10] == (byte) 0xff && bytes[11] == (byte) 0xff;
        }

        private static String ipv4(byte[] bytes, int prefix) {
            int address = (bytes[0] & 0xff) << 24 | (bytes[1] & 0xff) << 16 | (bytes[2] & 0xff) << 8 | (bytes[3] & 0xff);
            int network = prefix == 32 ? address : address & (-1 << (32 - prefix));
            String text = (network >>> 24) + "." + (network >>> 16 & 0xff) + "." + (network >>> 8 & 0xff) + "." + (network & 0xff);
            return prefix == 32 ? text : text + "/" + prefix;
        }

        /** The groups the prefix reaches, masked, then {@code ::} for the zeros after them and the length. */
        private static String ipv6Network(byte[] bytes, int prefix) {
            StringBuilder text = new StringBuilder(48);
            int groups = (prefix + 15) / 16;
            for (int group = 0; group < groups; group++) {
                int value = (bytes[2 * group] & 0xff) << 8 | (bytes[2 * group + 1] & 0xff);
                int bitsInGroup = Math.min(16, prefix - 16 * group);
                value &= 0xffff << (16 - bitsInGroup) & 0xffff;
                text.append(group == 0 ? "" : ":").append(Integer.toHexString(value));
            }
            return text.append(groups < 8 ? "::/" : "/").append(prefix).toString();
        }
    }

    static final RateLimitKey HOST = new Named("host") {
        @Override
        public @Nullable String keyOf(Session session) {
            return hostOf(session.requestHeader());
        }
    };

    /** Every request has the same key; the filter instance's own counters make it per route. */
    static final RateLimitKey ROUTE = new Named("route") {
        @Override
        public String keyOf(Session session) {
            return "route";
        }
    };

    /** The first value of a header. */
    static final class Header extends Named {
        private final String name;

        Header(String name) {
            super("header:" + name);
            this.name = name;
        }

        @Override
        public @Nullable String keyOf(Session session) {
            String value = session.requestHeader().headers().get(name);
            return value == null || value.isEmpty() ? null : value;
        }
    }

    /** The value of a cookie, from any {@code Cookie} field. */
    static final class Cookie extends Named {
        private final String name;

        Cookie(String name) {
            super("cookie:" + name);
            this.name = name;
        }

        @Override
        public @Nullable String keyOf(Session session) {
            return HttpSyntax.cookieValue(session.requestHeader().headers().getAll("Cookie"), name);
        }
    }

    /** The host of {@code request} as {@link RateLimitKey#host()} defines it, or null. */
    static @Nullable String hostOf(RequestHeader request) {
        String host = request.headers().get("Host");
        if (host == null || host.isBlank()) {
            host = authority(request.uri());
            if (host == null) {
                return null;
            }
        }
        host = host.strip();
        int end = host.length();
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            end = close < 0 ? end : close + 1;
        } else if (host.lastIndexOf(':') >= 0) {
            end = host.lastIndexOf(':');
        }
        if (end > 0 && host.charAt(end - 1) == '.') {
            end--;
        }
        return end == 0 ? null : host.substring(0, end).toLowerCase(Locale.ROOT);
    }

    private static @Nullable String authority(String target) {
        int scheme = target.indexOf("://");
        if (scheme <= 0 || target.charAt(0) == '/') {
            return null;
        }
        int start = scheme + 3;
        int end = start;
        while (end < target.length() && "/?#".indexOf(target.charAt(end)) < 0) {
            end++;
        }
        int at = target.lastIndexOf('@', end - 1);
        if (at >= start) {
            start = at + 1;
        }
        return end > start ? target.substring(start, end) : null;
    }

    /** Checks that {@code name} is an RFC 9110 token, for a header or cookie name. */
    static String token(String name, String what) {
        requireNonNull(name, what);
        if (name.isEmpty()) {
            throw new IllegalArgumentException("'" + what + ":' (expected: a " + what + " name after the colon)");
        }
        if (!HttpSyntax.isToken(name)) {
            throw new IllegalArgumentException("'" + what + ":" + name + "' (expected: a " + what
                    + " name of letters, digits and !#$%&'*+-.^_`|~)");
        }
        return name;
    }

    /** A key that prints as its spec. */
    private abstract static class Named implements RateLimitKey {
        private final String spec;

        Named(String spec) {
            this.spec = spec;
        }

        @Override
        public boolean equals(@Nullable Object o) {
            return o instanceof Named other && other.getClass() == getClass() && spec.equals(other.spec);
        }

        @Override
        public int hashCode() {
            return spec.hashCode();
        }

        @Override
        public String toString() {
            return spec;
        }
    }
}
