package dev.relay.filters.limits;

import dev.relay.filters.internal.SlidingWindow;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * Events per key over a period, in fixed memory: Pingora's {@code Rate}. Two {@link Estimator}s take
 * turns, one counting the current window while the other keeps the window before it; windows are
 * {@code period} long and aligned to the instant the rate was created.
 *
 * <ul>
 *   <li>{@link #observe(CharSequence, long)} counts events and returns the current window's count of the
 *       key so far: compare it with a limit for a fixed-window limiter (Pingora's example does).</li>
 *   <li>{@link #rate(CharSequence)} is the per-second rate of the last full window (0 when the key was
 *       not seen in it): stable, but up to one period old.</li>
 *   <li>{@link #estimate(CharSequence)} is the sliding-window estimate of the events in the last
 *       {@code period}: {@code previous x (1 - elapsed / period) + current}, where {@code elapsed} is
 *       how far the current window has run (Cloudflare's "counting things" approximation, which
 *       assumes the previous window's events were spread evenly).</li>
 * </ul>
 *
 * <pre>{@code
 * Rate perSecond = Rate.of(Duration.ofSeconds(1));
 * if (perSecond.observe(appId, 1) > 100) {
 *     // over 100 requests in this second
 * }
 * }</pre>
 *
 * <p>The first call after a window ended starts the next one: it clears the older estimator (both, when
 * more than a window went by without a call) and makes it current. That call pays for the clearing
 * ({@code hashes x slots} stores); calls racing with it may count an event into the window that is
 * being retired, an approximation Pingora makes too. Nothing is allocated, nothing blocks.
 */
public final class Rate {
    private final Estimator[] windows;
    private final KeyHash hash;
    private final long periodNanos;
    private final LongSupplier clock;
    private final long origin;
    /** Start of the current window, nanoseconds after {@link #origin}. */
    private final AtomicLong windowStart = new AtomicLong();
    /** Which of {@link #windows} counts the current window; the other holds the previous one. */
    private volatile int current;

    private Rate(Builder builder) {
        this.hash = new KeyHash();
        this.windows = new Estimator[] {
            Estimator.withHash(hash, builder.hashes, builder.slots),
            Estimator.withHash(hash, builder.hashes, builder.slots),
        };
        this.periodNanos = builder.period.toNanos();
        this.clock = builder.clock;
        this.origin = clock.getAsLong();
    }

    /** A rate over windows of {@code period}, with Pingora's sketch size (4 x 1024) and {@link System#nanoTime()}. */
    public static Rate of(Duration period) {
        return builder(period).build();
    }

    /** A builder of a rate over windows of {@code period} (at least 1 ms). */
    public static Builder builder(Duration period) {
        return new Builder(period);
    }

    /** Counts {@code n} events of {@code key} and returns the key's count in the current window. */
    public long observe(long key, long n) {
        return observeHashed(hash.hash(key), n);
    }

    /** Counts {@code n} events of {@code key} and returns the key's count in the current window. */
    public long observe(CharSequence key, long n) {
        return observeHashed(hash.hash(key), n);
    }

    /** Counts {@code n} events of {@code key} and returns the key's count in the current window. */
    public long observe(byte[] key, long n) {
        return observeHashed(hash.hash(key), n);
    }

    /** Events of {@code key} per second in the last full window. */
    public double rate(long key) {
        return rateHashed(hash.hash(key));
    }

    /** Events of {@code key} per second in the last full window. */
    public double rate(CharSequence key) {
        return rateHashed(hash.hash(key));
    }

    /** Events of {@code key} per second in the last full window. */
    public double rate(byte[] key) {
        return rateHashed(hash.hash(key));
    }

    /** The sliding-window estimate of {@code key}'s events in the last period (see the class comment). */
    public double estimate(long key) {
        return estimateHashed(hash.hash(key));
    }

    /** The sliding-window estimate of {@code key}'s events in the last period (see the class comment). */
    public double estimate(CharSequence key) {
        return estimateHashed(hash.hash(key));
    }

    /** The sliding-window estimate of {@code key}'s events in the last period (see the class comment). */
    public double estimate(byte[] key) {
        return estimateHashed(hash.hash(key));
    }

    /** The length of a window. */
    public Duration period() {
        return Duration.ofNanos(periodNanos);
    }

    private long observeHashed(long keyHash, long n) {
        rollWindows();
        return windows[current].incrHashed(keyHash, n);
    }

    private double rateHashed(long keyHash) {
        rollWindows();
        return Math.max(0, windows[current ^ 1].getHashed(keyHash)) * 1e9 / periodNanos;
    }

    private double estimateHashed(long keyHash) {
        long elapsed = rollWindows();
        int now = current;
        long previous = Math.max(0, windows[now ^ 1].getHashed(keyHash));
        long counted = Math.max(0, windows[now].getHashed(keyHash));
        return SlidingWindow.estimate(previous, counted, elapsed, periodNanos);
    }

    /**
     * Starts the next window when the current one is over, and returns how far the current window has
     * run, in nanoseconds (0 to period).
     */
    long rollWindows() {
        long now = clock.getAsLong() - origin;
        long start = windowStart.get();
        long elapsed = now - start;
        if (elapsed < periodNanos) {
            return Math.max(0, elapsed);
        }
        long passed = elapsed / periodNanos;
        long next = start + passed * periodNanos;
        if (windowStart.compareAndSet(start, next)) {
            int retiring = current;
            // The estimator of the window before last becomes the current one, cleared.
            windows[retiring ^ 1].reset();
            current = retiring ^ 1;
            if (passed >= 2) {
                // No call for a whole window: what the retiring one counted is older than a period too.
                windows[retiring].reset();
            }
        }
        // Another thread may have started the window: measure from whatever start is now in force.
        return Math.min(periodNanos, Math.max(0, now - windowStart.get()));
    }

    /** When the current window started (nanoseconds after the origin): changes exactly when a window starts. */
    long windowStartNanos() {
        return windowStart.get();
    }

    /**
     * Takes back one event of {@code keyHash} that was counted into {@code window(slot)} while the window that
     * started at {@code countedIn} ({@link #windowStartNanos()}) was current; does nothing when a window has
     * started since. The estimator may have been cleared by then, and after two starts it counts the current
     * window again: a decrement there would take a count from the keys sharing the cell (or leave it at -1).
     * A request kept counted in a window that is over only makes that window count one more, which errs
     * towards limiting. The clamp at zero covers a window starting between the check and the decrement.
     */
    void uncount(long keyHash, int slot, long countedIn) {
        if (windowStart.get() == countedIn) {
            windows[slot].decrementAboveZero(keyHash);
        }
    }

    /** The estimator counting the current window when {@code slot} is {@link #currentSlot()}; the previous one for {@code slot ^ 1}. */
    Estimator window(int slot) {
        return windows[slot];
    }

    int currentSlot() {
        return current;
    }

    KeyHash keyHash() {
        return hash;
    }

    long periodNanos() {
        return periodNanos;
    }

    @Override
    public String toString() {
        return "Rate(period " + period() + ", " + windows[0] + ")";
    }

    /** Builds a {@link Rate}; final, one use. */
    public static final class Builder {
        private final Duration period;
        private int hashes = 4;
        private int slots = 1024;
        private LongSupplier clock = System::nanoTime;

        private Builder(Duration period) {
            requireNonNull(period, "period");
            if (period.compareTo(Duration.ofMillis(1)) < 0) {
                throw new IllegalArgumentException("period: " + period + " (expected: at least 1ms)");
            }
            this.period = period;
        }

        /** Rows of each window's sketch (1 to 8; default 4). */
        public Builder hashes(int hashes) {
            KeyHash.slotMask(hashes, 1);
            this.hashes = hashes;
            return this;
        }

        /** Counters per row (rounded up to a power of two; default 1024): size it to the events of one period. */
        public Builder slots(int slots) {
            KeyHash.slotMask(1, slots);
            this.slots = slots;
            return this;
        }

        /** The time source in nanoseconds ({@link System#nanoTime()} by default); tests pass a manual clock. */
        public Builder clock(LongSupplier nanos) {
            this.clock = requireNonNull(nanos, "nanos");
            return this;
        }

        /** The rate; its first window starts now. */
        public Rate build() {
            return new Rate(this);
        }
    }
}
