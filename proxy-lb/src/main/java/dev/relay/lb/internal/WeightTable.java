package dev.relay.lb.internal;

import dev.relay.core.Backend;

import java.util.List;

/**
 * Cumulative weights over a backend list: maps a position in {@code [0, total)} to the backend
 * whose weight interval contains it, by binary search (O(log n), no allocation). Position
 * {@code p} belongs to backend {@code i} when {@code end(i-1) <= p < end(i)}.
 *
 * <p>Weights whose sum does not fit an {@code int} are scaled down proportionally (each stays at
 * least 1), so positions are {@code int}s and products of two positions fit a {@code long}.
 */
public final class WeightTable {
    /** The largest total kept exactly; larger sums are scaled down to about this. */
    static final long MAX_TOTAL = 1L << 30;

    private final int[] weights;
    private final int[] ends;
    private final int total;
    private final boolean uniform;

    private WeightTable(int[] weights) {
        this.weights = weights;
        this.ends = new int[weights.length];
        int sum = 0;
        boolean same = true;
        for (int i = 0; i < weights.length; i++) {
            sum += weights[i];
            ends[i] = sum;
            same &= weights[i] == weights[0];
        }
        this.total = sum;
        this.uniform = same;
    }

    /** The table for {@code backends} (their weights, scaled down only when their sum exceeds 2^30). */
    public static WeightTable of(List<Backend> backends) {
        int n = backends.size();
        long sum = 0;
        for (Backend b : backends) {
            sum += b.weight();
        }
        int[] weights = new int[n];
        for (int i = 0; i < n; i++) {
            long w = backends.get(i).weight();
            weights[i] = sum <= MAX_TOTAL ? (int) w : (int) Math.max(1, w * MAX_TOTAL / sum);
        }
        return new WeightTable(weights);
    }

    /** The sum of the (possibly scaled) weights. */
    public int total() {
        return total;
    }

    /** The (possibly scaled) weight of backend {@code index}. */
    public int weight(int index) {
        return weights[index];
    }

    /** The (possibly scaled) weights, a copy. */
    public int[] weights() {
        return weights.clone();
    }

    /** Whether every backend has the same weight (selection can then ignore weights). */
    public boolean isUniform() {
        return uniform;
    }

    /** The backend owning {@code position} in {@code [0, total)}. */
    public int indexAt(int position) {
        int lo = 0;
        int hi = ends.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (ends[mid] > position) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    /**
     * The backend owning {@code position} in {@code [0, total - weight(excluded))} once the interval
     * of {@code excluded} is cut out: a weighted pick among the others, never {@code excluded}.
     */
    public int indexAtExcluding(int excluded, int position) {
        int start = ends[excluded] - weights[excluded];
        return indexAt(position >= start ? position + weights[excluded] : position);
    }
}
