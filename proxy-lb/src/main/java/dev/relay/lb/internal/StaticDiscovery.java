package dev.relay.lb.internal;

import dev.relay.core.Backend;
import dev.relay.lb.ServiceDiscovery;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/** A fixed list of backends, replaced only when the owner applies a new list. */
public final class StaticDiscovery implements ServiceDiscovery {
    private volatile List<Backend> backends;

    /** Discovers {@code backends}. */
    public StaticDiscovery(Collection<Backend> backends) {
        set(backends);
    }

    /** Replaces the list that later discoveries return. */
    public void set(Collection<Backend> backends) {
        requireNonNull(backends, "backends");
        List<Backend> copy = new ArrayList<>(backends.size());
        int i = 0;
        for (Backend b : backends) {
            copy.add(requireNonNull(b, "backends[" + i + "]"));
            i++;
        }
        this.backends = List.copyOf(copy);
    }

    /** The current list. */
    public List<Backend> current() {
        return backends;
    }

    @Override
    public CompletionStage<List<Backend>> discover() {
        return CompletableFuture.completedFuture(backends);
    }

    @Override
    public String toString() {
        return "static" + backends;
    }
}
