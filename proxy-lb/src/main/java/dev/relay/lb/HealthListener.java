package dev.relay.lb;

import dev.relay.core.Backend;
import org.jspecify.annotations.Nullable;

import java.time.Duration;

/**
 * Hears when a backend's health changes: an active health check flipped it (after its threshold of
 * consecutive results), or passive health ejected or reinstated it. Called on the thread that saw
 * the change (a health-check thread, or an event loop for passive health): implementations must be
 * quick and must not block; an exception they throw is logged and otherwise ignored. Every change is
 * also logged on {@code System.Logger} {@code dev.relay.lb.health}.
 *
 * <pre>{@code
 * HealthListener listener = new HealthListener() {
 *     public void healthChanged(Backend backend, boolean healthy, Throwable cause) {
 *         metrics.gauge("backend_healthy", backend.toString()).set(healthy ? 1 : 0);
 *     }
 * };
 * }</pre>
 */
public interface HealthListener {
    /** A listener that ignores everything. */
    HealthListener NONE = new HealthListener() {};

    /**
     * An active health check flipped {@code backend} to {@code healthy}; {@code cause} is the
     * failure of the last check when it became unhealthy, {@code null} otherwise.
     */
    default void healthChanged(Backend backend, boolean healthy, @Nullable Throwable cause) {}

    /** Passive health ejected {@code backend} for {@code duration}, for {@code reason}. */
    default void ejected(Backend backend, Duration duration, String reason) {}

    /** An ejected {@code backend} served its probe request successfully and is back in service. */
    default void reinstated(Backend backend) {}
}
