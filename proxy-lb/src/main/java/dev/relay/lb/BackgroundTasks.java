package dev.relay.lb;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * The scheduled work of one load balancer (discovery refreshes, health rounds, ejection ends) on an
 * injected {@link TaskScheduler}: every pending run is tracked, so {@link #close()} cancels them all
 * and a run that races with close does nothing.
 */
final class BackgroundTasks {
    private final TaskScheduler scheduler;
    private final Set<Pending> pending = new HashSet<>();
    private boolean closed;

    BackgroundTasks(TaskScheduler scheduler) {
        this.scheduler = requireNonNull(scheduler, "scheduler");
    }

    /** Runs {@code task} after {@code delay}, unless closed first; whether it was scheduled. */
    boolean schedule(Runnable task, Duration delay) {
        Pending run = new Pending(task);
        synchronized (this) {
            if (closed) {
                return false;
            }
            pending.add(run);
        }
        run.handle = scheduler.schedule(run, delay);
        return true;
    }

    synchronized boolean isClosed() {
        return closed;
    }

    /** The runs scheduled and not started (for tests and diagnostics). */
    synchronized int pendingCount() {
        return pending.size();
    }

    /** Cancels every pending run; later {@link #schedule} calls do nothing. */
    void close() {
        List<Pending> cancelled;
        synchronized (this) {
            closed = true;
            cancelled = new ArrayList<>(pending);
            pending.clear();
        }
        for (Pending run : cancelled) {
            TaskScheduler.ScheduledTask handle = run.handle;
            if (handle != null) {
                handle.cancel();
            }
        }
    }

    private final class Pending implements Runnable {
        private final Runnable task;
        volatile TaskScheduler.ScheduledTask handle;

        Pending(Runnable task) {
            this.task = task;
        }

        @Override
        public void run() {
            synchronized (BackgroundTasks.this) {
                if (!pending.remove(this)) {
                    return; // cancelled by close()
                }
            }
            task.run();
        }

        @Override
        public String toString() {
            return task.toString();
        }
    }
}
