package dev.relay.filters.limits;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A lock-free count-min sketch: an estimate of how often each key was counted, for any number of keys,
 * in fixed memory ({@code hashes x slots} counters of 8 bytes). Pingora's {@code Estimator}.
 *
 * <p>Each key has one counter in each of {@code hashes} rows; counting adds to all of them, and the
 * estimate is the smallest. Keys that share a counter add to each other's, so an estimate is never
 * below the true count and exceeds it only when the key collides in every row. For {@code N} events
 * counted in all, an estimate exceeds the truth by more than {@code e x N / slots} with probability at
 * most {@code e^-hashes} (Cormode and Muthukrishnan): size {@code slots} to the traffic of one period,
 * not to the number of keys. Counters are updated with one atomic add each ({@code hashes} per call),
 * nothing is allocated, and nothing blocks.
 *
 * <pre>{@code
 * Estimator seen = Estimator.of(4, 8192);   // 256 KiB
 * long count = seen.incr("198.51.100.7", 1);
 * }</pre>
 *
 * <p>Counts may go down ({@link #decr}); decrementing what was never added, or adding past
 * {@link Long#MAX_VALUE}, makes estimates meaningless (negative), which callers avoid by construction.
 */
public final class Estimator {
    private final KeyHash hash;
    private final int hashes;
    private final int mask;
    private final AtomicLongArray counters;

    private Estimator(KeyHash hash, int hashes, int slots) {
        this.hash = hash;
        this.hashes = hashes;
        this.mask = KeyHash.slotMask(hashes, slots);
        this.counters = new AtomicLongArray(hashes * (mask + 1));
    }

    /**
     * An estimator of {@code hashes} rows (1 to 8) of {@code slots} counters each, rounded up to a power
     * of two. Pingora's rate limiter uses 4 x 1024; more slots for more events per period.
     */
    public static Estimator of(int hashes, int slots) {
        return new Estimator(new KeyHash(), hashes, slots);
    }

    /** An estimator hashing keys with {@code hash} (shared by the two windows of a {@link Rate}). */
    static Estimator withHash(KeyHash hash, int hashes, int slots) {
        return new Estimator(hash, hashes, slots);
    }

    /** Adds {@code n} to {@code key}'s count and returns the new estimate. */
    public long incr(long key, long n) {
        return incrHashed(hash.hash(key), n);
    }

    /** Adds {@code n} to {@code key}'s count (the characters are hashed, nothing is copied) and returns the new estimate. */
    public long incr(CharSequence key, long n) {
        return incrHashed(hash.hash(key), n);
    }

    /** Adds {@code n} to {@code key}'s count and returns the new estimate. */
    public long incr(byte[] key, long n) {
        return incrHashed(hash.hash(key), n);
    }

    /** Takes {@code n} from {@code key}'s count (that an earlier {@code incr} added). */
    public void decr(long key, long n) {
        incrHashed(hash.hash(key), -n);
    }

    /** Takes {@code n} from {@code key}'s count (that an earlier {@code incr} added). */
    public void decr(CharSequence key, long n) {
        incrHashed(hash.hash(key), -n);
    }

    /** Takes {@code n} from {@code key}'s count (that an earlier {@code incr} added). */
    public void decr(byte[] key, long n) {
        incrHashed(hash.hash(key), -n);
    }

    /** The estimated count of {@code key}. */
    public long get(long key) {
        return getHashed(hash.hash(key));
    }

    /** The estimated count of {@code key}. */
    public long get(CharSequence key) {
        return getHashed(hash.hash(key));
    }

    /** The estimated count of {@code key}. */
    public long get(byte[] key) {
        return getHashed(hash.hash(key));
    }

    /**
     * Sets every count to zero. Not atomic as a whole: an {@code incr} running meanwhile may keep part
     * of its count, which is the approximation {@link Rate} accepts when it starts a window.
     */
    public void reset() {
        // Release stores: ordered like volatile ones for the readers, without a full fence per counter.
        for (int i = 0, n = counters.length(); i < n; i++) {
            counters.setRelease(i, 0);
        }
    }

    /** The number of rows. */
    public int hashes() {
        return hashes;
    }

    /** The number of counters per row (a power of two). */
    public int slots() {
        return mask + 1;
    }

    long incrHashed(long keyHash, long n) {
        long min = Long.MAX_VALUE;
        for (int row = 0; row < hashes; row++) {
            min = Math.min(min, counters.addAndGet(KeyHash.cell(keyHash, row, mask), n));
        }
        return min;
    }

    /** Takes one from each of {@code keyHash}'s counters that is above zero (a compare-and-set each). */
    void decrementAboveZero(long keyHash) {
        for (int row = 0; row < hashes; row++) {
            int cell = KeyHash.cell(keyHash, row, mask);
            long value;
            do {
                value = counters.get(cell);
            } while (value > 0 && !counters.compareAndSet(cell, value, value - 1));
        }
    }

    long getHashed(long keyHash) {
        long min = Long.MAX_VALUE;
        for (int row = 0; row < hashes; row++) {
            min = Math.min(min, counters.get(KeyHash.cell(keyHash, row, mask)));
        }
        return min;
    }

    KeyHash keyHash() {
        return hash;
    }

    @Override
    public String toString() {
        return "Estimator(" + hashes + " x " + slots() + ")";
    }
}
