package dev.relay.lb;

import java.time.Duration;
import java.util.PriorityQueue;

/**
 * A {@link TaskScheduler} and {@link Ticker} driven by hand: tasks run on the test's thread when
 * {@link #advance} moves time past their due time, in due order (FIFO among equal times).
 */
final class FakeScheduler implements TaskScheduler, Ticker {
    private final PriorityQueue<Entry> queue = new PriorityQueue<>();
    private long now = 1_000_000_000L;
    private long sequence;

    private final class Entry implements Comparable<Entry>, ScheduledTask {
        final long due;
        final long order;
        final Runnable task;
        boolean cancelled;

        Entry(long due, long order, Runnable task) {
            this.due = due;
            this.order = order;
            this.task = task;
        }

        @Override
        public int compareTo(Entry o) {
            int c = Long.compare(due, o.due);
            return c != 0 ? c : Long.compare(order, o.order);
        }

        @Override
        public void cancel() {
            synchronized (FakeScheduler.this) {
                cancelled = true;
                queue.remove(this);
            }
        }
    }

    @Override
    public synchronized ScheduledTask schedule(Runnable task, Duration delay) {
        Entry e = new Entry(now + Math.max(0, delay.toNanos()), sequence++, task);
        queue.add(e);
        return e;
    }

    @Override
    public synchronized long read() {
        return now;
    }

    /** Moves time forward by {@code d}, running every task that falls due, at its due time. */
    void advance(Duration d) {
        long target;
        synchronized (this) {
            target = now + d.toNanos();
        }
        for (;;) {
            Entry next;
            synchronized (this) {
                next = queue.peek();
                if (next == null || next.due > target) {
                    now = target;
                    return;
                }
                queue.poll();
                now = Math.max(now, next.due);
            }
            next.task.run();
        }
    }

    /** Runs the tasks due now. */
    void runDue() {
        advance(Duration.ZERO);
    }

    /** Tasks scheduled and not yet run nor cancelled. */
    synchronized int pending() {
        return queue.size();
    }

    /** The delay until the earliest pending task, or null. */
    synchronized Duration nextDelay() {
        Entry e = queue.peek();
        return e == null ? null : Duration.ofNanos(e.due - now);
    }
}
