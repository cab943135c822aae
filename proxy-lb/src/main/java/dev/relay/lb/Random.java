package dev.relay.lb;

import dev.relay.core.Backend;
import dev.relay.core.BackendSelector;
import dev.relay.core.SelectionAlgorithm;
import dev.relay.lb.internal.RandomSelector;
import org.jspecify.annotations.Nullable;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

import static java.util.Objects.requireNonNull;

/**
 * Weighted random: each pick is backend {@code i} with probability {@code weight(i) / total},
 * drawn from {@link ThreadLocalRandom} (no shared state between threads) and mapped through a
 * cumulative weight table by binary search. No lock, no allocation.
 *
 * <p>Fallback ({@link BackendSelector#next}, when the caller rejects a pick): a new weighted draw
 * among the backends other than the rejected one; from the {@code n}-th pick on ({@code n}
 * backends) the selector walks the list in order, so {@code 2n} iterations always reach every
 * backend.
 *
 * <pre>{@code
 * LoadBalancer<Random> lb = LoadBalancer.tryFromIterable(Random.create(), "10.0.0.1:80", "10.0.0.2:80");
 * }</pre>
 */
public final class Random implements SelectionAlgorithm {
    private static final Random THREAD_LOCAL = new Random(null);

    /** Null for {@link ThreadLocalRandom}, looked up by each selecting thread. */
    private final @Nullable RandomGenerator generator;

    private Random(@Nullable RandomGenerator generator) {
        this.generator = generator;
    }

    /** Weighted random over {@link ThreadLocalRandom}. */
    public static Random create() {
        return THREAD_LOCAL;
    }

    /**
     * Weighted random over {@code generator}, for reproducible tests and simulations, for example
     * {@code Random.withGenerator(new java.util.Random(42))}. The generator is shared by every
     * thread that selects, so it must be safe for concurrent use (and then contends): prefer
     * {@link #create()} in production.
     */
    public static Random withGenerator(RandomGenerator generator) {
        return new Random(requireNonNull(generator, "generator"));
    }

    @Override
    public BackendSelector build(List<Backend> backends) {
        return new RandomSelector(requireNonNull(backends, "backends"), generator);
    }

    @Override
    public String toString() {
        return generator == null ? "Random" : "Random(" + generator + ")";
    }
}
