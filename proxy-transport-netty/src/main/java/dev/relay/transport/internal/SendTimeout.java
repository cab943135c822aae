package dev.relay.transport.internal;

import io.netty.util.concurrent.EventExecutor;

import java.util.function.LongSupplier;

/**
 * The send timeout of one way to the client (nginx's {@code send_timeout}): armed while written bytes
 * wait to leave, it measures from the last progress, not the whole response. When it expires with
 * nothing waiting it stops; with fewer bytes waiting than when it was armed it starts over (they
 * left: progress); otherwise the client read nothing for the whole timeout and {@code onTimeout}
 * runs. {@link DownstreamHandler} (an HTTP/1.1 connection) and {@link Http2StreamHandler} (an
 * HTTP/2 stream) each say what "waiting" means for them. Confined to one event loop.
 */
final class SendTimeout {
    private final LazyTimer timer;
    private final long timeoutNanos;
    private final LongSupplier unsentBytes;
    private final Runnable onTimeout;
    /** What was waiting when the timer was last armed. */
    private long unsentWhenArmed;

    /**
     * @param unsentBytes the bytes written and not yet gone, 0 when nothing waits (or the way is closed)
     */
    SendTimeout(EngineClock clock, EventExecutor loop, long timeoutNanos, LongSupplier unsentBytes,
                Runnable onTimeout) {
        this.timer = new LazyTimer(clock, loop, this::expired);
        this.timeoutNanos = timeoutNanos;
        this.unsentBytes = unsentBytes;
        this.onTimeout = onTimeout;
    }

    /** Starts the timeout over when bytes wait (after a flush that left some behind, or progress). */
    void armIfUnsent() {
        long unsent = unsentBytes.getAsLong();
        if (unsent > 0) {
            unsentWhenArmed = unsent;
            timer.arm(timeoutNanos);
        }
    }

    void cancel() {
        timer.cancel();
    }

    private void expired() {
        long unsent = unsentBytes.getAsLong();
        if (unsent == 0) {
            return;
        }
        if (unsent < unsentWhenArmed) {
            unsentWhenArmed = unsent;
            timer.arm(timeoutNanos);
            return;
        }
        onTimeout.run();
    }
}
