package dev.relay.transport;

import org.jspecify.annotations.Nullable;

import java.time.Duration;
import java.util.Objects;

import static java.util.Objects.requireNonNull;

/**
 * The settings of a {@link StreamProxyServer}: timeouts and the attempt limit of each relayed
 * connection. Immutable; {@link #defaults()} or {@link #builder()}.
 *
 * <pre>{@code
 * StreamOptions options = StreamOptions.builder()
 *         .idleTimeout(Duration.ofMinutes(30))   // long-lived database sessions
 *         .connectTimeout(Duration.ofSeconds(3))
 *         .maxAttempts(2)
 *         .build();
 * }</pre>
 */
public final class StreamOptions {
    /** nginx's {@code proxy_timeout} default: a relay that moves no byte for 10 minutes is closed. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(10);
    /** The bound on each attempt's TCP connect plus TLS handshake, by default. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** Connect attempts per client connection, the first included, by default. */
    public static final int DEFAULT_MAX_ATTEMPTS = 3;

    private static final StreamOptions DEFAULTS = new Builder().build();

    private final Duration idleTimeout;
    private final Duration connectTimeout;
    private final int maxAttempts;

    private StreamOptions(Builder b) {
        this.idleTimeout = b.idleTimeout;
        this.connectTimeout = b.connectTimeout;
        this.maxAttempts = b.maxAttempts;
    }

    /** Idle timeout 10 minutes, connect timeout 10 seconds, 3 attempts. */
    public static StreamOptions defaults() {
        return DEFAULTS;
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * How long a relay may move no byte in either direction before both connections are closed;
     * {@link Duration#ZERO} for no limit.
     */
    public Duration idleTimeout() {
        return idleTimeout;
    }

    /**
     * The bound on each connect attempt, TCP connect plus TLS handshake; a peer's own shorter
     * {@code connectTimeout} / {@code totalConnectionTimeout} apply as well.
     */
    public Duration connectTimeout() {
        return connectTimeout;
    }

    /** Connect attempts per client connection, the first included: a failed connect tries again up to this. */
    public int maxAttempts() {
        return maxAttempts;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof StreamOptions other && idleTimeout.equals(other.idleTimeout)
                && connectTimeout.equals(other.connectTimeout) && maxAttempts == other.maxAttempts;
    }

    @Override
    public int hashCode() {
        return Objects.hash(idleTimeout, connectTimeout, maxAttempts);
    }

    @Override
    public String toString() {
        return "StreamOptions{idleTimeout=" + idleTimeout + ", connectTimeout=" + connectTimeout
                + ", maxAttempts=" + maxAttempts + '}';
    }

    /** Builds {@link StreamOptions}; each setter checks its value. Not thread-safe. */
    public static final class Builder {
        private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private int maxAttempts = DEFAULT_MAX_ATTEMPTS;

        private Builder() {}

        /** See {@link StreamOptions#idleTimeout()}; {@code >= 0}, zero for none. */
        public Builder idleTimeout(Duration timeout) {
            requireNonNull(timeout, "timeout");
            if (timeout.isNegative()) {
                throw new IllegalArgumentException("idleTimeout: " + timeout + " (expected: >= 0, 0 for none)");
            }
            this.idleTimeout = timeout;
            return this;
        }

        /** See {@link StreamOptions#connectTimeout()}; {@code > 0}. */
        public Builder connectTimeout(Duration timeout) {
            requireNonNull(timeout, "timeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("connectTimeout: " + timeout + " (expected: > 0)");
            }
            this.connectTimeout = timeout;
            return this;
        }

        /** See {@link StreamOptions#maxAttempts()}; {@code >= 1}. */
        public Builder maxAttempts(int attempts) {
            if (attempts < 1) {
                throw new IllegalArgumentException("maxAttempts: " + attempts + " (expected: >= 1)");
            }
            this.maxAttempts = attempts;
            return this;
        }

        /** The options. */
        public StreamOptions build() {
            return new StreamOptions(this);
        }
    }
}
