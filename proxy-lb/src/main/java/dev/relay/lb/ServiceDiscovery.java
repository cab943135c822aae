package dev.relay.lb;

import dev.relay.core.Backend;
import dev.relay.lb.internal.StaticDiscovery;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Where a {@link Backends} set comes from. {@link Backends#update()} runs {@link #discover()} and
 * applies the result; the set keeps the enabled and health state of every backend that survives.
 *
 * <p>Only {@link #staticSet static} discovery ships today; DNS or file discovery implement this
 * interface. Discovery may be slow (a DNS lookup), which is why it answers with a stage: an
 * implementation that blocks must do so on its own executor, never on the caller's thread.
 */
public interface ServiceDiscovery {

    /** A fixed list of backends. */
    static ServiceDiscovery staticSet(Collection<Backend> backends) {
        return new StaticDiscovery(backends);
    }

    /**
     * The current backends (duplicates are ignored, order does not matter). A failed stage leaves
     * the set as it was.
     */
    CompletionStage<List<Backend>> discover();
}
