package dev.relay.lb;

import dev.relay.core.Backend;
import dev.relay.core.BackendSelector;
import dev.relay.core.SelectionAlgorithm;
import dev.relay.lb.internal.RoundRobinSelector;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Smooth weighted round robin, as nginx does it: weights 5, 1, 1 for a, b, c give
 * {@code a a b a c a a} and repeat, so a heavy backend's picks are spread out rather than
 * bunched. Equal weights give plain alternation.
 *
 * <p>Each selector built by {@link #build} has its own counter, starting at the beginning of the
 * sequence: a load balancer restarts the sequence when its backend set changes. Selection is one
 * atomic increment and an array read (no lock, no allocation). Periods longer than 65,536 picks
 * (after dividing the weights by their greatest common divisor) are not precomputed; they use a
 * golden-ratio stride through a cumulative weight table instead, which keeps exact weights per
 * period and well-spread picks, but not nginx's exact order.
 *
 * <p>Fallback ({@link BackendSelector#next}, when the caller rejects a pick): the next entry of
 * the sequence that is a different backend, so the rejected backend's share spreads over the
 * others by weight; from the {@code n}-th pick on ({@code n} backends) the selector walks the list
 * in order, so {@code 2n} iterations always reach every backend.
 *
 * <pre>{@code
 * LoadBalancer<RoundRobin> lb = LoadBalancer.tryFromIterable(RoundRobin.create(), "10.0.0.1:80", "10.0.0.2:80");
 * }</pre>
 */
public final class RoundRobin implements SelectionAlgorithm {
    private static final RoundRobin INSTANCE = new RoundRobin();

    private RoundRobin() {}

    /** The round-robin algorithm (stateless: the counter lives in each built selector). */
    public static RoundRobin create() {
        return INSTANCE;
    }

    @Override
    public BackendSelector build(List<Backend> backends) {
        return new RoundRobinSelector(requireNonNull(backends, "backends"));
    }

    @Override
    public String toString() {
        return "RoundRobin";
    }
}
