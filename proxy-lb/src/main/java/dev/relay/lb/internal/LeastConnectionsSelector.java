package dev.relay.lb.internal;

import dev.relay.core.Backend;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Least connections, weighted, over one snapshot: the ready backend with the fewest requests in
 * flight per unit of weight ({@code inFlight / weight}, compared by cross-multiplication as nginx's
 * {@code least_conn} does). Up to {@code exactScanLimit} backends every one is compared, starting
 * from a weighted random one so that ties (an idle set) go by weight; above it, two weighted random
 * candidates are compared (power of two choices), which keeps a pick O(1) and is within a small
 * factor of the exact minimum (Mitzenmacher). Fallback picks compare two candidates other than the
 * previous pick.
 */
public final class LeastConnectionsSelector extends LoadAwareSelector {
    private final int exactScanLimit;

    /**
     * A selector over {@code backends} reading {@code states} (same indexes), scanning every backend
     * when there are at most {@code exactScanLimit}.
     */
    public LeastConnectionsSelector(List<Backend> backends, BackendState[] states, int exactScanLimit) {
        super(backends, states);
        this.exactScanLimit = exactScanLimit;
    }

    @Override
    public int first(byte[] key) {
        if (size <= 1) {
            return size - 1;
        }
        if (size > exactScanLimit) {
            return twoChoices(-1);
        }
        int start = draw(ThreadLocalRandom.current());
        int best = start;
        for (int k = 1, i = start + 1; k < size; k++, i++) {
            if (i == size) {
                i = 0;
            }
            if (better(i, best, 0)) {
                best = i;
            }
        }
        return best;
    }

    @Override
    boolean better(int a, int b, long now) {
        BackendState x = states[a];
        BackendState y = states[b];
        boolean readyA = x.isReady();
        boolean readyB = y.isReady();
        if (readyA != readyB) {
            return readyA;
        }
        return (long) x.inFlight() * weights.weight(b) < (long) y.inFlight() * weights.weight(a);
    }
}
