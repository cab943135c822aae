package dev.relay.lb;

import dev.relay.lb.internal.ExecutorTaskScheduler;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Runs the background work of load balancing (discovery refreshes, health-check rounds, the end of
 * an ejection) after a delay. Injected, so that tests drive it with a manual clock instead of
 * sleeping. Tasks must be short: blocking work (a DNS query, a health probe) is handed to an
 * executor by the task, so one scheduler thread serves every load balancer.
 *
 * <pre>{@code
 * LoadBalancer<RoundRobin> lb = LoadBalancer.builder(RoundRobin.create())
 *         .discovery(dns)
 *         .scheduler(TaskScheduler.system())
 *         .build();
 * }</pre>
 */
@FunctionalInterface
public interface TaskScheduler {

    /**
     * Runs {@code task} once, after {@code delay} (zero or negative: as soon as possible).
     *
     * @return a handle to cancel it
     */
    ScheduledTask schedule(Runnable task, Duration delay);

    /**
     * The shared scheduler: one daemon thread, {@code relay-lb-scheduler}, started on first use.
     * A task that throws is logged and does not stop the thread.
     */
    static TaskScheduler system() {
        return ExecutorTaskScheduler.shared();
    }

    /** A scheduler over {@code executor}; shutting the executor down is the caller's business. */
    static TaskScheduler of(ScheduledExecutorService executor) {
        return new ExecutorTaskScheduler(executor);
    }

    /** A scheduled run, which may be cancelled until it starts. */
    @FunctionalInterface
    interface ScheduledTask {
        /** Cancels the run if it has not started; does nothing otherwise. */
        void cancel();
    }
}
