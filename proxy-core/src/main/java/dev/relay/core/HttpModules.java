package dev.relay.core;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * The downstream modules of a proxy service, registered once at start-up by
 * {@link ProxyHttp#initDownstreamModules} (and by the server from its configuration).
 */
public final class HttpModules {
    private final List<HttpModuleFactory> factories = new ArrayList<>();

    /** Adds a module factory. */
    public HttpModules add(HttpModuleFactory factory) {
        factories.add(requireNonNull(factory, "factory"));
        return this;
    }

    /** The registered factories sorted by {@link HttpModuleFactory#order()} (stable), as an immutable list. */
    public List<HttpModuleFactory> ordered() {
        List<HttpModuleFactory> sorted = new ArrayList<>(factories);
        sorted.sort(Comparator.comparingInt(HttpModuleFactory::order));
        return List.copyOf(sorted);
    }
}
