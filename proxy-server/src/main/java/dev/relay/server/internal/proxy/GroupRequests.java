package dev.relay.server.internal.proxy;

import dev.relay.core.Backend;
import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.ProxyError;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Stages;
import dev.relay.core.UpstreamGroups;
import dev.relay.transport.UpstreamClient;
import dev.relay.transport.UpstreamResponse;
import org.jspecify.annotations.Nullable;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;

import static java.util.Objects.requireNonNull;

/**
 * The configured server's side of {@link UpstreamGroups}: requests that filters send on their own (the
 * {@code mirror} filter's copies) go to a ready backend of the named group of the configuration running
 * now, through an {@link UpstreamClient} on the server's event loops.
 *
 * <p>Filters are created when a configuration loads, before any server runs it (the first configuration
 * is read before the server is assembled), so this object is made first, with the
 * {@link dev.relay.server.internal.FilterRegistry}, and bound later: to the proxy whose snapshots hold
 * the groups ({@link #bindProxy}), and to the client when the server starts ({@link #start}). Until then,
 * and after {@link #stop}, a request fails at once with {@link ErrorType#NO_PEER}. The groups are looked
 * up by name on each request in the snapshot current then: a copy made while a reload swaps goes to the
 * group of the new configuration, or fails (counted by the filter) if that one dropped it. Thread-safe.
 */
public final class GroupRequests {
    private volatile @Nullable ConfiguredProxy proxy;
    private volatile @Nullable UpstreamClient client;
    /** Requests sent and not completed yet; {@link #whenIdle()} waits for 0. */
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Object idleLock = new Object();
    /** What {@link #whenIdle()} handed out while requests were in flight; guarded by {@link #idleLock}. */
    private @Nullable CompletableFuture<Void> idle;

    /** The groups of a configuration being loaded, with {@code names}: what its filters see. */
    public UpstreamGroups forConfiguration(Set<String> names) {
        Set<String> copy = Set.copyOf(names);
        return new UpstreamGroups() {
            @Override
            public Set<String> names() {
                return copy;
            }

            @Override
            public CompletionStage<ResponseHeader> sendDiscardingBody(String group, RequestHeader request,
                                                                      byte[] body, Duration timeout) {
                return send(group, request, body, timeout);
            }
        };
    }

    /**
     * Where the groups live: {@code proxy}'s current snapshot. A group a reload drops or replaces has its
     * idle connections of the client closed at once ({@link UpstreamClient#closeIdleConnections(long)}),
     * as the proxy's own are: nothing picks its peers any more, and a reload a minute would otherwise
     * keep a pool per generation until the idle timeout.
     */
    public void bindProxy(ConfiguredProxy proxy) {
        this.proxy = requireNonNull(proxy, "proxy");
        proxy.onGroupRetired(this::groupRetired);
    }

    private void groupRetired(long groupId) {
        UpstreamClient c = client;
        if (c != null) {
            c.closeIdleConnections(groupId);
        }
    }

    /** Requests go out through {@code client} from now on; the caller closes it after {@link #stop}. */
    public void start(UpstreamClient client) {
        this.client = requireNonNull(client, "client");
    }

    /**
     * Requests fail from now on. The requests already sent go on ({@link #whenIdle()}) until the caller
     * closes the client.
     */
    public void stop() {
        client = null;
    }

    /** Completes when no request is in flight: at once when none is, else when the last one completes. */
    public CompletableFuture<Void> whenIdle() {
        synchronized (idleLock) {
            if (inFlight.get() == 0) {
                return CompletableFuture.completedFuture(null);
            }
            if (idle == null) {
                idle = new CompletableFuture<>();
            }
            return idle;
        }
    }

    private void finished() {
        if (inFlight.decrementAndGet() == 0) {
            CompletableFuture<Void> waiting;
            synchronized (idleLock) {
                waiting = idle;
                idle = null;
            }
            if (waiting != null) {
                waiting.complete(null);
            }
        }
    }

    private CompletionStage<ResponseHeader> send(String name, RequestHeader request, byte[] body, Duration timeout) {
        ConfiguredProxy p = proxy;
        UpstreamClient c = client;
        if (p == null || c == null) {
            return noPeer("the server is not running");
        }
        UpstreamGroup group = p.runtime().groups().get(name);
        if (group == null) {
            return noPeer("no upstream group '" + name + "' in the configuration running now");
        }
        Backend backend = group.select((candidate, ready) -> ready);
        if (backend == null) {
            return noPeer("upstream '" + name + "' has no ready backend");
        }
        inFlight.incrementAndGet();
        CompletionStage<UpstreamResponse> sent;
        try {
            sent = c.sendDiscardingBody(group.peer(backend), request, body, timeout);
        } catch (RuntimeException e) {
            finished();
            throw e;
        }
        sent.whenComplete((response, error) -> finished());
        return sent.thenApply(UpstreamResponse::header);
    }

    private static CompletionStage<ResponseHeader> noPeer(String why) {
        return Stages.failed(ProxyError.of(ErrorType.NO_PEER, ErrorSource.INTERNAL, why, null));
    }
}
