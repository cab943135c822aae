package dev.relay.lb.internal;

import dev.relay.core.Backend;
import dev.relay.lb.Ticker;

import java.util.List;

/**
 * Power of two choices over peak-EWMA latency, as Finagle and Linkerd do: two weighted random
 * candidates, the one with the lower cost wins, where cost is
 * {@code latencyEstimate × (inFlight + 1)}. Weights act through the draw (a backend is a candidate
 * in proportion to its weight), so an idle set, where costs tie, is picked exactly by weight. The estimate reacts at once to a slower
 * response (peak) and decays toward faster ones over the decay time; a backend with no samples
 * costs the initial estimate. See {@link BackendState#recordLatency} and
 * {@link BackendState#latencyEstimate}.
 */
public final class PeakEwmaSelector extends LoadAwareSelector {
    private final Ticker clock;
    private final double decayNanos;
    private final double initialNanos;

    /**
     * A selector over {@code backends} reading {@code states} (same indexes) at the time of
     * {@code clock}.
     */
    public PeakEwmaSelector(List<Backend> backends, BackendState[] states, Ticker clock,
                            long decayNanos, long initialNanos) {
        super(backends, states);
        this.clock = clock;
        this.decayNanos = decayNanos;
        this.initialNanos = initialNanos;
    }

    @Override
    public int first(byte[] key) {
        if (size <= 1) {
            return size - 1;
        }
        return twoChoices(-1);
    }

    @Override
    long now() {
        return clock.read();
    }

    /** The cost the selector compares for backend {@code index} at {@code now} (for tests and diagnostics). */
    public double cost(int index, long now) {
        BackendState s = states[index];
        return s.latencyEstimate(now, decayNanos, initialNanos) * (s.inFlight() + 1);
    }

    @Override
    boolean better(int a, int b, long now) {
        boolean readyA = states[a].isReady();
        boolean readyB = states[b].isReady();
        if (readyA != readyB) {
            return readyA;
        }
        return cost(a, now) < cost(b, now);
    }
}
