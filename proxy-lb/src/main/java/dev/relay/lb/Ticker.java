package dev.relay.lb;

/**
 * A source of nanosecond time for load balancing (health thresholds, ejection back-off, latency
 * decay), injected so that tests advance time by hand instead of sleeping. Only differences
 * between two readings mean anything, as with {@link System#nanoTime()}.
 *
 * <pre>{@code
 * AtomicLong now = new AtomicLong();
 * Ticker manual = now::get; // a test moves time with now.addAndGet(...)
 * }</pre>
 */
@FunctionalInterface
public interface Ticker {

    /** The current time in nanoseconds, from an arbitrary origin. */
    long read();

    /** {@link System#nanoTime()}. */
    static Ticker system() {
        return SystemTicker.INSTANCE;
    }
}

/** The one system ticker (an enum: a singleton with a readable name). */
enum SystemTicker implements Ticker {
    INSTANCE;

    @Override
    public long read() {
        return System.nanoTime();
    }
}
