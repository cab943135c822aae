package dev.relay.server.internal.proxy;

import dev.relay.core.Backend;
import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.ProxyError;

import java.util.Arrays;
import java.util.List;
import java.util.function.BiPredicate;

/**
 * Failover state of one HTTP request or one stream connection: the backends it failed to reach, and
 * whether no backend of its group was ready (then any enabled one may be picked, as nginx tries all
 * its servers when every one is marked down: a health check that is wrong for every backend must
 * not take the whole group offline; drained backends stay out). It is also the selection filter
 * handed to the load balancer, which saves a lambda per pick. Confined to one event loop.
 */
final class BackendPicks implements BiPredicate<Backend, Boolean> {
    /**
     * The filter of a request that failed no backend yet and has not fallen back to any readiness: what
     * a new BackendPicks would test, so the common request (one pick that succeeds) makes none.
     */
    static final BiPredicate<Backend, Boolean> UNTRIED = (candidate, ready) -> ready;

    private UpstreamGroup group;
    private Backend[] failed;
    private int failedCount;
    private boolean anyReadiness;

    /** The next backend of {@code group} for {@code key} that was not tried and failed; null when none is left. */
    Backend next(UpstreamGroup group, byte[] key) {
        this.group = group;
        Backend backend = group.select(key, this);
        if (backend == null && !anyReadiness) {
            anyReadiness = true;
            backend = group.select(key, this);
        }
        return backend;
    }

    /**
     * The next backend of {@code group} when a pick with {@link #UNTRIED} found none ready: any
     * enabled one from now on (what {@link #next} does after its own first select).
     */
    Backend nextOfAnyReadiness(UpstreamGroup group, byte[] key) {
        this.group = group;
        anyReadiness = true;
        return group.select(key, this);
    }

    /** The error of a pick that found no backend left in {@code group}. */
    static ProxyError noneLeft(UpstreamGroup group) {
        return ProxyError.of(ErrorType.NO_PEER, ErrorSource.INTERNAL,
                "upstream '" + group.name() + "': no backend left to try", null);
    }

    /** Whether {@code group} has a backend left that was not tried and failed. */
    boolean anotherLeft(UpstreamGroup group) {
        return failedCount < group.size();
    }

    /** Remembers that {@code b} could not be reached. */
    void markFailed(Backend b) {
        if (hasFailed(b)) {
            return;
        }
        if (failed == null) {
            failed = new Backend[4];
        } else if (failedCount == failed.length) {
            failed = Arrays.copyOf(failed, failedCount * 2);
        }
        failed[failedCount++] = b;
    }

    /** The backends that could not be reached, in order. */
    List<Backend> failedBackends() {
        return failed == null ? List.of() : List.of(Arrays.copyOf(failed, failedCount));
    }

    @Override
    public boolean test(Backend candidate, Boolean ready) {
        if (hasFailed(candidate)) {
            return false;
        }
        return ready || (anyReadiness && group.loadBalancer().backends().isEnabled(candidate));
    }

    private boolean hasFailed(Backend b) {
        for (int i = 0; i < failedCount; i++) {
            if (failed[i].equals(b)) {
                return true;
            }
        }
        return false;
    }
}
