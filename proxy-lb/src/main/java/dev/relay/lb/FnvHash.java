package dev.relay.lb;

import dev.relay.core.Backend;
import dev.relay.core.BackendSelector;
import dev.relay.core.SelectionAlgorithm;
import dev.relay.lb.internal.FnvHashSelector;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Weighted hashing with FNV-1a (64-bit), Pingora's {@code FNVHash}: a key always goes to the same
 * backend while the set is unchanged, and keys spread over backends in proportion to their
 * weights. Not consistent: adding or removing a backend remaps most keys (see {@link Ketama} and
 * {@link Maglev}). Config name {@code fnv}.
 *
 * <pre>{@code
 * LoadBalancer<FnvHash> lb = LoadBalancer.tryFromIterable(FnvHash.create(), "10.0.0.1:80", "10.0.0.2:80");
 * Backend b = lb.selectOrNull(clientIp.getBytes(StandardCharsets.US_ASCII), 256);
 * }</pre>
 */
public final class FnvHash implements SelectionAlgorithm {
    private static final FnvHash INSTANCE = new FnvHash();

    private FnvHash() {}

    /** The FNV hashing algorithm (stateless). */
    public static FnvHash create() {
        return INSTANCE;
    }

    @Override
    public BackendSelector build(List<Backend> backends) {
        return new FnvHashSelector(requireNonNull(backends, "backends"));
    }

    @Override
    public String toString() {
        return "FnvHash";
    }
}
