package dev.relay.lb;

import dev.relay.core.Backend;
import dev.relay.core.BackendSelector;
import dev.relay.lb.internal.BackendState;
import dev.relay.lb.internal.PeakEwmaSelector;

import java.time.Duration;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Power of two choices over peak-EWMA latency, the latency-aware balancing of Finagle and Linkerd:
 * two backends drawn at random by weight are compared by {@code latency × (inFlight + 1)} and the
 * cheaper one wins (so weights decide how often a backend is a candidate, and an idle set is picked
 * exactly by weight). The latency estimate of each backend is a moving average over time
 * that jumps straight to any slower response (the "peak"), fed by the load balancer's
 * {@link LoadBalancer#observer() observer}; failed attempts count as at least
 * {@link Builder#failurePenalty the failure penalty}, so a backend that fails fast does not look
 * fast. Without samples a backend costs the {@link Builder#initialLatency initial latency}, and an
 * estimate that gets no samples relaxes toward it, so a backend avoided for being slow is tried
 * again. Config name {@code peak-ewma}.
 *
 * <pre>{@code
 * LoadBalancer<PeakEwma> lb = LoadBalancer.builder(PeakEwma.create()).staticBackends(list).build();
 * ProxyOptions.builder().upstreamObserver(lb.observer()); // the engine feeds latencies and in-flight counts
 * }</pre>
 */
public final class PeakEwma extends LoadAwareAlgorithm {
    /** Finagle's and Linkerd's decay time. */
    public static final Duration DEFAULT_DECAY = Duration.ofSeconds(10);
    /** The estimate of a backend without samples. */
    public static final Duration DEFAULT_INITIAL_LATENCY = Duration.ofMillis(30);
    /** The least latency a failed attempt counts as. */
    public static final Duration DEFAULT_FAILURE_PENALTY = Duration.ofSeconds(1);

    private static final PeakEwma DEFAULT = builder().build();

    private final long decayNanos;
    private final long initialNanos;
    private final long failurePenaltyNanos;

    private PeakEwma(Builder b) {
        this.decayNanos = b.decay.toNanos();
        this.initialNanos = b.initialLatency.toNanos();
        this.failurePenaltyNanos = b.failurePenalty.toNanos();
    }

    /** Decay 10 s, initial latency 30 ms, failure penalty 1 s. */
    public static PeakEwma create() {
        return DEFAULT;
    }

    /** A builder starting from the defaults of {@link #create()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** The decay time of the moving average. */
    public Duration decay() {
        return Duration.ofNanos(decayNanos);
    }

    /** The estimate of a backend without samples. */
    public Duration initialLatency() {
        return Duration.ofNanos(initialNanos);
    }

    /** The least latency a failed attempt counts as. */
    public Duration failurePenalty() {
        return Duration.ofNanos(failurePenaltyNanos);
    }

    long decayNanos() {
        return decayNanos;
    }

    long failurePenaltyNanos() {
        return failurePenaltyNanos;
    }

    @Override
    BackendSelector build(List<Backend> backends, BackendState[] states, Ticker ticker) {
        return new PeakEwmaSelector(backends, states, ticker, decayNanos, initialNanos);
    }

    @Override
    public String toString() {
        return "PeakEwma(decay=" + decay() + ", initial=" + initialLatency() + ", failurePenalty=" + failurePenalty() + ")";
    }

    /** Settings of {@link PeakEwma}; every one has a default. */
    public static final class Builder {
        private Duration decay = DEFAULT_DECAY;
        private Duration initialLatency = DEFAULT_INITIAL_LATENCY;
        private Duration failurePenalty = DEFAULT_FAILURE_PENALTY;

        private Builder() {}

        /** How fast the average forgets: a sample's weight falls by {@code e} per decay time (default 10 s). */
        public Builder decay(Duration decay) {
            this.decay = positive(decay, "decay");
            return this;
        }

        /** The estimate of a backend without samples (default 30 ms). */
        public Builder initialLatency(Duration initialLatency) {
            this.initialLatency = nonNegative(initialLatency, "initialLatency");
            return this;
        }

        /** The least latency a failed attempt counts as (default 1 s; zero counts its real duration). */
        public Builder failurePenalty(Duration failurePenalty) {
            this.failurePenalty = nonNegative(failurePenalty, "failurePenalty");
            return this;
        }

        /** The algorithm. */
        public PeakEwma build() {
            return new PeakEwma(this);
        }

        private static Duration positive(Duration d, String name) {
            requireNonNull(d, name);
            if (d.isZero() || d.isNegative() || d.compareTo(Duration.ofDays(1)) > 0) {
                throw new IllegalArgumentException(name + ": " + d + " (expected: > 0 and <= 1 day)");
            }
            return d;
        }

        private static Duration nonNegative(Duration d, String name) {
            requireNonNull(d, name);
            if (d.isNegative() || d.compareTo(Duration.ofDays(1)) > 0) {
                throw new IllegalArgumentException(name + ": " + d + " (expected: >= 0 and <= 1 day)");
            }
            return d;
        }
    }
}
