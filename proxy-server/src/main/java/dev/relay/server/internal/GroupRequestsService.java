package dev.relay.server.internal;

import dev.relay.server.Service;
import dev.relay.server.internal.proxy.GroupRequests;
import dev.relay.transport.TransportRuntime;
import dev.relay.transport.UpstreamClient;
import org.jspecify.annotations.Nullable;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * The upstream client of the requests filters send on their own ({@link GroupRequests}: the mirror's
 * copies), on the server's event loops, for the life of the server. It runs before the proxy, so it stops
 * after the proxy has drained: a graceful stop refuses new copies, lets those in flight (the last
 * requests' copies) finish within what is left of the grace period, then closes the client. Its client
 * never retries: a copy reaches the shadow at most once.
 */
final class GroupRequestsService implements Service {
    private final GroupRequests requests;
    private volatile @Nullable UpstreamClient client;

    GroupRequestsService(GroupRequests requests) {
        this.requests = requireNonNull(requests, "requests");
    }

    @Override
    public String name() {
        return "group-requests";
    }

    @Override
    public void start(TransportRuntime runtime) {
        UpstreamClient started = UpstreamClient.builder().runtime(runtime).retryStaleConnections(false).build();
        client = started;
        requests.start(started);
    }

    @Override
    public CompletionStage<Void> stop(Duration gracePeriod) {
        requests.stop();
        // The copy of the wait, not the wait: a timeout must not complete what another caller holds.
        // Async: the last copy completes on an event loop, where the client must not be closed.
        return requests.whenIdle().copy().completeOnTimeout(null, gracePeriod.toNanos(), TimeUnit.NANOSECONDS)
                .thenRunAsync(this::close);
    }

    @Override
    public void close() {
        requests.stop();
        UpstreamClient was = client;
        if (was != null) {
            was.close();
        }
    }
}
