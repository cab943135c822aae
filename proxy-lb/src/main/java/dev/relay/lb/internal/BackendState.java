package dev.relay.lb.internal;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;

/**
 * The mutable state of one backend: administratively enabled or drained, healthy or not (active
 * health checks), ejected or not (passive health), and its load signals (requests in flight and a
 * peak-EWMA latency estimate).
 *
 * <p>One instance lives as long as the backend stays in the set: a {@link BackendSet} built from a
 * discovery result hands the instance of a surviving backend over to the new snapshot, so an update
 * never resets a drain, a health verdict, an ejection or a load counter. Every field is volatile or
 * updated with a compare-and-set: written by health checks and by the engine's attempt reports,
 * read on every selection, never locked, never allocating.
 */
public final class BackendState {
    /** Not ejected by passive health. */
    public static final int IN_SERVICE = 0;
    /** Ejected by passive health: not ready until the back-off ends. */
    public static final int EJECTED = 1;
    /** The back-off ended: ready again, and the next outcome decides (success reinstates, failure re-ejects). */
    public static final int PROBING = 2;

    /** The latency word of a backend that has no sample yet. */
    static final long UNSAMPLED = -1L;
    /** Latency time stamps are kept in units of 2^20 ns (about 1.05 ms) in 32 bits: they wrap after 52 days. */
    private static final int STAMP_SHIFT = 20;

    private static final AtomicIntegerFieldUpdater<BackendState> IN_FLIGHT =
            AtomicIntegerFieldUpdater.newUpdater(BackendState.class, "inFlight");
    private static final AtomicLongFieldUpdater<BackendState> LATENCY =
            AtomicLongFieldUpdater.newUpdater(BackendState.class, "latency");
    private static final AtomicIntegerFieldUpdater<BackendState> EJECTION =
            AtomicIntegerFieldUpdater.newUpdater(BackendState.class, "ejection");
    private static final AtomicIntegerFieldUpdater<BackendState> CONSECUTIVE_FAILURES =
            AtomicIntegerFieldUpdater.newUpdater(BackendState.class, "consecutiveFailures");
    private static final AtomicIntegerFieldUpdater<BackendState> WINDOW_REQUESTS =
            AtomicIntegerFieldUpdater.newUpdater(BackendState.class, "windowRequests");
    private static final AtomicIntegerFieldUpdater<BackendState> WINDOW_FAILURES =
            AtomicIntegerFieldUpdater.newUpdater(BackendState.class, "windowFailures");

    private volatile boolean enabled = true;
    private volatile boolean healthy = true;

    // Active health check streaks: written by the single health-check task of this backend at a time.
    private volatile int checkSuccesses;
    private volatile int checkFailures;

    private volatile int inFlight;
    // High 32 bits: the estimate in nanoseconds as float bits; low 32 bits: when it was last sampled.
    private volatile long latency = UNSAMPLED;

    private volatile int ejection = IN_SERVICE;
    private volatile int consecutiveFailures;
    private volatile long windowStart;
    private volatile int windowRequests;
    private volatile int windowFailures;
    // Guarded by the outlier detector's lock (ejections are rare).
    private int ejections;
    private long lastReinstatedAt;
    private boolean reinstated;

    /** Whether the backend takes traffic administratively (not drained). */
    public boolean isEnabled() {
        return enabled;
    }

    /** Drains ({@code false}) or re-enables the backend, without touching its health. */
    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    /** The latest active health verdict; {@code true} until a health check says otherwise. */
    public boolean isHealthy() {
        return healthy;
    }

    /** Records an active health verdict. */
    public void setHealthy(boolean healthy) {
        this.healthy = healthy;
    }

    /** Healthy, enabled and not ejected: the backend may be selected. */
    public boolean isReady() {
        return healthy && enabled && ejection != EJECTED;
    }

    // ---- active health streaks

    /**
     * Counts one active check result and says whether the health verdict flips: the verdict flips
     * to healthy after {@code successThreshold} consecutive successes, to unhealthy after
     * {@code failureThreshold} consecutive failures.
     *
     * @return whether {@link #isHealthy()} changed
     */
    public boolean recordCheck(boolean success, int successThreshold, int failureThreshold) {
        if (success) {
            checkFailures = 0;
            int streak = checkSuccesses + 1;
            checkSuccesses = streak;
            if (!healthy && streak >= successThreshold) {
                healthy = true;
                return true;
            }
        } else {
            checkSuccesses = 0;
            int streak = checkFailures + 1;
            checkFailures = streak;
            if (healthy && streak >= failureThreshold) {
                healthy = false;
                return true;
            }
        }
        return false;
    }

    // ---- load signals

    /** Requests in flight to this backend, as reported by the engine. */
    public int inFlight() {
        return inFlight;
    }

    /** An attempt started. */
    public void attemptStarted() {
        IN_FLIGHT.incrementAndGet(this);
    }

    /** An attempt ended; never goes below zero (an end reported for a start this instance did not see). */
    public void attemptEnded() {
        for (;;) {
            int current = inFlight;
            if (current <= 0 || IN_FLIGHT.compareAndSet(this, current, current - 1)) {
                return;
            }
        }
    }

    /**
     * Feeds one latency sample to the peak EWMA: a sample above the estimate replaces it (peak
     * sensitivity), a lower one is averaged in with weight {@code 1 - exp(-elapsed / decay)}, where
     * elapsed is the time since the previous sample, so the estimate follows time, not request rate.
     */
    public void recordLatency(long sampleNanos, long nowNanos, double decayNanos) {
        float sample = (float) Math.max(0, sampleNanos);
        int nowStamp = (int) (nowNanos >> STAMP_SHIFT);
        for (;;) {
            long word = latency;
            float next;
            if (word == UNSAMPLED) {
                next = sample;
            } else {
                float estimate = Float.intBitsToFloat((int) (word >>> 32));
                if (sample >= estimate) {
                    next = sample;
                } else {
                    double w = Math.exp(-elapsedNanos(word, nowStamp) / decayNanos);
                    next = (float) (estimate * w + sample * (1 - w));
                }
            }
            long updated = ((long) Float.floatToRawIntBits(next) << 32) | (nowStamp & 0xffffffffL);
            if (LATENCY.compareAndSet(this, word, updated)) {
                return;
            }
        }
    }

    /**
     * The latency estimate at {@code nowNanos}: {@code initialNanos} before the first sample; after
     * it, the last estimate relaxed toward {@code initialNanos} by {@code exp(-elapsed / decay)}, so a
     * backend that stopped getting traffic because it was slow is eventually tried again.
     */
    public double latencyEstimate(long nowNanos, double decayNanos, double initialNanos) {
        long word = latency;
        if (word == UNSAMPLED) {
            return initialNanos;
        }
        float estimate = Float.intBitsToFloat((int) (word >>> 32));
        double w = Math.exp(-elapsedNanos(word, (int) (nowNanos >> STAMP_SHIFT)) / decayNanos);
        return estimate * w + initialNanos * (1 - w);
    }

    private static double elapsedNanos(long word, int nowStamp) {
        long units = (nowStamp - (int) word) & 0xffffffffL;
        return (double) (units << STAMP_SHIFT);
    }

    // ---- passive health

    /** {@link #IN_SERVICE}, {@link #EJECTED} or {@link #PROBING}. */
    public int ejection() {
        return ejection;
    }

    /** Moves the ejection state from {@code expected} to {@code next}; whether it did. */
    public boolean casEjection(int expected, int next) {
        return EJECTION.compareAndSet(this, expected, next);
    }

    /** How many times passive health ejected this backend, after decay (callers hold the detector's lock). */
    public int ejections() {
        return ejections;
    }

    /** Sets the ejection count (callers hold the detector's lock). */
    public void setEjections(int ejections) {
        this.ejections = ejections;
    }

    /**
     * When this backend was last reinstated after an ejection, or {@code Long.MIN_VALUE} when never
     * (callers hold the detector's lock).
     */
    public long lastReinstatedAt() {
        return reinstated ? lastReinstatedAt : Long.MIN_VALUE;
    }

    /** Records a reinstatement at {@code nowNanos} (callers hold the detector's lock). */
    public void setReinstatedAt(long nowNanos) {
        this.lastReinstatedAt = nowNanos;
        this.reinstated = true;
    }

    /** Counts a success: ends the failure streak. */
    public void passiveSuccess(long nowNanos, long windowNanos) {
        if (consecutiveFailures != 0) {
            consecutiveFailures = 0;
        }
        rollWindow(nowNanos, windowNanos);
        WINDOW_REQUESTS.incrementAndGet(this);
    }

    /** Counts a failure; returns the failure streak including it. */
    public int passiveFailure(long nowNanos, long windowNanos) {
        rollWindow(nowNanos, windowNanos);
        WINDOW_REQUESTS.incrementAndGet(this);
        WINDOW_FAILURES.incrementAndGet(this);
        return CONSECUTIVE_FAILURES.incrementAndGet(this);
    }

    /** Requests counted in the current failure-rate window. */
    public int windowRequests() {
        return windowRequests;
    }

    /** Failures counted in the current failure-rate window. */
    public int windowFailures() {
        return windowFailures;
    }

    /** Forgets the failure streak and the window (after an ejection, so a reinstated backend starts afresh). */
    public void resetPassiveCounters(long nowNanos) {
        consecutiveFailures = 0;
        windowStart = nowNanos;
        windowRequests = 0;
        windowFailures = 0;
    }

    // A tumbling window: the first report after it ends starts a new one. Concurrent reports around
    // the boundary may land in either window; the rate is a heuristic, exactness is not needed.
    private void rollWindow(long nowNanos, long windowNanos) {
        long start = windowStart;
        if (nowNanos - start >= windowNanos) {
            windowStart = nowNanos;
            windowRequests = 0;
            windowFailures = 0;
        }
    }

    @Override
    public String toString() {
        return (enabled ? "enabled" : "disabled") + (healthy ? ",healthy" : ",unhealthy")
                + (ejection == EJECTED ? ",ejected" : ejection == PROBING ? ",probing" : "")
                + (inFlight > 0 ? ",inFlight=" + inFlight : "");
    }
}
