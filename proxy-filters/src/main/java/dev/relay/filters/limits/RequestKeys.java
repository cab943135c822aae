package dev.relay.filters.limits;

import dev.relay.core.RequestHeader;
import dev.relay.core.Session;
import dev.relay.filters.internal.HttpSyntax;
import org.jspecify.annotations.Nullable;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.util.Locale;

import static java.util.Objects.requireNonNull;

/** The built-in {@link RateLimitKey}s; each prints as its configuration spec. */
final class RequestKeys {
    private RequestKeys() {}

    static final RateLimitKey CLIENT_IP = new Named("client-ip") {
        @Override
        public @Nullable String keyOf(Session session) {
            SocketAddress client = session.clientAddress();
            if (client instanceof InetSocketAddress inet && inet.getAddress() != null) {
                return inet.getAddress().getHostAddress();
            }
            // A Unix-socket client has no address: all of them share one limit.
            return client instanceof UnixDomainSocketAddress ? "unix" : null;
        }
    };

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
