package dev.relay.transport.internal;

import io.netty.util.concurrent.EventExecutor;

import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The time and the timers of the engine: every timeout of the transport (request deadline, client
 * header, body and keep-alive timeouts, upstream read and write timeouts, pool idle timeout, retry
 * back-off) reads this clock and schedules through it. Injected, so that tests drive timeouts by
 * advancing a manual clock instead of waiting on real time (as proxy-lb's {@code Ticker} and
 * {@code TaskScheduler} do).
 *
 * <p>Tasks run on the event loop they are scheduled for: the engine's state is confined to it.
 */
public interface EngineClock {

    /** The current time in nanoseconds, from an arbitrary origin (as {@link System#nanoTime()}). */
    long nanoTime();

    /**
     * The wall-clock time in epoch milliseconds (as {@link System#currentTimeMillis()}): what HTTP dates
     * and cached responses' ages are reckoned in. A manual clock moves it together with {@link #nanoTime()}.
     */
    default long currentTimeMillis() {
        return System.currentTimeMillis();
    }

    /**
     * Runs {@code task} on {@code loop} once {@code delayNanos} have passed on this clock.
     *
     * @return a handle whose {@code cancel(false)} stops the task if it has not run yet
     */
    Future<?> schedule(EventExecutor loop, Runnable task, long delayNanos);

    /** Real time: {@link System#nanoTime()} and the event loop's own scheduler. */
    static EngineClock system() {
        return SystemEngineClock.INSTANCE;
    }
}

/** The one real clock (an enum: a singleton with a readable name). */
enum SystemEngineClock implements EngineClock {
    INSTANCE;

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    @Override
    public Future<?> schedule(EventExecutor loop, Runnable task, long delayNanos) {
        return loop.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
    }
}
