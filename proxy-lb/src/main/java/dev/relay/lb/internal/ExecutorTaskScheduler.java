package dev.relay.lb.internal;

import dev.relay.lb.TaskScheduler;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/** A {@link TaskScheduler} over a {@link ScheduledExecutorService}; failures of a task are logged. */
public final class ExecutorTaskScheduler implements TaskScheduler {
    private static final System.Logger LOG = System.getLogger("dev.relay.lb.scheduler");

    private final ScheduledExecutorService executor;

    /** A scheduler over {@code executor}. */
    public ExecutorTaskScheduler(ScheduledExecutorService executor) {
        this.executor = requireNonNull(executor, "executor");
    }

    /** The shared scheduler on one daemon thread. */
    public static TaskScheduler shared() {
        return Shared.INSTANCE;
    }

    @Override
    public ScheduledTask schedule(Runnable task, Duration delay) {
        requireNonNull(task, "task");
        requireNonNull(delay, "delay");
        long nanos = delay.isNegative() ? 0 : saturatedNanos(delay);
        ScheduledFuture<?> future = executor.schedule(() -> {
            try {
                task.run();
            } catch (Throwable t) {
                LOG.log(System.Logger.Level.WARNING, "background task " + task + " failed", t);
            }
        }, nanos, TimeUnit.NANOSECONDS);
        return () -> future.cancel(false);
    }

    static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    @Override
    public String toString() {
        return "TaskScheduler(" + executor + ")";
    }

    private static final class Shared {
        static final TaskScheduler INSTANCE = new ExecutorTaskScheduler(Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("relay-lb-scheduler")));
    }
}
