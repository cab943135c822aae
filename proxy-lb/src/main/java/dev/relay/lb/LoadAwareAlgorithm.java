package dev.relay.lb;

import dev.relay.core.Backend;
import dev.relay.core.BackendSelector;
import dev.relay.core.SelectionAlgorithm;
import dev.relay.lb.internal.BackendState;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * An algorithm that reads per-backend load signals (in flight, latency). A {@link LoadBalancer}
 * builds it over the states of its {@link Backends} snapshot, which its
 * {@link LoadBalancer#observer() observer} keeps up to date; built alone ({@link #build(List)}) it
 * gets fresh states that nothing updates, which only tests want.
 */
abstract class LoadAwareAlgorithm implements SelectionAlgorithm {

    /** The selector over {@code backends} reading {@code states} (same indexes) at the time of {@code ticker}. */
    abstract BackendSelector build(List<Backend> backends, BackendState[] states, Ticker ticker);

    @Override
    public final BackendSelector build(List<Backend> backends) {
        requireNonNull(backends, "backends");
        BackendState[] states = new BackendState[backends.size()];
        for (int i = 0; i < states.length; i++) {
            states[i] = new BackendState();
        }
        return build(backends, states, Ticker.system());
    }
}
