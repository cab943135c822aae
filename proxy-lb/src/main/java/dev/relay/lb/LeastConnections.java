package dev.relay.lb;

import dev.relay.core.Backend;
import dev.relay.core.BackendSelector;
import dev.relay.lb.internal.BackendState;
import dev.relay.lb.internal.LeastConnectionsSelector;

import java.util.List;

/**
 * Weighted least connections: the ready backend with the fewest requests in flight per unit of
 * weight, the in-flight counts coming from the load balancer's
 * {@link LoadBalancer#observer() observer} (the engine reports every attempt to it). An idle set is
 * picked by weight. Config name {@code least-connections}.
 *
 * <p>{@link #create()} compares every backend up to {@value #DEFAULT_EXACT_SCAN_LIMIT} backends and
 * two weighted random ones beyond (power of two choices), so a pick stays O(1) on big sets.
 *
 * <pre>{@code
 * LoadBalancer<LeastConnections> lb = LoadBalancer.builder(LeastConnections.create()).staticBackends(list).build();
 * ProxyOptions.builder().upstreamObserver(lb.observer()); // the engine feeds the in-flight counts
 * }</pre>
 */
public final class LeastConnections extends LoadAwareAlgorithm {
    /** Sets up to this size are scanned exactly by {@link #create()}. */
    public static final int DEFAULT_EXACT_SCAN_LIMIT = 64;

    private static final LeastConnections DEFAULT = new LeastConnections(DEFAULT_EXACT_SCAN_LIMIT);
    private static final LeastConnections EXACT = new LeastConnections(Integer.MAX_VALUE);
    private static final LeastConnections TWO_CHOICES = new LeastConnections(1);

    private final int exactScanLimit;

    private LeastConnections(int exactScanLimit) {
        this.exactScanLimit = exactScanLimit;
    }

    /** Exact up to {@value #DEFAULT_EXACT_SCAN_LIMIT} backends, power of two choices beyond. */
    public static LeastConnections create() {
        return DEFAULT;
    }

    /** Always compares every backend (nginx's {@code least_conn}): O(n) per pick. */
    public static LeastConnections exact() {
        return EXACT;
    }

    /** Always compares two weighted random backends (Envoy's least request): O(1) per pick. */
    public static LeastConnections powerOfTwoChoices() {
        return TWO_CHOICES;
    }

    @Override
    BackendSelector build(List<Backend> backends, BackendState[] states, Ticker ticker) {
        return new LeastConnectionsSelector(backends, states, exactScanLimit);
    }

    @Override
    public String toString() {
        return exactScanLimit == Integer.MAX_VALUE ? "LeastConnections(exact)"
                : exactScanLimit <= 1 ? "LeastConnections(two choices)" : "LeastConnections";
    }
}
