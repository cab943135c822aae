package dev.relay.examples;

import dev.relay.core.Backend;
import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.core.ProxyError;
import dev.relay.core.ProxyHttp;
import dev.relay.core.RequestHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.lb.LoadBalancer;
import dev.relay.lb.RoundRobin;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * The seed example: Pingora's load-balancer quick start, in Java. A {@code LoadBalancer<RoundRobin>}
 * over two upstreams; {@link #upstreamPeer} takes the next one and connects with TLS and an SNI;
 * {@link #upstreamRequestFilter} rewrites {@code Host} so the origin accepts the request. The proxy takes
 * a load balancer of any selection algorithm that needs no key ({@link LeastConnectionsExample} gives it
 * least connections).
 *
 * <pre>
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.LoadBalancerExample
 * curl -s 127.0.0.1:6188 -H "Host: one.one.one.one"
 * </pre>
 */
public final class LoadBalancerExample implements ProxyHttp<Void> {
    private static final Logger LOG = LoggerFactory.getLogger(LoadBalancerExample.class);

    private final LoadBalancer<?> upstreams;
    private final String sni;
    private final PeerOptions peerOptions;

    /** The example as in the quick start: SNI and Host {@code one.one.one.one}, default TLS checks. */
    public LoadBalancerExample(LoadBalancer<?> upstreams) {
        this(upstreams, "one.one.one.one", PeerOptions.defaults());
    }

    /**
     * The example with another SNI/Host and peer options (tests use it to trust their own CA).
     */
    public LoadBalancerExample(LoadBalancer<?> upstreams, String sni, PeerOptions peerOptions) {
        this.upstreams = requireNonNull(upstreams, "upstreams");
        this.sni = requireNonNull(sni, "sni");
        this.peerOptions = requireNonNull(peerOptions, "peerOptions");
    }

    @Override
    public Void newCtx() {
        return null;
    }

    @Override
    public CompletionStage<HttpPeer> upstreamPeer(Session session, Void ctx) {
        // Round robin (and least connections) ignores the key; 256 bounds the walk past unhealthy backends.
        Backend upstream = upstreams.selectOrNull(LoadBalancer.NO_KEY, 256);
        if (upstream == null) {
            return Stages.failed(ProxyError.of(ErrorType.NO_PEER, ErrorSource.INTERNAL, "no healthy upstream", null));
        }
        LOG.info("upstream peer is: {}", upstream);
        return CompletableFuture.completedFuture(HttpPeer.of(upstream, true, sni).withOptions(peerOptions));
    }

    @Override
    public CompletionStage<Void> upstreamRequestFilter(Session session, RequestHeader upstreamRequest, Void ctx) {
        upstreamRequest.insertHeader("Host", sni);
        return Stages.done();
    }

    /** Listens on 0.0.0.0:6188 and balances between 1.1.1.1:443 and 1.0.0.1:443 (or the addresses given). */
    public static void main(String[] args) {
        Server server = Server.create();
        server.bootstrap();
        String[] addresses = args.length > 0 ? args : new String[] {"1.1.1.1:443", "1.0.0.1:443"};
        LoadBalancer<RoundRobin> upstreams = LoadBalancer.tryFromIterable(RoundRobin.create(), addresses);
        HttpProxyService lb = HttpProxyService.create(new LoadBalancerExample(upstreams));
        lb.addTcp("0.0.0.0:6188");
        server.addService(lb);
        server.runForever();
    }
}
