package dev.relay.server;

import dev.relay.transport.TransportRuntime;

import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * The process-wide settings of a {@link Server}: its event loops and its shutdown grace period.
 * Immutable; build with {@link #builder()}.
 *
 * <pre>{@code
 * Server server = new Server(ServerOptions.builder().threads(4).gracePeriod(Duration.ofSeconds(10)).build());
 * }</pre>
 */
public final class ServerOptions {
    private static final ServerOptions DEFAULTS = new Builder().build();

    private final int threads;
    private final TransportRuntime.Kind transport;
    private final Duration gracePeriod;
    private final Duration shutdownTimeout;
    private final Duration shutdownDelay;

    private ServerOptions(Builder b) {
        this.threads = b.threads;
        this.transport = b.transport;
        this.gracePeriod = b.gracePeriod;
        this.shutdownTimeout = b.shutdownTimeout;
        this.shutdownDelay = b.shutdownDelay;
    }

    /** The defaults: one event loop per core, the best native transport, a 30 second grace period. */
    public static ServerOptions defaults() {
        return DEFAULTS;
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Worker event loops; 0 means one per available core. */
    public int threads() {
        return threads;
    }

    /** The socket implementation to ask for ({@link TransportRuntime.Kind#AUTO}: the best available). */
    public TransportRuntime.Kind transport() {
        return transport;
    }

    /**
     * How long a graceful shutdown (SIGTERM, {@link Server#stop(Duration)} from the signal path)
     * lets requests in flight finish before their connections are closed.
     */
    public Duration gracePeriod() {
        return gracePeriod;
    }

    /**
     * After the grace period, how long the event loops may take to stop (Pingora's
     * {@code graceful_shutdown_timeout_seconds}); default 5 seconds.
     */
    public Duration shutdownTimeout() {
        return shutdownTimeout;
    }

    /**
     * How long a graceful stop keeps accepting after {@code /ready} turned 503, so that a load
     * balancer in front sees us not ready and stops sending before the listeners close (default 0).
     */
    public Duration shutdownDelay() {
        return shutdownDelay;
    }

    @Override
    public String toString() {
        return "ServerOptions{threads=" + threads + ", transport=" + transport + ", gracePeriod=" + gracePeriod + '}';
    }

    /** Builds {@link ServerOptions}; each setter validates its argument. Not thread-safe. */
    public static final class Builder {
        private int threads;
        private TransportRuntime.Kind transport = TransportRuntime.Kind.AUTO;
        private Duration gracePeriod = Duration.ofSeconds(30);
        private Duration shutdownTimeout = Duration.ofSeconds(5);
        private Duration shutdownDelay = Duration.ZERO;

        /** See {@link ServerOptions#shutdownDelay()}; zero or more. */
        public Builder shutdownDelay(Duration delay) {
            requireNonNull(delay, "delay");
            if (delay.isNegative()) {
                throw new IllegalArgumentException("shutdownDelay: " + delay + " (expected: >= 0)");
            }
            this.shutdownDelay = delay;
            return this;
        }

        private Builder() {}

        /** See {@link ServerOptions#threads()}; at least 0. */
        public Builder threads(int threads) {
            if (threads < 0) {
                throw new IllegalArgumentException("threads: " + threads + " (expected: >= 0, 0 for one per core)");
            }
            this.threads = threads;
            return this;
        }

        /** See {@link ServerOptions#transport()}. */
        public Builder transport(TransportRuntime.Kind transport) {
            this.transport = requireNonNull(transport, "transport");
            return this;
        }

        /** See {@link ServerOptions#gracePeriod()}; zero or more. */
        public Builder gracePeriod(Duration gracePeriod) {
            requireNonNull(gracePeriod, "gracePeriod");
            if (gracePeriod.isNegative()) {
                throw new IllegalArgumentException("gracePeriod: " + gracePeriod + " (expected: >= 0)");
            }
            this.gracePeriod = gracePeriod;
            return this;
        }

        /** See {@link ServerOptions#shutdownTimeout()}; zero or more. */
        public Builder shutdownTimeout(Duration timeout) {
            requireNonNull(timeout, "timeout");
            if (timeout.isNegative()) {
                throw new IllegalArgumentException("shutdownTimeout: " + timeout + " (expected: >= 0)");
            }
            this.shutdownTimeout = timeout;
            return this;
        }

        /** The options. */
        public ServerOptions build() {
            return new ServerOptions(this);
        }
    }
}
