package dev.relay.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/**
 * Waits, within a bound, for a condition that another thread makes true (a pool that evicts a closed
 * connection, a counter that an event loop updates). Not a sleep: it returns as soon as the condition
 * holds, and fails with a message when the bound passes.
 *
 * <pre>{@code
 * Await.until(() -> server.idleUpstreamConnections() == 0, Duration.ofSeconds(5),
 *         () -> "idle connections: " + server.idleUpstreamConnections());
 * }</pre>
 */
public final class Await {
    private static final long POLL_NANOS = 2_000_000;

    private Await() {
    }

    /**
     * Returns once {@code condition} holds.
     *
     * @param describe what to say when it never does (evaluated only then)
     * @throws AssertionError if it still does not hold after {@code timeout}
     */
    public static void until(BooleanSupplier condition, Duration timeout, Supplier<String> describe) {
        requireNonNull(condition, "condition");
        requireNonNull(timeout, "timeout");
        requireNonNull(describe, "describe");
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline >= 0) {
                throw new AssertionError("not within " + timeout + ": " + describe.get());
            }
            java.util.concurrent.locks.LockSupport.parkNanos(POLL_NANOS);
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting: " + describe.get());
            }
        }
    }
}
