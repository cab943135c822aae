package dev.relay.transport.internal;

import io.netty.util.concurrent.EventExecutor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;

/**
 * An {@link EngineClock} that moves only when a test says so: the engine's timeouts fire when the
 * test {@link #advance advances} time past them, never on their own, so a timeout test waits for no
 * real timer. Due tasks run on their event loops, as the real clock's would. Thread-safe.
 */
public final class ManualEngineClock implements EngineClock {
    private final PriorityQueue<Task> tasks = new PriorityQueue<>();
    /** The wall clock starts at the real time when the clock is made, and moves only as it is advanced. */
    private final long wallStartMillis = System.currentTimeMillis();
    private long now = 1_000_000_000L;
    private long sequence;

    @Override
    public long currentTimeMillis() {
        return wallStartMillis + (nanoTime() - 1_000_000_000L) / 1_000_000L;
    }

    @Override
    public synchronized long nanoTime() {
        return now;
    }

    @Override
    public synchronized Future<?> schedule(EventExecutor loop, Runnable task, long delayNanos) {
        Task t = new Task(now + Math.max(0, delayNanos), sequence++, loop, task);
        tasks.add(t);
        return t.handle;
    }

    /** Tasks scheduled since the clock was made, whatever became of them. */
    public synchronized long scheduledTasks() {
        return sequence;
    }

    /** Scheduled tasks that have neither run nor been cancelled. */
    public synchronized int pendingTasks() {
        int n = 0;
        for (Task t : tasks) {
            if (!t.handle.isDone()) {
                n++;
            }
        }
        return n;
    }

    /** Moves time forward by {@code step} and runs, on their event loops, the tasks that came due. */
    public void advance(Duration step) {
        List<Task> due = new ArrayList<>();
        synchronized (this) {
            now += step.toNanos();
            while (!tasks.isEmpty() && tasks.peek().at <= now) {
                due.add(tasks.poll());
            }
        }
        for (Task t : due) {
            t.loop.execute(() -> {
                if (t.handle.complete(null)) {
                    t.task.run();
                }
            });
        }
    }

    /**
     * Advances time by {@code step} at a time until {@code done} holds, giving the event loops a
     * moment between steps to run what came due; fails after {@code maxSteps} steps. For outcomes
     * that need a timer armed by something the test cannot see directly (a read on the proxy).
     */
    public void advanceUntil(Duration step, int maxSteps, BooleanSupplier done) throws InterruptedException {
        for (int i = 0; i < maxSteps; i++) {
            if (done.getAsBoolean()) {
                return;
            }
            advance(step);
            Thread.sleep(5);
        }
        if (!done.getAsBoolean()) {
            throw new AssertionError("condition not met after advancing " + step.multipliedBy(maxSteps));
        }
    }

    private static final class Task implements Comparable<Task> {
        final long at;
        final long seq;
        final EventExecutor loop;
        final Runnable task;
        /** Completed when the task runs, cancelled when cancelled: whichever comes first wins. */
        final CompletableFuture<Void> handle = new CompletableFuture<>();

        Task(long at, long seq, EventExecutor loop, Runnable task) {
            this.at = at;
            this.seq = seq;
            this.loop = loop;
            this.task = task;
        }

        @Override
        public int compareTo(Task o) {
            return at != o.at ? Long.compare(at, o.at) : Long.compare(seq, o.seq);
        }
    }
}
