package dev.relay.lb.internal;

import dev.relay.core.Backend;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Smooth weighted round robin over one snapshot, lock-free and allocation-free: one shared
 * {@link AtomicLong} counter indexes a periodic sequence. Three layouts, chosen at build time:
 * <ul>
 *   <li>equal weights: the sequence is {@code 0, 1, ..., n-1}, so the counter modulo n is the pick;
 *   <li>a period of at most {@link SmoothWeightedSequence#MAX_LENGTH}: nginx's smooth sequence,
 *       precomputed;
 *   <li>otherwise: position {@code (counter × stride) mod total} in the {@link WeightTable}, with a
 *       stride coprime to the total near {@code total × 0.618}, which visits every position once per
 *       period (exact weights) and spreads a backend's picks across it (golden-ratio low discrepancy).
 * </ul>
 * Fallback ({@link #next}) takes the next counter value and moves forward to the first entry of
 * the sequence that is a different backend, so a rejected backend's share goes to the others in
 * proportion to their weights.
 */
public final class RoundRobinSelector extends AbstractSelector {
    private static final long GOLDEN_64 = 0x9E3779B97F4A7C15L;

    private final AtomicLong counter = new AtomicLong();
    private final char[] sequence;
    private final long stride;

    /** A selector over {@code backends}, starting at the beginning of the sequence. */
    public RoundRobinSelector(List<Backend> backends) {
        super(backends);
        this.sequence = size == 0 || weights.isUniform() ? null : SmoothWeightedSequence.build(weights.weights());
        this.stride = sequence == null && size > 0 && !weights.isUniform() ? coprimeStride(weights.total()) : 0;
    }

    @Override
    public int first(byte[] key) {
        if (size <= 1) {
            return size - 1;
        }
        long c = counter.getAndIncrement();
        if (sequence != null) {
            return sequence[(int) Math.floorMod(c, (long) sequence.length)];
        }
        if (stride == 0) {
            return Math.floorMod(c, size);
        }
        long total = weights.total();
        return weights.indexAt((int) (Math.floorMod(c, total) * stride % total));
    }

    @Override
    int nextOther(byte[] key, int previous, int attempt) {
        long c = counter.getAndIncrement();
        if (sequence != null) {
            int len = sequence.length;
            int at = (int) Math.floorMod(c, (long) len);
            // Every backend occurs in a period, so a different one is at most one period away.
            for (int i = 0; i < len; i++) {
                int candidate = sequence[at];
                if (candidate != previous) {
                    return candidate;
                }
                at = at + 1 == len ? 0 : at + 1;
            }
            return -1;
        }
        if (stride == 0) {
            int k = Math.floorMod(c, size - 1);
            return k >= previous ? k + 1 : k;
        }
        int others = weights.total() - weights.weight(previous);
        return weights.indexAtExcluding(previous, (int) Math.floorMod(c * GOLDEN_64, (long) others));
    }

    static long coprimeStride(long total) {
        if (total <= 2) {
            return 1;
        }
        long s = Math.max(1, Math.round(total * 0.6180339887498949));
        while (gcd(s, total) != 1) {
            s++;
        }
        return s;
    }

    private static long gcd(long a, long b) {
        while (b != 0) {
            long t = a % b;
            a = b;
            b = t;
        }
        return a;
    }
}
