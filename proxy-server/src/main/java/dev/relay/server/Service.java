package dev.relay.server;

import dev.relay.transport.TransportRuntime;

import java.time.Duration;
import java.util.concurrent.CompletionStage;

/**
 * Something a {@link Server} runs for the life of the process: a listening proxy
 * ({@link HttpProxyService}) or a background task. The server starts services in the order they
 * were added and stops them in the reverse order, so a service may rely on those added before it
 * (Pingora's service dependencies, as a simple chain).
 *
 * <p>The lifecycle verbs are those of every Relay component: {@link #start} (once),
 * {@link #stop(Duration)} (graceful: finish the work in flight within a grace period) and
 * {@link #close()} (immediate). A service may be closed after, or during, a graceful stop.
 *
 * <p>Implementations are thread-safe: {@link #stop} and {@link #close} may be called from a
 * signal-handling thread while requests are running.
 *
 * <pre>{@code
 * final class Heartbeat implements Service {
 *     private ScheduledExecutorService timer;
 *     public String name() { return "heartbeat"; }
 *     public void start(TransportRuntime runtime) { timer = ...; }
 *     public CompletionStage<Void> stop(Duration grace) { close(); return Stages.done(); }
 *     public void close() { timer.shutdownNow(); }
 * }
 * }</pre>
 */
public interface Service extends AutoCloseable {

    /** A short name for logs. */
    String name();

    /**
     * Starts the service on the server's event loops: binds its listeners, starts its tasks. Returns
     * once the service is ready (its sockets are bound). Called once.
     *
     * @throws RuntimeException when the service cannot start (an address in use, for example); the
     *                          server then closes the services already started and fails
     */
    void start(TransportRuntime runtime);

    /**
     * Graceful stop: stops taking new work and lets work in flight finish, for at most
     * {@code gracePeriod}; then ends whatever is left. Returns at once; the stage completes when the
     * service has stopped.
     */
    CompletionStage<Void> stop(Duration gracePeriod);

    /**
     * Immediate stop: drops work in flight and releases everything. Safe to call more than once,
     * and after or during {@link #stop}.
     */
    @Override
    void close();
}
