package dev.relay.transport.internal;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The background thread of a server's TLS listeners: it polls certificate files and rotates
 * session-ticket keys. Reading files must not happen on an event loop, and one daemon thread for
 * all listeners is plenty for a few {@code stat}s a second. Started on first use, stopped by
 * {@link #close()}.
 */
public final class TlsMaintenance implements AutoCloseable {
    private ScheduledExecutorService executor;
    private boolean closed;

    /** Runs {@code task} every {@code periodNanos}, first after one period. */
    synchronized ScheduledFuture<?> every(long periodNanos, Runnable task) {
        if (closed) {
            throw new IllegalStateException("TLS maintenance is closed");
        }
        if (executor == null) {
            executor = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "relay-tls-maintenance");
                t.setDaemon(true);
                return t;
            });
        }
        return executor.scheduleWithFixedDelay(() -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                // A failing task would stop its schedule; the next round may succeed.
                ProxyEngine.LOG.log(System.Logger.Level.WARNING, "TLS maintenance task failed", e);
            }
        }, periodNanos, periodNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (executor != null) {
            executor.shutdownNow();
        }
    }
}
