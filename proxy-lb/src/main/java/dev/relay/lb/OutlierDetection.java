package dev.relay.lb;

import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * Passive health settings: how the load balancer ejects a backend from the failures the proxy sees
 * (through {@link LoadBalancer#observer()}), like Envoy's outlier detection.
 *
 * <p>Failures are attempts that end in {@code CONNECT_FAILURE}, {@code TIMEOUT},
 * {@code SERVER_ERROR} or {@code FAILURE}; {@code CANCELLED} attempts do not count either way. A
 * backend is ejected after {@link Builder#consecutiveFailures consecutive failures}, or when, within
 * one {@link Builder#window window}, at least {@link Builder#minimumRequests} attempts ended and
 * {@link Builder#failureRatePercent} percent of them failed. An ejected backend is not ready for
 * {@code baseEjectionTime × 2^(ejections - 1)}, at most {@link Builder#maxEjectionTime}; the count
 * of ejections drops by one for every base ejection time spent in service. When the time is up the
 * backend is ready again on probation: the next attempt that ends decides, a success reinstates it,
 * a failure ejects it again for longer.
 *
 * <p>Never more than {@link Builder#maxEjectionPercent} percent of the set is ejected at once (at
 * least one backend may be, as in Envoy), and never the last ready backend.
 *
 * <pre>{@code
 * OutlierDetection outliers = OutlierDetection.builder().consecutiveFailures(3).baseEjectionTime(Duration.ofSeconds(10)).build();
 * }</pre>
 */
public final class OutlierDetection {
    private static final OutlierDetection DEFAULTS = builder().build();

    final int consecutiveFailures;
    final int failureRatePercent;
    final int minimumRequests;
    final long windowNanos;
    final long baseEjectionNanos;
    final long maxEjectionNanos;
    final int maxEjectionPercent;

    private OutlierDetection(Builder b) {
        this.consecutiveFailures = b.consecutiveFailures;
        this.failureRatePercent = b.failureRatePercent;
        this.minimumRequests = b.minimumRequests;
        this.windowNanos = b.window.toNanos();
        this.baseEjectionNanos = b.baseEjectionTime.toNanos();
        this.maxEjectionNanos = b.maxEjectionTime.toNanos();
        this.maxEjectionPercent = b.maxEjectionPercent;
    }

    /**
     * Envoy's defaults: 5 consecutive failures; 85% failures of at least 50 attempts in 10 s;
     * ejection 30 s doubling up to 300 s; at most 10% of the set ejected.
     */
    public static OutlierDetection defaults() {
        return DEFAULTS;
    }

    /** A builder starting from {@link #defaults()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** Consecutive failures that eject; 0 when disabled. */
    public int consecutiveFailures() {
        return consecutiveFailures;
    }

    /** The failure percentage that ejects; 0 when disabled. */
    public int failureRatePercent() {
        return failureRatePercent;
    }

    /** Attempts a window needs before its failure rate counts. */
    public int minimumRequests() {
        return minimumRequests;
    }

    /** The failure-rate window. */
    public Duration window() {
        return Duration.ofNanos(windowNanos);
    }

    /** The first ejection's length. */
    public Duration baseEjectionTime() {
        return Duration.ofNanos(baseEjectionNanos);
    }

    /** The longest ejection. */
    public Duration maxEjectionTime() {
        return Duration.ofNanos(maxEjectionNanos);
    }

    /** The largest share of the set ejected at once. */
    public int maxEjectionPercent() {
        return maxEjectionPercent;
    }

    /** The ejection time for the {@code ejections}-th ejection (1 for the first). */
    long ejectionNanos(int ejections) {
        int doublings = Math.min(Math.max(0, ejections - 1), 40);
        long nanos = baseEjectionNanos;
        for (int i = 0; i < doublings && nanos < maxEjectionNanos; i++) {
            nanos *= 2;
        }
        return Math.min(nanos, maxEjectionNanos);
    }

    @Override
    public String toString() {
        return "OutlierDetection(consecutiveFailures=" + consecutiveFailures + ", failureRate=" + failureRatePercent
                + "% of >=" + minimumRequests + " in " + window() + ", ejection=" + baseEjectionTime() + ".." + maxEjectionTime()
                + ", maxEjectionPercent=" + maxEjectionPercent + ")";
    }

    /** Settings of {@link OutlierDetection}; every one has a default. */
    public static final class Builder {
        private int consecutiveFailures = 5;
        private int failureRatePercent = 85;
        private int minimumRequests = 50;
        private Duration window = Duration.ofSeconds(10);
        private Duration baseEjectionTime = Duration.ofSeconds(30);
        private Duration maxEjectionTime = Duration.ofSeconds(300);
        private int maxEjectionPercent = 10;

        private Builder() {}

        /** Consecutive failures that eject (default 5; 0 disables). */
        public Builder consecutiveFailures(int consecutiveFailures) {
            if (consecutiveFailures < 0) {
                throw new IllegalArgumentException("consecutiveFailures: " + consecutiveFailures + " (expected: >= 0)");
            }
            this.consecutiveFailures = consecutiveFailures;
            return this;
        }

        /** The failure percentage within a window that ejects (default 85; 0 disables). */
        public Builder failureRatePercent(int failureRatePercent) {
            if (failureRatePercent < 0 || failureRatePercent > 100) {
                throw new IllegalArgumentException("failureRatePercent: " + failureRatePercent + " (expected: 0..100)");
            }
            this.failureRatePercent = failureRatePercent;
            return this;
        }

        /** Attempts a window needs before its failure rate counts (default 50). */
        public Builder minimumRequests(int minimumRequests) {
            if (minimumRequests < 1) {
                throw new IllegalArgumentException("minimumRequests: " + minimumRequests + " (expected: >= 1)");
            }
            this.minimumRequests = minimumRequests;
            return this;
        }

        /** The failure-rate window (default 10 s). */
        public Builder window(Duration window) {
            this.window = positive(window, "window");
            return this;
        }

        /** The first ejection's length, doubled on each repeat (default 30 s). */
        public Builder baseEjectionTime(Duration baseEjectionTime) {
            this.baseEjectionTime = positive(baseEjectionTime, "baseEjectionTime");
            return this;
        }

        /** The longest ejection (default 300 s). */
        public Builder maxEjectionTime(Duration maxEjectionTime) {
            this.maxEjectionTime = positive(maxEjectionTime, "maxEjectionTime");
            return this;
        }

        /** The largest share of the set ejected at once, in percent (default 10; at least one backend may be ejected). */
        public Builder maxEjectionPercent(int maxEjectionPercent) {
            if (maxEjectionPercent < 0 || maxEjectionPercent > 100) {
                throw new IllegalArgumentException("maxEjectionPercent: " + maxEjectionPercent + " (expected: 0..100)");
            }
            this.maxEjectionPercent = maxEjectionPercent;
            return this;
        }

        /**
         * The settings.
         *
         * @throws IllegalStateException when maxEjectionTime is below baseEjectionTime
         */
        public OutlierDetection build() {
            if (maxEjectionTime.compareTo(baseEjectionTime) < 0) {
                throw new IllegalStateException("maxEjectionTime: " + maxEjectionTime
                        + " (expected: >= baseEjectionTime " + baseEjectionTime + ")");
            }
            return new OutlierDetection(this);
        }

        private static Duration positive(Duration d, String name) {
            requireNonNull(d, name);
            if (d.isZero() || d.isNegative() || d.compareTo(Duration.ofDays(1)) > 0) {
                throw new IllegalArgumentException(name + ": " + d + " (expected: > 0 and <= 1 day)");
            }
            return d;
        }
    }
}
