package dev.relay.filters.limits;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * How many operations per key are running now, in fixed memory: Pingora's {@code Inflight}, a
 * count-min {@link Estimator} (so a count is never below the truth) whose counts go up when an
 * operation starts and down when its {@link Permit} is released.
 *
 * <pre>{@code
 * Inflight uploads = Inflight.create();
 * try (Inflight.Permit permit = uploads.acquire(userId)) {
 *     if (permit.count() > 4) {
 *         return tooMany();       // the permit is released all the same
 *     }
 *     upload();
 * }
 * }</pre>
 *
 * <p>A permit gives its count back exactly once: {@link Permit#release()} (or {@code close()}) a second
 * time, from any thread, does nothing, so a caller with several ways to finish (done, failed, cancelled)
 * may release on each. A permit never released holds its count for good. Acquiring allocates the
 * permit (a few fields) and nothing else.
 */
public final class Inflight {
    private final Estimator counts;

    private Inflight(Estimator counts) {
        this.counts = counts;
    }

    /** Counters as Pingora sizes them: 4 x 8192 (256 KiB). */
    public static Inflight create() {
        return of(4, 8192);
    }

    /** {@code hashes} rows (1 to 8) of {@code slots} counters (rounded up to a power of two). */
    public static Inflight of(int hashes, int slots) {
        return new Inflight(Estimator.of(hashes, slots));
    }

    /** Counts one more operation of {@code key}; the permit says how many are running, this one included. */
    public Permit acquire(long key) {
        return acquireHashed(counts.keyHash().hash(key));
    }

    /** Counts one more operation of {@code key}; the permit says how many are running, this one included. */
    public Permit acquire(CharSequence key) {
        return acquireHashed(counts.keyHash().hash(key));
    }

    /** Counts one more operation of {@code key}; the permit says how many are running, this one included. */
    public Permit acquire(byte[] key) {
        return acquireHashed(counts.keyHash().hash(key));
    }

    /** How many operations of {@code key} are running (an estimate, never below the truth). */
    public long get(long key) {
        return counts.get(key);
    }

    /** How many operations of {@code key} are running (an estimate, never below the truth). */
    public long get(CharSequence key) {
        return counts.get(key);
    }

    /** How many operations of {@code key} are running (an estimate, never below the truth). */
    public long get(byte[] key) {
        return counts.get(key);
    }

    private Permit acquireHashed(long keyHash) {
        long count = counts.incrHashed(keyHash, 1);
        return new Permit(counts, keyHash, count);
    }

    @Override
    public String toString() {
        return "Inflight(" + counts + ")";
    }

    /** One running operation of one key; see {@link Inflight}. Thread-safe. */
    public static final class Permit implements AutoCloseable {
        private static final AtomicIntegerFieldUpdater<Permit> RELEASED =
                AtomicIntegerFieldUpdater.newUpdater(Permit.class, "released");

        private final Estimator counts;
        private final long keyHash;
        private final long count;
        private volatile int released;

        private Permit(Estimator counts, long keyHash, long count) {
            this.counts = counts;
            this.keyHash = keyHash;
            this.count = count;
        }

        /** The key's running operations when this one was counted, itself included (at least 1). */
        public long count() {
            return count;
        }

        /**
         * Gives the count back; only the first call does anything.
         *
         * @return true when this call released it, false when it was already released
         */
        public boolean release() {
            if (!RELEASED.compareAndSet(this, 0, 1)) {
                return false;
            }
            counts.incrHashed(keyHash, -1);
            return true;
        }

        /** Whether {@link #release()} ran. */
        public boolean isReleased() {
            return released != 0;
        }

        /** {@link #release()}. */
        @Override
        public void close() {
            release();
        }

        @Override
        public String toString() {
            return "Permit(count " + count + (isReleased() ? ", released)" : ")");
        }
    }
}
