package dev.relay.server.internal;

import dev.relay.server.Service;
import dev.relay.server.internal.proxy.ConfiguredProxy;
import dev.relay.transport.TransportRuntime;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * The background work of the upstream groups (discovery, active health checks, ejection timers) for
 * the life of the server. The groups start it themselves when they are built (so a reload starts the
 * work of the groups it adds, and closes that of the groups it drops); this service ends it when the
 * server stops. It runs just before the proxy, so it stops after the proxy has drained.
 */
public final class UpstreamGroupsService implements Service {
    private final ConfiguredProxy proxy;

    /** The service of {@code proxy}'s groups. */
    public UpstreamGroupsService(ConfiguredProxy proxy) {
        this.proxy = requireNonNull(proxy, "proxy");
    }

    @Override
    public String name() {
        return "upstream-groups";
    }

    @Override
    public void start(TransportRuntime runtime) {
        // Already running: the groups started when they were built.
    }

    @Override
    public CompletionStage<Void> stop(Duration gracePeriod) {
        proxy.close();
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {
        proxy.close();
    }
}
