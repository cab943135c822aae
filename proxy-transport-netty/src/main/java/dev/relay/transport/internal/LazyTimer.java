package dev.relay.transport.internal;

import io.netty.util.concurrent.EventExecutor;

import java.util.concurrent.Future;

/**
 * A timer that is cheap to re-arm: moving its deadline only writes a field, and the scheduled task,
 * when it fires early, re-schedules itself for the rest. Netty's scheduled-task queue is a heap, so
 * a schedule plus a cancel per request (keep-alive, read timeout, pool idle) shows up in profiles;
 * with this timer a busy connection schedules about once per timeout period instead.
 * Confined to one event loop; time comes from the injected {@link EngineClock}.
 */
final class LazyTimer implements Runnable {
    private final EngineClock clock;
    private final EventExecutor loop;
    private final Runnable onExpiry;
    private Future<?> task;
    private long taskFiresAt;
    private long deadline;
    private boolean armed;

    LazyTimer(EngineClock clock, EventExecutor loop, Runnable onExpiry) {
        this.clock = clock;
        this.loop = loop;
        this.onExpiry = onExpiry;
    }

    /** Expires {@code timeoutNanos} from now, unless moved or disarmed before. */
    void arm(long timeoutNanos) {
        long now = clock.nanoTime();
        deadline = now + timeoutNanos;
        armed = true;
        if (needsEarlierTask()) {
            reschedule(now);
        }
    }

    /** Expires at {@code deadlineNanos} ({@link EngineClock#nanoTime()} time), unless moved or disarmed before. */
    void armAt(long deadlineNanos) {
        deadline = deadlineNanos;
        armed = true;
        // The clock is read only to schedule: moving a deadline the pending task covers (the usual
        // case, several times per request) costs no clock_gettime.
        if (needsEarlierTask()) {
            reschedule(clock.nanoTime());
        }
    }

    private boolean needsEarlierTask() {
        return task == null || taskFiresAt - deadline > 0;
    }

    private void reschedule(long now) {
        if (task != null) {
            task.cancel(false);
        }
        task = clock.schedule(loop, this, Math.max(0, deadline - now));
        taskFiresAt = deadline;
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
        long remaining = deadline - clock.nanoTime();
        if (remaining > 0) {
            task = clock.schedule(loop, this, remaining);
            taskFiresAt = deadline;
            return;
        }
        armed = false;
        onExpiry.run();
    }
}
