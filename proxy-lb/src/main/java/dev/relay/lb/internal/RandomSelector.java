package dev.relay.lb.internal;

import dev.relay.core.Backend;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * Weighted random over one snapshot: a uniform draw in {@code [0, total)} mapped through the
 * {@link WeightTable} by binary search (equal weights skip the table). Fallback ({@link #next}) is a
 * new weighted draw among the backends other than the previous pick.
 */
public final class RandomSelector extends AbstractSelector {
    private final RandomGenerator generator;

    /**
     * A selector over {@code backends} drawing from {@code generator}, which must be safe for
     * concurrent use; {@code null} draws from {@link ThreadLocalRandom} (no contention).
     */
    public RandomSelector(List<Backend> backends, RandomGenerator generator) {
        super(backends);
        this.generator = generator;
    }

    @Override
    public int first(byte[] key) {
        if (size <= 1) {
            return size - 1;
        }
        RandomGenerator random = random();
        if (weights.isUniform()) {
            return random.nextInt(size);
        }
        return weights.indexAt(random.nextInt(weights.total()));
    }

    @Override
    int nextOther(byte[] key, int previous, int attempt) {
        RandomGenerator random = random();
        if (weights.isUniform()) {
            int k = random.nextInt(size - 1);
            return k >= previous ? k + 1 : k;
        }
        return weights.indexAtExcluding(previous, random.nextInt(weights.total() - weights.weight(previous)));
    }

    private RandomGenerator random() {
        RandomGenerator g = generator;
        return g != null ? g : ThreadLocalRandom.current();
    }
}
