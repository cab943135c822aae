package dev.relay.lb;

import dev.relay.core.Backend;
import dev.relay.core.BackendSelector;
import dev.relay.core.SelectionAlgorithm;
import dev.relay.lb.internal.KetamaSelector;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Ketama consistent hashing that picks the same backend as nginx's {@code hash $key consistent}
 * for the same servers and key: a CRC-32 continuum with 160 points per unit of weight, each
 * backend named {@code host:port} as in an nginx {@code server} line (the literal IP when it has
 * one). Adding or removing a backend moves only the keys of that backend's arcs, about {@code 1/n}.
 * Config name {@code ketama}.
 *
 * <p>Fallback (the pick was rejected) walks the ring point by point, like nginx; so
 * {@code maxIterations} counts ring steps, and reaching all {@code n} backends takes about
 * {@code n ln n} of them. A ring is built in O(points log points), 1.6 million points for 10,000
 * backends of weight 1; rings above 4 million points are scaled down and stop matching nginx.
 *
 * <pre>{@code
 * LoadBalancer<Ketama> lb = LoadBalancer.tryFromIterable(Ketama.create(), "10.0.0.1:80", "10.0.0.2:80");
 * Backend b = lb.selectOrNull(uri.getBytes(StandardCharsets.ISO_8859_1), 256);
 * }</pre>
 */
public final class Ketama implements SelectionAlgorithm {
    private static final Ketama INSTANCE = new Ketama();

    private Ketama() {}

    /** The Ketama algorithm (stateless). */
    public static Ketama create() {
        return INSTANCE;
    }

    @Override
    public BackendSelector build(List<Backend> backends) {
        return new KetamaSelector(requireNonNull(backends, "backends"));
    }

    @Override
    public String toString() {
        return "Ketama";
    }
}
