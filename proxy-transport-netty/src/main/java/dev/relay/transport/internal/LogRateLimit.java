package dev.relay.transport.internal;

import java.util.concurrent.TimeUnit;

/**
 * A token bucket for log lines, so that a flood of one kind of failure is a few lines a second and a
 * count of the rest, never a flood of the log. Kept as one timestamp (GCRA): a line may go when that
 * time plus one line's interval is not ahead of now; it never lags now by more than a second, which
 * makes a full bucket one second's worth of lines. Thread-safe: failures are rare next to requests,
 * and a flood is what this guards, so a lock held for a few instructions is cheap enough.
 */
final class LogRateLimit {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private final EngineClock clock;
    private final long nanosPerLine;
    private long bucketNanos;
    private long suppressed;

    /** At most {@code linesPerSecond} lines a second, in bursts of as many; full at the time of {@code clock}. */
    LogRateLimit(EngineClock clock, int linesPerSecond) {
        this.clock = clock;
        this.nanosPerLine = SECOND / linesPerSecond;
        this.bucketNanos = clock.nanoTime() - SECOND;
    }

    /**
     * A token for one line: -1 when the bucket is empty (the line is counted as suppressed), else how
     * many lines were suppressed since the last one let through (for a summary line before it).
     */
    synchronized long permit() {
        long now = clock.nanoTime();
        long next = Math.max(bucketNanos, now - SECOND) + nanosPerLine;
        if (next - now > 0) {
            suppressed++;
            return -1;
        }
        bucketNanos = next;
        long heldBack = suppressed;
        suppressed = 0;
        return heldBack;
    }
}
