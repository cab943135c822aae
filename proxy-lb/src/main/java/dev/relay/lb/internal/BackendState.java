package dev.relay.lb.internal;

/**
 * The mutable state of one backend: administratively enabled or drained, and healthy or not.
 *
 * <p>One instance lives as long as the backend stays in the set: a {@link BackendSet} built from a
 * discovery result hands the instance of a surviving backend over to the new snapshot, so an update
 * never resets a drain or a health verdict. Health checks (active probes, and passive observation
 * of proxy failures) will flip {@link #setHealthy}; until one is configured a backend stays
 * healthy. Fields are volatile: written rarely, read on every selection without a lock.
 */
public final class BackendState {
    private volatile boolean enabled = true;
    private volatile boolean healthy = true;

    /** Whether the backend takes traffic administratively (not drained). */
    public boolean isEnabled() {
        return enabled;
    }

    /** Drains ({@code false}) or re-enables the backend, without touching its health. */
    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    /** The latest health verdict; {@code true} until a health check says otherwise. */
    public boolean isHealthy() {
        return healthy;
    }

    /** Records a health verdict (for health checks). */
    public void setHealthy(boolean healthy) {
        this.healthy = healthy;
    }

    /** Healthy and enabled: the backend may be selected. */
    public boolean isReady() {
        return healthy && enabled;
    }

    @Override
    public String toString() {
        return (enabled ? "enabled" : "disabled") + (healthy ? ",healthy" : ",unhealthy");
    }
}
