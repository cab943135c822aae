package dev.relay.transport;

import dev.relay.core.CidrBlock;
import dev.relay.core.ConnectionFilter;
import org.jspecify.annotations.Nullable;

import dev.relay.transport.internal.ConnectAllowList;

import java.time.Duration;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.Objects;

/**
 * The settings of one listener that may differ from the service's {@link ProxyOptions}, for example
 * a public port with short client timeouts next to an internal one. A setting left unset (null)
 * means "as in the service's options"; {@link #inherit()} leaves every setting so.
 *
 * <pre>{@code
 * ListenerOptions publicPort = ListenerOptions.builder()
 *         .headerReadTimeout(Duration.ofSeconds(10))
 *         .keepAliveTimeout(Duration.ofSeconds(15))
 *         .build();
 * server.bind("0.0.0.0:443", publicPort);
 * }</pre>
 *
 * <p>A listener has its own client timeouts, PROXY protocol, connection filter, TLS ({@link #tls()}) and
 * whether it speaks HTTP/2 ({@link #http2()}), which is why this is a class with a builder rather than
 * a record: new settings are new builder methods, and code written against this version keeps compiling. Immutable and thread-safe.
 */
public final class ListenerOptions {
    private static final ListenerOptions INHERIT = new Builder().build();

    private final @Nullable Duration headerReadTimeout;
    private final @Nullable Duration keepAliveTimeout;
    private final @Nullable Duration bodyReadTimeout;
    private final boolean proxyProtocol;
    private final List<CidrBlock> proxyProtocolTrusted;
    private final @Nullable ConnectionFilter connectionFilter;
    private final @Nullable TlsSettings tls;
    private final List<String> connectAllow;
    private final ConnectAllowList connectAllowList;
    private final @Nullable Set<PosixFilePermission> unixSocketMode;
    private final @Nullable Boolean http2;
    private final int maxConnections;
    private final int maxConnectionsPerClient;

    private ListenerOptions(Builder b, ConnectAllowList connectAllowList) {
        this.maxConnections = b.maxConnections;
        this.maxConnectionsPerClient = b.maxConnectionsPerClient;
        this.http2 = b.http2;
        this.unixSocketMode = b.unixSocketMode;
        this.proxyProtocol = b.proxyProtocol;
        this.proxyProtocolTrusted = b.proxyProtocolTrusted;
        this.connectionFilter = b.connectionFilter;
        this.connectAllow = b.connectAllow;
        this.connectAllowList = connectAllowList;
        this.headerReadTimeout = b.headerReadTimeout;
        this.keepAliveTimeout = b.keepAliveTimeout;
        this.bodyReadTimeout = b.bodyReadTimeout;
        this.tls = b.tls;
    }

    /** Options that take every setting from the service's {@link ProxyOptions}. Shared. */
    public static ListenerOptions inherit() {
        return INHERIT;
    }

    /** A builder with every setting unset (inherited from the service). */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these options, to derive others. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.headerReadTimeout = headerReadTimeout;
        b.keepAliveTimeout = keepAliveTimeout;
        b.bodyReadTimeout = bodyReadTimeout;
        b.proxyProtocol = proxyProtocol;
        b.proxyProtocolTrusted = proxyProtocolTrusted;
        b.connectionFilter = connectionFilter;
        b.tls = tls;
        b.connectAllow = connectAllow;
        b.unixSocketMode = unixSocketMode;
        b.http2 = http2;
        b.maxConnections = maxConnections;
        b.maxConnectionsPerClient = maxConnectionsPerClient;
        return b;
    }

    /**
     * Open connections this listener allows at once; one more is closed as it is accepted, unread,
     * and counted in {@code HttpProxyServer.connectionsOverListenerLimit()}. 0 (the default): no limit.
     */
    public int maxConnections() {
        return maxConnections;
    }

    /**
     * Open connections this listener allows from one client IP address (the socket's peer; behind a
     * PROXY protocol load balancer that is the balancer) at once; one more is closed as it is
     * accepted. 0 (the default): no limit.
     */
    public int maxConnectionsPerClient() {
        return maxConnectionsPerClient;
    }

    /**
     * Whether every connection must start with a PROXY protocol header (v1 or v2, HAProxy's), whose
     * source address then is the client address everywhere (the session, logs, hash keys). A
     * connection without a valid header within the header-read timeout is closed. Default false.
     */
    public boolean proxyProtocol() {
        return proxyProtocol;
    }

    /**
     * With {@link #proxyProtocol()}: the peers allowed to send a PROXY header (the load balancers);
     * a connection from any other address is closed before anything is read. Empty: any peer.
     */
    public List<CidrBlock> proxyProtocolTrusted() {
        return proxyProtocolTrusted;
    }

    /**
     * Decides whether each accepted connection is served, before TLS and HTTP; null for all. With
     * {@link #proxyProtocol()} it judges the address the PROXY header gave.
     */
    public @Nullable ConnectionFilter connectionFilter() {
        return connectionFilter;
    }

    /**
     * The permissions given to the socket file of a {@code unix:} listener before clients can see it
     * (for example {@code rw-rw----}, {@code 0660}: only the owner and its group may connect); null
     * leaves what the process umask gives. Ignored on a TCP listener.
     */
    public @Nullable Set<PosixFilePermission> unixSocketMode() {
        return unixSocketMode;
    }

    /**
     * Time allowed for a whole request header once its first byte arrived (then 408 and close);
     * null when the listener takes {@link ProxyOptions#headerReadTimeout()}.
     */
    public @Nullable Duration headerReadTimeout() {
        return headerReadTimeout;
    }

    /**
     * How long an idle keep-alive client connection is kept; null when the listener takes
     * {@link ProxyOptions#keepAliveTimeout()}.
     */
    public @Nullable Duration keepAliveTimeout() {
        return keepAliveTimeout;
    }

    /**
     * Longest wait for each read of a request body (then 408); null when the listener takes
     * {@link ProxyOptions#bodyReadTimeout()}.
     */
    public @Nullable Duration bodyReadTimeout() {
        return bodyReadTimeout;
    }

    /** The listener's TLS termination; null for plain HTTP. Never inherited: TLS is per listener. */
    public @Nullable TlsSettings tls() {
        return tls;
    }

    /**
     * The destinations {@code CONNECT} may tunnel to, as {@code host:port} patterns (see
     * {@link Builder#connectAllow}); empty (the default): {@code CONNECT} is refused with 405.
     */
    public List<String> connectAllow() {
        return connectAllow;
    }

    /**
     * Whether this listener speaks HTTP/2 (ALPN {@code h2} with TLS, prior-knowledge {@code h2c}
     * without); null when it takes {@link Http2Settings#enabled()} of the service.
     */
    public @Nullable Boolean http2() {
        return http2;
    }

    boolean http2EnabledOr(ProxyOptions service) {
        return http2 != null ? http2 : service.http2().enabled();
    }

    ConnectAllowList connectAllowList() {
        return connectAllowList;
    }

    Duration headerReadTimeoutOr(ProxyOptions service) {
        return headerReadTimeout != null ? headerReadTimeout : service.headerReadTimeout();
    }

    Duration keepAliveTimeoutOr(ProxyOptions service) {
        return keepAliveTimeout != null ? keepAliveTimeout : service.keepAliveTimeout();
    }

    Duration bodyReadTimeoutOr(ProxyOptions service) {
        return bodyReadTimeout != null ? bodyReadTimeout : service.bodyReadTimeout();
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof ListenerOptions other
                && Objects.equals(headerReadTimeout, other.headerReadTimeout)
                && Objects.equals(keepAliveTimeout, other.keepAliveTimeout)
                && Objects.equals(bodyReadTimeout, other.bodyReadTimeout)
                && proxyProtocol == other.proxyProtocol
                && proxyProtocolTrusted.equals(other.proxyProtocolTrusted)
                && Objects.equals(connectionFilter, other.connectionFilter)
                && Objects.equals(tls, other.tls)
                && connectAllow.equals(other.connectAllow)
                && Objects.equals(unixSocketMode, other.unixSocketMode)
                && Objects.equals(http2, other.http2)
                && maxConnections == other.maxConnections
                && maxConnectionsPerClient == other.maxConnectionsPerClient;
    }

    @Override
    public int hashCode() {
        return Objects.hash(headerReadTimeout, keepAliveTimeout, bodyReadTimeout, proxyProtocol, proxyProtocolTrusted,
                connectionFilter, tls, connectAllow, unixSocketMode, http2, maxConnections, maxConnectionsPerClient);
    }

    @Override
    public String toString() {
        return "ListenerOptions{headerReadTimeout=" + orInherit(headerReadTimeout)
                + ", keepAliveTimeout=" + orInherit(keepAliveTimeout)
                + ", bodyReadTimeout=" + orInherit(bodyReadTimeout)
                + (proxyProtocol ? ", proxyProtocol, trusted=" + proxyProtocolTrusted : "")
                + (connectionFilter != null ? ", connectionFilter=" + connectionFilter : "")
                + (tls == null ? "" : ", tls=" + tls)
                + (connectAllow.isEmpty() ? "" : ", connectAllow=" + connectAllow)
                + (unixSocketMode != null ? ", unixSocketMode=" + PosixFilePermissions.toString(unixSocketMode) : "")
                + (http2 != null ? ", http2=" + http2 : "")
                + (maxConnections > 0 ? ", maxConnections=" + maxConnections : "")
                + (maxConnectionsPerClient > 0 ? ", maxConnectionsPerClient=" + maxConnectionsPerClient : "")
                + '}';
    }

    private static Object orInherit(@Nullable Duration value) {
        return value == null ? "inherit" : value;
    }

    /**
     * Builds {@link ListenerOptions}. Every setter accepts null, meaning "as in the service's
     * options"; {@link #build()} validates. Not thread-safe.
     */
    public static final class Builder {
        private @Nullable Duration headerReadTimeout;
        private @Nullable Duration keepAliveTimeout;
        private @Nullable Duration bodyReadTimeout;
        private boolean proxyProtocol;
        private List<CidrBlock> proxyProtocolTrusted = List.of();
        private @Nullable ConnectionFilter connectionFilter;
        private @Nullable TlsSettings tls;
        private List<String> connectAllow = List.of();
        private @Nullable Set<PosixFilePermission> unixSocketMode;
        private @Nullable Boolean http2;
        private int maxConnections;
        private int maxConnectionsPerClient;

        private Builder() {}

        /** See {@link ListenerOptions#maxConnections()}; 0 for no limit. */
        public Builder maxConnections(int connections) {
            this.maxConnections = connections;
            return this;
        }

        /** See {@link ListenerOptions#maxConnectionsPerClient()}; 0 for no limit. */
        public Builder maxConnectionsPerClient(int connections) {
            this.maxConnectionsPerClient = connections;
            return this;
        }

        /**
         * See {@link ListenerOptions#http2()}: false keeps this listener on HTTP/1.1 (ALPN offers only
         * {@code http/1.1}, a prior-knowledge preface is not recognised); null inherits.
         */
        public Builder http2(@Nullable Boolean enabled) {
            this.http2 = enabled;
            return this;
        }

        /** See {@link ListenerOptions#unixSocketMode()}; null for the umask's. */
        public Builder unixSocketMode(@Nullable Set<PosixFilePermission> mode) {
            this.unixSocketMode = mode == null ? null : Set.copyOf(mode);
            return this;
        }

        /** See {@link ListenerOptions#proxyProtocol()}. */
        public Builder proxyProtocol(boolean required) {
            this.proxyProtocol = required;
            return this;
        }

        /** See {@link ListenerOptions#proxyProtocolTrusted()}; empty to trust any peer. */
        public Builder proxyProtocolTrusted(List<CidrBlock> trusted) {
            this.proxyProtocolTrusted = List.copyOf(Objects.requireNonNull(trusted, "trusted"));
            return this;
        }

        /** See {@link ListenerOptions#connectionFilter()}; null to serve every connection. */
        public Builder connectionFilter(@Nullable ConnectionFilter filter) {
            this.connectionFilter = filter;
            return this;
        }

        /**
         * Lets clients open {@code CONNECT} tunnels (forward proxying) to the destinations matching
         * one of {@code patterns}, each {@code host:port}: the host a name, an IP address
         * ({@code [v6]} in brackets), {@code *.domain} (any name below the domain) or {@code *}; the
         * port a number or {@code *}. A target that matches none is refused with 403; an empty list
         * (the default) refuses every {@code CONNECT} with 405. Not inherited: each listener allows
         * its own.
         *
         * <pre>{@code
         * ListenerOptions.builder().connectAllow(List.of("*.example.com:443", "127.0.0.1:*")).build();
         * }</pre>
         */
        public Builder connectAllow(List<String> patterns) {
            this.connectAllow = List.copyOf(Objects.requireNonNull(patterns, "patterns"));
            return this;
        }

        /** See {@link ListenerOptions#headerReadTimeout()}; {@code > 0}, or null to inherit. */
        public Builder headerReadTimeout(@Nullable Duration timeout) {
            this.headerReadTimeout = timeout;
            return this;
        }

        /** See {@link ListenerOptions#keepAliveTimeout()}; {@code > 0}, or null to inherit. */
        public Builder keepAliveTimeout(@Nullable Duration timeout) {
            this.keepAliveTimeout = timeout;
            return this;
        }

        /** See {@link ListenerOptions#bodyReadTimeout()}; {@code > 0}, or null to inherit. */
        public Builder bodyReadTimeout(@Nullable Duration timeout) {
            this.bodyReadTimeout = timeout;
            return this;
        }

        /** Terminates TLS on this listener with {@code tls}; null (the default) for plain HTTP. */
        public Builder tls(@Nullable TlsSettings tls) {
            this.tls = tls;
            return this;
        }

        /**
         * The options.
         *
         * @throws IllegalArgumentException naming the first setting out of range, as
         *                                  {@code name: value (expected: ...)}
         */
        public ListenerOptions build() {
            positiveOrNull("headerReadTimeout", headerReadTimeout);
            positiveOrNull("keepAliveTimeout", keepAliveTimeout);
            positiveOrNull("bodyReadTimeout", bodyReadTimeout);
            notNegative("maxConnections", maxConnections);
            notNegative("maxConnectionsPerClient", maxConnectionsPerClient);
            if (!proxyProtocol && !proxyProtocolTrusted.isEmpty()) {
                throw new IllegalArgumentException("proxyProtocolTrusted: " + proxyProtocolTrusted
                        + " (expected: empty unless proxyProtocol is on)");
            }
            return new ListenerOptions(this, ConnectAllowList.parse(connectAllow));
        }

        private static void notNegative(String name, int value) {
            if (value < 0) {
                throw new IllegalArgumentException(name + ": " + value + " (expected: >= 0, 0 for no limit)");
            }
        }

        private static void positiveOrNull(String name, @Nullable Duration value) {
            if (value != null && (value.isNegative() || value.isZero())) {
                throw new IllegalArgumentException(name + ": " + value + " (expected: > 0, or null to inherit)");
            }
        }
    }
}
