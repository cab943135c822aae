package dev.relay.server.internal;

import dev.relay.core.Stages;
import dev.relay.server.Service;
import dev.relay.server.internal.proxy.GroupRequests;
import dev.relay.transport.TransportRuntime;
import dev.relay.transport.UpstreamClient;

import java.time.Duration;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * The upstream client of the requests filters send on their own ({@link GroupRequests}: the mirror's
 * copies), on the server's event loops, for the life of the server. It runs before the proxy, so it stops
 * after the proxy has drained (copies of the last requests still go out). Its client never retries: a
 * copy reaches the shadow at most once.
 */
final class GroupRequestsService implements Service {
    private final GroupRequests requests;

    GroupRequestsService(GroupRequests requests) {
        this.requests = requireNonNull(requests, "requests");
    }

    @Override
    public String name() {
        return "group-requests";
    }

    @Override
    public void start(TransportRuntime runtime) {
        requests.start(UpstreamClient.builder().runtime(runtime).retryStaleConnections(false).build());
    }

    @Override
    public CompletionStage<Void> stop(Duration gracePeriod) {
        close();
        return Stages.done();
    }

    @Override
    public void close() {
        UpstreamClient client = requests.stop();
        if (client != null) {
            client.close();
        }
    }
}
