package dev.relay.lb;

import dev.relay.core.Backend;
import dev.relay.core.BackendSelector;
import dev.relay.core.SelectionAlgorithm;
import dev.relay.lb.internal.MaglevSelector;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Maglev consistent hashing (Google's network load balancer, also in Envoy): a prime-sized lookup
 * table (at least 65,537 slots, 100 per backend) shared out among the backends by weight, so a key
 * is picked with one hash and one array read whatever the set size, and a change of the set moves
 * little more than the changed backend's share of the keys. Config name {@code maglev}.
 *
 * <pre>{@code
 * LoadBalancer<Maglev> lb = LoadBalancer.tryFromIterable(Maglev.create(), "10.0.0.1:80", "10.0.0.2:80");
 * Backend b = lb.selectOrNull(sessionId, 256);
 * }</pre>
 */
public final class Maglev implements SelectionAlgorithm {
    private static final Maglev INSTANCE = new Maglev();

    private Maglev() {}

    /** The Maglev algorithm (stateless). */
    public static Maglev create() {
        return INSTANCE;
    }

    @Override
    public BackendSelector build(List<Backend> backends) {
        return new MaglevSelector(requireNonNull(backends, "backends"));
    }

    @Override
    public String toString() {
        return "Maglev";
    }
}
