package dev.relay.examples;

import dev.relay.core.Backend;
import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.ProxyHttp;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.lb.LoadBalancer;
import dev.relay.lb.RoundRobin;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * Failover through the attempt loop, as Pingora users write it: the context remembers which
 * backends failed for this request, {@link #failToConnect} asks for another attempt, and
 * {@link #upstreamPeer} skips the failed ones with {@code selectWith}. With one of two backends down,
 * every request still gets its answer from the other.
 *
 * <pre>
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.FailoverExample 127.0.0.1:9001 127.0.0.1:9002
 * </pre>
 */
public final class FailoverExample implements ProxyHttp<FailoverExample.Tried> {
    private static final Logger LOG = LoggerFactory.getLogger(FailoverExample.class);

    /** The backends that failed for one request. */
    public static final class Tried {
        final List<Backend> failed = new ArrayList<>(2);
        Backend current;
    }

    private final LoadBalancer<RoundRobin> upstreams;

    /** Fails over between the backends of {@code upstreams} (plain HTTP). */
    public FailoverExample(LoadBalancer<RoundRobin> upstreams) {
        this.upstreams = requireNonNull(upstreams, "upstreams");
    }

    @Override
    public Tried newCtx() {
        return new Tried();
    }

    @Override
    public CompletionStage<HttpPeer> upstreamPeer(Session session, Tried ctx) {
        Backend next = upstreams.selectWithOrNull(LoadBalancer.NO_KEY, 256,
                (backend, healthy) -> healthy && !ctx.failed.contains(backend));
        if (next == null) {
            return Stages.failed(ProxyError.of(ErrorType.NO_PEER, ErrorSource.INTERNAL,
                    "every backend failed: " + ctx.failed, null));
        }
        ctx.current = next;
        return CompletableFuture.completedFuture(HttpPeer.plain(next));
    }

    @Override
    public ProxyError failToConnect(Session session, HttpPeer peer, Tried ctx, ProxyError error) {
        LOG.warn("{} failed ({}), trying another backend", peer, error.type());
        ctx.failed.add(ctx.current);
        // Nothing reached the upstream, so another attempt is always safe.
        return error.setRetry(true);
    }

    /** Listens on 0.0.0.0:6189 and fails over between the addresses given (two by default). */
    public static void main(String[] args) {
        Server server = Server.create();
        server.bootstrap();
        String[] addresses = args.length > 0 ? args : new String[] {"127.0.0.1:9001", "127.0.0.1:9002"};
        HttpProxyService proxy = HttpProxyService.create(
                new FailoverExample(LoadBalancer.tryFromIterable(RoundRobin.create(), addresses)));
        proxy.addTcp("0.0.0.0:6189");
        server.addService(proxy);
        server.runForever();
    }
}
