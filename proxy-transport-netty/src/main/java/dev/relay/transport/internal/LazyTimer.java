package dev.relay.transport.internal;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * A timer that is cheap to re-arm: moving its deadline only writes a field, and the scheduled task,
 * when it fires early, re-schedules itself for the rest. Netty's scheduled-task queue is a heap, so
 * a schedule plus a cancel per request (keep-alive, read timeout, pool idle) shows up in profiles;
 * with this timer a busy connection schedules about once per timeout period instead.
 * Confined to one event loop.
 */
final class LazyTimer implements Runnable {
    private final EventLoop loop;
    private final Runnable onExpiry;
    private ScheduledFuture<?> task;
    private long taskFiresAt;
    private long deadline;
    private boolean armed;

    LazyTimer(EventLoop loop, Runnable onExpiry) {
        this.loop = loop;
        this.onExpiry = onExpiry;
    }

    /** Expires {@code timeoutNanos} from now, unless moved or disarmed before. */
    void arm(long timeoutNanos) {
        long now = System.nanoTime();
        deadline = now + timeoutNanos;
        armed = true;
        if (task == null || taskFiresAt - deadline > 0) {
            if (task != null) {
                task.cancel(false);
            }
            task = loop.schedule(this, timeoutNanos, TimeUnit.NANOSECONDS);
            taskFiresAt = deadline;
        }
    }

    /** Stops the timer (the pending task, if any, will find it disarmed and do nothing). */
    void disarm() {
        armed = false;
    }

    /** Stops the timer and removes its task: for when the owner goes away for good. */
    void cancel() {
        armed = false;
        if (task != null) {
            task.cancel(false);
            task = null;
        }
    }

    boolean isArmed() {
        return armed;
    }

    @Override
    public void run() {
        task = null;
        if (!armed) {
            return;
        }
        long remaining = deadline - System.nanoTime();
        if (remaining > 0) {
            task = loop.schedule(this, remaining, TimeUnit.NANOSECONDS);
            taskFiresAt = deadline;
            return;
        }
        armed = false;
        onExpiry.run();
    }
}
