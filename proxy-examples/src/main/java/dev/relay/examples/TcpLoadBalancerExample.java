package dev.relay.examples;

import dev.relay.core.Backend;
import dev.relay.core.HttpPeer;
import dev.relay.core.Stages;
import dev.relay.core.StreamProxy;
import dev.relay.core.StreamSession;
import dev.relay.core.StreamSummary;
import dev.relay.lb.LoadBalancer;
import dev.relay.lb.RoundRobin;
import dev.relay.server.Server;
import dev.relay.server.Services;
import dev.relay.server.StreamProxyService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A TCP load balancer: every connection to port 5432 is relayed, byte for byte, to the next of the
 * given backends (round robin); a backend that refuses the connection is skipped (the framework asks
 * for another peer, up to three attempts). The protocol does not matter: PostgreSQL, Redis, SMTP, TLS
 * passed through untouched.
 *
 * <pre>
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.TcpLoadBalancerExample 10.0.0.1:5432 10.0.0.2:5432
 * psql -h 127.0.0.1 -p 5432 ...
 * </pre>
 */
public final class TcpLoadBalancerExample implements StreamProxy<Void> {
    private static final Logger LOG = LoggerFactory.getLogger(TcpLoadBalancerExample.class);

    private final LoadBalancer<RoundRobin> backends;

    public TcpLoadBalancerExample(LoadBalancer<RoundRobin> backends) {
        this.backends = backends;
    }

    @Override
    public Void newCtx() {
        return null;
    }

    @Override
    public CompletionStage<HttpPeer> upstreamPeer(StreamSession session, Void ctx) {
        Backend next = backends.selectOrNull(LoadBalancer.NO_KEY, 256);
        return next == null ? Stages.failed(new IllegalStateException("no backend"))
                : CompletableFuture.completedFuture(HttpPeer.plain(next));
    }

    @Override
    public void streamDone(StreamSession session, StreamSummary summary, Void ctx) {
        LOG.info("{} -> {}: {} bytes in, {} bytes out, {} ({})", summary.clientAddress(), summary.peer(),
                summary.bytesFromClient(), summary.bytesToClient(), summary.end(), summary.duration());
    }

    /** Listens on 0.0.0.0:5432 and balances between the backends given as arguments. */
    public static void main(String[] args) {
        Server server = Server.create();
        server.bootstrap();
        LoadBalancer<RoundRobin> backends = LoadBalancer.tryFromIterable(RoundRobin.create(), args);
        StreamProxyService tcp = Services.streamProxy(new TcpLoadBalancerExample(backends));
        tcp.addTcp("0.0.0.0:5432");
        server.addService(tcp);
        server.runForever();
    }
}
