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
 * <p>Implementations are thread-safe: {@link #stopGracefully} and {@link #stopNow} may be called
 * from a signal-handling thread while requests are running.
 *
 * <pre>{@code
 * final class Heartbeat implements Service {
 *     private ScheduledExecutorService timer;
 *     public String name() { return "heartbeat"; }
 *     public void start(TransportRuntime runtime) { timer = ...; }
 *     public CompletionStage<Void> stopGracefully(Duration grace) { stopNow(); return Stages.done(); }
 *     public void stopNow() { timer.shutdownNow(); }
 * }
 * }</pre>
 */
public interface Service {

    /** A short name for logs. */
    String name();

    /**
     * Starts the service on the server's event loops: binds its listeners, starts its tasks. Returns
     * once the service is ready (its sockets are bound). Called once.
     *
     * @throws RuntimeException when the service cannot start (an address in use, for example); the
     *                          server then stops the services already started and fails
     */
    void start(TransportRuntime runtime);

    /**
     * Stops taking new work and lets work in flight finish, for at most {@code gracePeriod}; then
     * ends whatever is left. The stage completes when the service has stopped.
     */
    CompletionStage<Void> stopGracefully(Duration gracePeriod);

    /** Stops at once, dropping work in flight. Safe to call after {@link #stopGracefully}. */
    void stopNow();
}
