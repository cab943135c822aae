package dev.relay.lb.internal;

import dev.relay.core.Backend;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What the load-aware selectors share: the per-backend {@link BackendState}s of the snapshot (in
 * flight, latency, readiness), read on every pick, and weighted random draws for sampling and
 * tie-breaking. Ready backends always beat unready ones, so a selection rarely needs a fallback
 * pick; when none of the compared backends is ready, the caller's fallback takes over.
 */
abstract class LoadAwareSelector extends AbstractSelector {
    final BackendState[] states;

    LoadAwareSelector(List<Backend> backends, BackendState[] states) {
        super(backends);
        if (states.length != size) {
            throw new IllegalArgumentException("states: " + states.length + " (expected: " + size + ", one per backend)");
        }
        this.states = states;
    }

    /** A weighted random index. */
    final int draw(ThreadLocalRandom random) {
        return weights.isUniform() ? random.nextInt(size) : weights.indexAt(random.nextInt(weights.total()));
    }

    /** A weighted random index other than {@code excluded} (there are at least two backends). */
    final int drawExcluding(ThreadLocalRandom random, int excluded) {
        if (weights.isUniform()) {
            int k = random.nextInt(size - 1);
            return k >= excluded ? k + 1 : k;
        }
        return weights.indexAtExcluding(excluded, random.nextInt(weights.total() - weights.weight(excluded)));
    }

    /** Whether {@code a} should be preferred to {@code b}: strictly lower load, ready before unready. */
    abstract boolean better(int a, int b, long now);

    /** The time for this pick, read once per pick (only peak EWMA needs it). */
    long now() {
        return 0;
    }

    /**
     * Power of two choices: two distinct weighted draws (never {@code excluded}), the better one
     * wins, the first drawn on a tie, so an idle set is picked exactly by weight.
     */
    final int twoChoices(int excluded) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        int a;
        int b;
        if (excluded < 0) {
            a = draw(random);
            b = drawExcluding(random, a);
        } else {
            if (size == 2) {
                return 1 - excluded;
            }
            a = drawExcluding(random, excluded);
            b = drawExcluding(random, excluded);
            if (b == a) {
                b = drawExcluding(random, excluded);
            }
            if (b == a) {
                return a;
            }
        }
        return better(b, a, now()) ? b : a;
    }

    @Override
    int nextOther(byte[] key, int previous, int attempt) {
        return twoChoices(previous);
    }
}
