package dev.relay.lb;

import dev.relay.core.Backend;
import dev.relay.lb.internal.BackendSet;
import dev.relay.lb.internal.BackendState;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * One round of active health checks over the current snapshot: every backend is checked once, at
 * most {@code parallelism} at a time on the executor (1: one after another), and each result goes
 * to the backend's streak counters, which flip its health after the check's threshold.
 */
final class HealthCheckRunner {
    static final System.Logger LOG = System.getLogger("dev.relay.lb.health");

    private final HealthCheck check;
    private final int parallelism;
    private final Executor executor;
    private final HealthListener listener;
    private final BooleanSupplier closed;

    HealthCheckRunner(HealthCheck check, int parallelism, Executor executor, HealthListener listener, BooleanSupplier closed) {
        this.check = check;
        this.parallelism = parallelism;
        this.executor = executor;
        this.listener = listener;
        this.closed = closed;
    }

    HealthCheck check() {
        return check;
    }

    /** Checks every backend of {@code set}; the stage completes when all checks have ended. */
    CompletionStage<Void> round(BackendSet set) {
        int n = set.size();
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (n == 0) {
            done.complete(null);
            return done;
        }
        AtomicInteger next = new AtomicInteger();
        AtomicInteger remaining = new AtomicInteger(n);
        Runnable worker = () -> {
            for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
                checkOne(set.backend(i), set.state(i));
                if (remaining.decrementAndGet() == 0) {
                    done.complete(null);
                }
            }
        };
        int workers = Math.min(parallelism, n);
        for (int w = 0; w < workers; w++) {
            try {
                executor.execute(worker);
            } catch (RejectedExecutionException e) {
                if (w == 0) {
                    done.completeExceptionally(e);
                    return done;
                }
                break; // the workers already started take the rest
            }
        }
        return done;
    }

    private void checkOne(Backend backend, BackendState state) {
        if (closed.getAsBoolean()) {
            return;
        }
        Throwable failure = null;
        try {
            check.check(backend);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = e;
        } catch (Throwable t) {
            failure = t;
        }
        if (closed.getAsBoolean()) {
            return; // a verdict reached after close is not applied
        }
        boolean flipped = state.recordCheck(failure == null, check.consecutiveSuccesses(), check.consecutiveFailures());
        if (flipped) {
            boolean healthy = state.isHealthy();
            if (healthy) {
                LOG.log(System.Logger.Level.INFO, "backend {0} is healthy again ({1} consecutive successful checks)",
                        backend, check.consecutiveSuccesses());
            } else {
                LOG.log(System.Logger.Level.WARNING, "backend {0} is unhealthy after {1} consecutive failed checks: {2}",
                        backend, check.consecutiveFailures(), String.valueOf(failure));
            }
            try {
                listener.healthChanged(backend, healthy, healthy ? null : failure);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "health listener failed for " + backend, e);
            }
        } else if (failure != null) {
            LOG.log(System.Logger.Level.DEBUG, "health check of {0} failed: {1}", backend, String.valueOf(failure));
        }
    }
}
