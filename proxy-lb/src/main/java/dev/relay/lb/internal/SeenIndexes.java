package dev.relay.lb.internal;

/**
 * The set of backend indexes at or above 64 already offered during one selection (indexes below 64
 * live in a {@code long} bitmask on the caller's stack and never come here).
 *
 * <p>One instance per thread, reused: an {@code int} stamp per index, where "seen" means "stamped
 * with the current selection's epoch", so starting a selection costs one increment instead of a
 * clear, and a membership test is one array read. A selection started from inside another one on
 * the same thread (an accept callback that selects again) gets a private instance instead of
 * corrupting the outer one's marks.
 */
public final class SeenIndexes {
    private static final ThreadLocal<SeenIndexes> PER_THREAD = ThreadLocal.withInitial(SeenIndexes::new);

    private int[] stamps = new int[0];
    private int epoch;
    private boolean inUse;

    private SeenIndexes() {}

    /** Starts a selection over indexes below {@code size}; {@link #release()} it when done. */
    public static SeenIndexes acquire(int size) {
        SeenIndexes seen = PER_THREAD.get();
        if (seen.inUse) {
            seen = new SeenIndexes();
        }
        seen.start(size);
        return seen;
    }

    private void start(int size) {
        inUse = true;
        if (stamps.length < size) {
            stamps = new int[Math.max(size, stamps.length * 2)];
            epoch = 0;
        }
        if (++epoch == 0) {
            java.util.Arrays.fill(stamps, 0);
            epoch = 1;
        }
    }

    /** Marks {@code index} seen; {@code true} when it was not seen before in this selection. */
    public boolean add(int index) {
        if (stamps[index] == epoch) {
            return false;
        }
        stamps[index] = epoch;
        return true;
    }

    /** Ends the selection. */
    public void release() {
        inUse = false;
    }
}
