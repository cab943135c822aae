package dev.relay.server.internal;

import dev.relay.lb.LoadBalancer;
import dev.relay.server.Service;
import dev.relay.transport.TransportRuntime;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * {@code Services.background(name, loadBalancer)}: runs a load balancer's background work (discovery,
 * health checks, ejection timers) for the life of the server, as Pingora's {@code background_service}
 * runs a {@code LoadBalancer}. Starting it starts that work without waiting for the first discovery
 * (the proxy may start meanwhile and select from the backends known so far); stopping it closes the
 * load balancer, whose selection keeps working on the last state.
 */
public final class LoadBalancerService implements Service {
    private final String name;
    private final LoadBalancer<?> loadBalancer;

    /** The service named {@code name} of {@code loadBalancer}. */
    public LoadBalancerService(String name, LoadBalancer<?> loadBalancer) {
        this.name = requireNonNull(name, "name");
        this.loadBalancer = requireNonNull(loadBalancer, "loadBalancer");
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void start(TransportRuntime runtime) {
        loadBalancer.start();
    }

    @Override
    public CompletionStage<Void> stop(Duration gracePeriod) {
        // Nothing to drain: a health round in flight finishes on its own and is no longer applied.
        loadBalancer.close();
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {
        loadBalancer.close();
    }

    @Override
    public String toString() {
        return "background service '" + name + "' of " + loadBalancer;
    }
}
