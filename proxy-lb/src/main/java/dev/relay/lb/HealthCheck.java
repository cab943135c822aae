package dev.relay.lb;

import dev.relay.core.Backend;

/**
 * An active health check: probes one backend and says whether it is healthy. A
 * {@link LoadBalancer} runs it for every backend of its set on a schedule
 * ({@link LoadBalancer.Builder#healthCheck}), and flips a backend only after
 * {@link #consecutiveSuccesses()} or {@link #consecutiveFailures()} results in a row.
 *
 * <p>{@link #check} runs on a health-check thread, never on an event loop, so it may block, but
 * within its own timeouts. The built-in checks: {@link TcpHealthCheck} (connect, optionally TLS)
 * and {@link HttpHealthCheck} (a request, expected statuses or a validator).
 *
 * <pre>{@code
 * HealthCheck check = HealthCheck.http("api.example").path("/healthz").consecutiveFailures(3).build();
 * HealthCheck custom = backend -> { if (!myProbe(backend)) throw new IOException("not ready"); };
 * }</pre>
 */
@FunctionalInterface
public interface HealthCheck {

    /**
     * Probes {@code backend}: returns when it is healthy, throws an exception saying why when it is
     * not. Blocks at most for the check's timeouts.
     */
    void check(Backend backend) throws Exception;

    /** Consecutive successes that make an unhealthy backend healthy (default 1). */
    default int consecutiveSuccesses() {
        return 1;
    }

    /** Consecutive failures that make a healthy backend unhealthy (default 1). */
    default int consecutiveFailures() {
        return 1;
    }

    /** Releases what the check keeps between rounds (reused connections); called when its load balancer closes. */
    default void close() {}

    /** A TCP connect check (Pingora's {@code TcpHealthCheck}). */
    static TcpHealthCheck.Builder tcp() {
        return TcpHealthCheck.builder();
    }

    /** An HTTP check sending {@code Host: host} (Pingora's {@code HttpHealthCheck}). */
    static HttpHealthCheck.Builder http(String host) {
        return HttpHealthCheck.builder(host);
    }
}
