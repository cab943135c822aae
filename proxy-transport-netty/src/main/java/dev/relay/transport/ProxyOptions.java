package dev.relay.transport;

import dev.relay.core.UpstreamObserver;
import org.jspecify.annotations.Nullable;

import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * The engine's settings for one proxy service: downstream limits and timeouts, the attempt loop,
 * the request-body replay buffer and the upstream connection pool. Immutable; defaults follow
 * Pingora where it has one (documented per setting).
 */
public final class ProxyOptions {
    private static final ProxyOptions DEFAULTS = new Builder().build();

    private final int maxAttempts;
    private final int retryBufferBytes;
    private final int maxRequestLineBytes;
    private final int maxHeaderBytes;
    private final int maxFieldBytes;
    private final int maxFields;
    private final UnderscoresInHeaders underscoresInHeaders;
    private final boolean allowTrace;
    private final Duration headerReadTimeout;
    private final Duration keepAliveTimeout;
    private final int maxIdleUpstreamConnections;
    private final Duration upstreamIdleTimeout;
    private final UpstreamObserver upstreamObserver;
    private final Duration bodyReadTimeout;
    private final @Nullable Duration requestDeadline;
    private final @Nullable Duration retryBackoff;
    private final Duration tunnelIdleTimeout;
    private final Http2Settings http2;
    private final Duration sendTimeout;
    private final int maxRequestsInFlight;

    private ProxyOptions(Builder b) {
        this.sendTimeout = b.sendTimeout;
        this.maxRequestsInFlight = b.maxRequestsInFlight;
        this.http2 = b.http2;
        this.tunnelIdleTimeout = b.tunnelIdleTimeout;
        this.bodyReadTimeout = b.bodyReadTimeout;
        this.requestDeadline = b.requestDeadline;
        this.retryBackoff = b.retryBackoff;
        this.upstreamObserver = b.upstreamObserver;
        this.maxAttempts = b.maxAttempts;
        this.retryBufferBytes = b.retryBufferBytes;
        this.maxRequestLineBytes = b.maxRequestLineBytes;
        this.maxHeaderBytes = b.maxHeaderBytes;
        this.maxFieldBytes = b.maxFieldBytes;
        this.maxFields = b.maxFields;
        this.underscoresInHeaders = b.underscoresInHeaders;
        this.allowTrace = b.allowTrace;
        this.headerReadTimeout = b.headerReadTimeout;
        this.keepAliveTimeout = b.keepAliveTimeout;
        this.maxIdleUpstreamConnections = b.maxIdleUpstreamConnections;
        this.upstreamIdleTimeout = b.upstreamIdleTimeout;
    }

    /** The defaults. */
    public static ProxyOptions defaults() {
        return DEFAULTS;
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Upstream attempts per request, the first included (default 16, Pingora's {@code max_retries}). */
    public int maxAttempts() {
        return maxAttempts;
    }

    /** Bytes of request body kept for replay on a retry (default 64 KiB, Pingora's {@code BODY_BUF_LIMIT}). */
    public int retryBufferBytes() {
        return retryBufferBytes;
    }

    /** Longest request line accepted; longer gets 414 (default 8 KiB). */
    public int maxRequestLineBytes() {
        return maxRequestLineBytes;
    }

    /** Largest header section accepted; larger gets 431 (default 32 KiB). */
    public int maxHeaderBytes() {
        return maxHeaderBytes;
    }

    /** Longest single request header field line ({@code name: value}) accepted; longer gets 431 (default 8 KiB). */
    public int maxFieldBytes() {
        return maxFieldBytes;
    }

    /** Most request header fields accepted; more get 431 (default 100). */
    public int maxFields() {
        return maxFields;
    }

    /** What becomes of request header fields whose name contains {@code _} (default {@link UnderscoresInHeaders#DROP}). */
    public UnderscoresInHeaders underscoresInHeaders() {
        return underscoresInHeaders;
    }

    /**
     * Whether {@code TRACE} requests are proxied (default false: they get 405). TRACE echoes the request
     * back, cookies and credentials the proxy added included (cross-site tracing), and no application
     * needs it.
     */
    public boolean allowTrace() {
        return allowTrace;
    }

    /** Time allowed to receive a whole request header once its first byte arrived (default 60 s). */
    public Duration headerReadTimeout() {
        return headerReadTimeout;
    }

    /** How long an idle keep-alive client connection is kept open (default 60 s). */
    public Duration keepAliveTimeout() {
        return keepAliveTimeout;
    }

    /** Cap on idle pooled upstream connections across the process (default 1024). */
    public int maxIdleUpstreamConnections() {
        return maxIdleUpstreamConnections;
    }

    /** Idle timeout of pooled upstream connections whose peer sets none (default 60 s). */
    public Duration upstreamIdleTimeout() {
        return upstreamIdleTimeout;
    }

    /** Longest wait for each read of a request body from the client (default 60 s, nginx's client_body_timeout). */
    public Duration bodyReadTimeout() {
        return bodyReadTimeout;
    }

    /**
     * Longest time a client may leave the response unread: how long bytes written to its connection may
     * wait, however few, without any of them leaving, nginx's {@code send_timeout} (default 60 s). Not a
     * bound on the whole response: a slow reader that keeps taking bytes is served. HTTP/1.1 only.
     */
    public Duration sendTimeout() {
        return sendTimeout;
    }

    /**
     * Requests in flight across the service past which a new request is shed at once with
     * {@code 503} and {@code Retry-After: 1}, before any phase runs; 0 (the default) for no limit.
     */
    public int maxRequestsInFlight() {
        return maxRequestsInFlight;
    }

    /** The most a whole request may take, from its header to the end of its response; nullable (none, the default). */
    public @Nullable Duration requestDeadline() {
        return requestDeadline;
    }

    /**
     * Pause before each retry, doubled on every further retry (capped at 32 times); nullable (retry at
     * once, the default, like Pingora).
     */
    public @Nullable Duration retryBackoff() {
        return retryBackoff;
    }

    /**
     * How long a tunnel (a WebSocket or other protocol after {@code 101}, a {@code CONNECT}) may stay
     * open without a byte moving either way (default 60 s, like nginx's {@code proxy_read_timeout},
     * which bounds its WebSocket tunnels too).
     */
    public Duration tunnelIdleTimeout() {
        return tunnelIdleTimeout;
    }

    /** HTTP/2 towards clients ({@link Http2Settings#defaults()}: on); a listener may turn it off. */
    public Http2Settings http2() {
        return http2;
    }

    /** Sees every upstream attempt (passive health, load signals); {@link UpstreamObserver#NONE} by default. */
    public UpstreamObserver upstreamObserver() {
        return upstreamObserver;
    }

    @Override
    public String toString() {
        return "ProxyOptions{maxAttempts=" + maxAttempts + ", retryBufferBytes=" + retryBufferBytes
                + ", maxRequestLineBytes=" + maxRequestLineBytes + ", maxHeaderBytes=" + maxHeaderBytes
                + ", maxFieldBytes=" + maxFieldBytes + ", maxFields=" + maxFields
                + ", underscoresInHeaders=" + underscoresInHeaders + ", allowTrace=" + allowTrace
                + ", headerReadTimeout=" + headerReadTimeout + ", keepAliveTimeout=" + keepAliveTimeout
                + ", maxIdleUpstreamConnections=" + maxIdleUpstreamConnections
                + ", upstreamIdleTimeout=" + upstreamIdleTimeout + ", tunnelIdleTimeout=" + tunnelIdleTimeout
                + ", sendTimeout=" + sendTimeout + ", maxRequestsInFlight=" + maxRequestsInFlight + ", http2=" + http2 + '}';
    }

    /** Builds {@link ProxyOptions}; each setter validates its argument. */
    public static final class Builder {
        private int maxAttempts = 16;
        private int retryBufferBytes = 64 * 1024;
        private int maxRequestLineBytes = 8 * 1024;
        private int maxHeaderBytes = 32 * 1024;
        private int maxFieldBytes = 8 * 1024;
        private int maxFields = 100;
        private UnderscoresInHeaders underscoresInHeaders = UnderscoresInHeaders.DROP;
        private boolean allowTrace;
        private Duration headerReadTimeout = Duration.ofSeconds(60);
        private Duration keepAliveTimeout = Duration.ofSeconds(60);
        private int maxIdleUpstreamConnections = 1024;
        private Duration upstreamIdleTimeout = Duration.ofSeconds(60);
        private UpstreamObserver upstreamObserver = UpstreamObserver.NONE;
        private Duration bodyReadTimeout = Duration.ofSeconds(60);
        private @Nullable Duration requestDeadline;
        private @Nullable Duration retryBackoff;
        private Duration tunnelIdleTimeout = Duration.ofSeconds(60);
        private Http2Settings http2 = Http2Settings.defaults();
        private Duration sendTimeout = Duration.ofSeconds(60);
        private int maxRequestsInFlight;

        private Builder() {}

        /** See {@link ProxyOptions#sendTimeout()}. */
        public Builder sendTimeout(Duration timeout) {
            this.sendTimeout = positive("sendTimeout", timeout);
            return this;
        }

        /** See {@link ProxyOptions#maxRequestsInFlight()}; 0 for no limit. */
        public Builder maxRequestsInFlight(int requests) {
            this.maxRequestsInFlight = atLeast("maxRequestsInFlight", requests, 0);
            return this;
        }

        /** See {@link ProxyOptions#http2()}. */
        public Builder http2(Http2Settings http2) {
            this.http2 = requireNonNull(http2, "http2");
            return this;
        }

        /** See {@link ProxyOptions#tunnelIdleTimeout()}. */
        public Builder tunnelIdleTimeout(Duration timeout) {
            this.tunnelIdleTimeout = positive("tunnelIdleTimeout", timeout);
            return this;
        }

        /** See {@link ProxyOptions#bodyReadTimeout()}. */
        public Builder bodyReadTimeout(Duration timeout) {
            this.bodyReadTimeout = positive("bodyReadTimeout", timeout);
            return this;
        }

        /** See {@link ProxyOptions#requestDeadline()}; null for none. */
        public Builder requestDeadline(@Nullable Duration deadline) {
            this.requestDeadline = deadline == null ? null : positive("requestDeadline", deadline);
            return this;
        }

        /** See {@link ProxyOptions#retryBackoff()}; null for none. */
        public Builder retryBackoff(@Nullable Duration backoff) {
            this.retryBackoff = backoff == null ? null : positive("retryBackoff", backoff);
            return this;
        }

        /** See {@link ProxyOptions#upstreamObserver()}. */
        public Builder upstreamObserver(UpstreamObserver observer) {
            this.upstreamObserver = requireNonNull(observer, "observer");
            return this;
        }

        /** See {@link ProxyOptions#maxAttempts()}; at least 1. */
        public Builder maxAttempts(int attempts) {
            this.maxAttempts = atLeast("maxAttempts", attempts, 1);
            return this;
        }

        /** See {@link ProxyOptions#retryBufferBytes()}; 0 disables replay of request bodies. */
        public Builder retryBufferBytes(int bytes) {
            this.retryBufferBytes = atLeast("retryBufferBytes", bytes, 0);
            return this;
        }

        /** See {@link ProxyOptions#maxRequestLineBytes()}. */
        public Builder maxRequestLineBytes(int bytes) {
            this.maxRequestLineBytes = atLeast("maxRequestLineBytes", bytes, 64);
            return this;
        }

        /** See {@link ProxyOptions#maxHeaderBytes()}. */
        public Builder maxHeaderBytes(int bytes) {
            this.maxHeaderBytes = atLeast("maxHeaderBytes", bytes, 256);
            return this;
        }

        /** See {@link ProxyOptions#maxFieldBytes()}. */
        public Builder maxFieldBytes(int bytes) {
            this.maxFieldBytes = atLeast("maxFieldBytes", bytes, 64);
            return this;
        }

        /** See {@link ProxyOptions#maxFields()}. */
        public Builder maxFields(int fields) {
            this.maxFields = atLeast("maxFields", fields, 1);
            return this;
        }

        /** See {@link ProxyOptions#underscoresInHeaders()}. */
        public Builder underscoresInHeaders(UnderscoresInHeaders policy) {
            this.underscoresInHeaders = requireNonNull(policy, "policy");
            return this;
        }

        /** See {@link ProxyOptions#allowTrace()}. */
        public Builder allowTrace(boolean allow) {
            this.allowTrace = allow;
            return this;
        }

        /** See {@link ProxyOptions#headerReadTimeout()}. */
        public Builder headerReadTimeout(Duration timeout) {
            this.headerReadTimeout = positive("headerReadTimeout", timeout);
            return this;
        }

        /** See {@link ProxyOptions#keepAliveTimeout()}. */
        public Builder keepAliveTimeout(Duration timeout) {
            this.keepAliveTimeout = positive("keepAliveTimeout", timeout);
            return this;
        }

        /** See {@link ProxyOptions#maxIdleUpstreamConnections()}; 0 disables pooling. */
        public Builder maxIdleUpstreamConnections(int connections) {
            this.maxIdleUpstreamConnections = atLeast("maxIdleUpstreamConnections", connections, 0);
            return this;
        }

        /** See {@link ProxyOptions#upstreamIdleTimeout()}. */
        public Builder upstreamIdleTimeout(Duration timeout) {
            this.upstreamIdleTimeout = positive("upstreamIdleTimeout", timeout);
            return this;
        }

        /** The options. */
        public ProxyOptions build() {
            return new ProxyOptions(this);
        }

        private static int atLeast(String name, int value, int min) {
            if (value < min) {
                throw new IllegalArgumentException(name + ": " + value + " (expected: >= " + min + ")");
            }
            return value;
        }

        private static Duration positive(String name, @Nullable Duration value) {
            if (value == null || value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
            }
            return value;
        }
    }
}
