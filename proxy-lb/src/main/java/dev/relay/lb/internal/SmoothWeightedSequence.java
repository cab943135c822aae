package dev.relay.lb.internal;

/**
 * Precomputes one period of nginx's smooth weighted round robin.
 *
 * <p>Each round every backend's current weight grows by its weight, the largest (the first in list
 * order on a tie) is picked and loses the total. After {@code total} rounds every backend was
 * picked exactly {@code weight} times and all current weights are back to zero, so the sequence
 * is periodic: indexing it with a counter is the algorithm, lock-free. Weights are first divided
 * by their greatest common divisor (scaling all weights does not change the picks), which keeps
 * the period short.
 *
 * <p>The period is stored as a {@code char[]} (backend indexes below 65,536, which always holds
 * because a period is at least one entry per backend and is capped at {@link #MAX_LENGTH}).
 */
public final class SmoothWeightedSequence {
    /** The longest period precomputed (128 KiB); longer ones use {@link WeightTable} instead. */
    public static final int MAX_LENGTH = 1 << 16;

    /** A bound on build work (period × backends) so a rebuild never stalls its thread for long. */
    public static final long MAX_BUILD_STEPS = 1L << 22;

    private SmoothWeightedSequence() {}

    /**
     * One period of the smooth weighted sequence for {@code weights}, or {@code null} when it would
     * be longer than {@link #MAX_LENGTH} or cost more than {@link #MAX_BUILD_STEPS} to build.
     */
    public static char[] build(int[] weights) {
        int n = weights.length;
        if (n == 0) {
            return null;
        }
        int g = 0;
        for (int w : weights) {
            g = gcd(g, w);
        }
        long total = 0;
        int[] reduced = new int[n];
        for (int i = 0; i < n; i++) {
            reduced[i] = weights[i] / g;
            total += reduced[i];
        }
        if (total > MAX_LENGTH || total * n > MAX_BUILD_STEPS) {
            return null;
        }
        char[] sequence = new char[(int) total];
        long[] current = new long[n];
        for (int round = 0; round < sequence.length; round++) {
            int best = 0;
            for (int i = 0; i < n; i++) {
                current[i] += reduced[i];
                if (current[i] > current[best]) {
                    best = i;
                }
            }
            current[best] -= total;
            sequence[round] = (char) best;
        }
        return sequence;
    }

    static int gcd(int a, int b) {
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return a;
    }
}
