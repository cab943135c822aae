package dev.relay.core;

import java.util.List;

/**
 * A load-balancing algorithm: builds an immutable {@link BackendSelector} over one snapshot of the
 * backend list. A load balancer rebuilds the selector whenever the backend set changes and swaps it
 * atomically; the implementations (round robin, random, hashing ...) live in {@code proxy-lb}.
 */
public interface SelectionAlgorithm {

    /** Builds the selector for {@code backends} (non-empty or empty, never modified afterwards). */
    BackendSelector build(List<Backend> backends);
}
