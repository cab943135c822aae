package dev.relay.examples;

import dev.relay.core.Backend;
import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.core.ProxyError;
import dev.relay.core.ProxyHttp;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.lb.LoadBalancer;
import dev.relay.lb.RoundRobin;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.Services;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * Pingora's {@code multi_lb} example: two clusters, each a {@link LoadBalancer} with its own background
 * health check ({@link Services#background}), and {@link #upstreamPeer} picks the cluster by path:
 * {@code /one/...} to the first, anything else to the second. Each default cluster has one bad server
 * ({@code 127.0.0.1:343}, {@code 127.0.0.2:343}) that the health checks keep out.
 *
 * <pre>
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.MultiLbExample
 * curl 127.0.0.1:6188/one/
 * curl 127.0.0.1:6188/two/
 * </pre>
 */
public final class MultiLbExample implements ProxyHttp<@Nullable Void> {
    private static final Logger LOG = LoggerFactory.getLogger(MultiLbExample.class);

    private final LoadBalancer<RoundRobin> clusterOne;
    private final LoadBalancer<RoundRobin> clusterTwo;
    private final String sni;
    private final PeerOptions peerOptions;

    /** The example as in Pingora: TLS to the clusters' backends with SNI {@code one.one.one.one}. */
    public MultiLbExample(LoadBalancer<RoundRobin> clusterOne, LoadBalancer<RoundRobin> clusterTwo) {
        this(clusterOne, clusterTwo, "one.one.one.one", PeerOptions.defaults());
    }

    /** With another SNI and peer options (tests use them to trust their own CA). */
    public MultiLbExample(LoadBalancer<RoundRobin> clusterOne, LoadBalancer<RoundRobin> clusterTwo,
                          String sni, PeerOptions peerOptions) {
        this.clusterOne = requireNonNull(clusterOne, "clusterOne");
        this.clusterTwo = requireNonNull(clusterTwo, "clusterTwo");
        this.sni = requireNonNull(sni, "sni");
        this.peerOptions = requireNonNull(peerOptions, "peerOptions");
    }

    @Override
    public @Nullable Void newCtx() {
        return null;
    }

    @Override
    public CompletionStage<HttpPeer> upstreamPeer(Session session, @Nullable Void ctx) {
        LoadBalancer<RoundRobin> cluster = session.requestHeader().path().startsWith("/one/") ? clusterOne : clusterTwo;
        // Round robin ignores the key; 256 bounds the walk past unhealthy backends.
        Backend upstream = cluster.selectOrNull(LoadBalancer.NO_KEY, 256);
        if (upstream == null) {
            return Stages.failed(ProxyError.of(ErrorType.NO_PEER, ErrorSource.INTERNAL,
                    "no healthy backend in " + cluster, null));
        }
        LOG.info("upstream peer is: {}", upstream);
        return CompletableFuture.completedFuture(HttpPeer.of(upstream, true, sni).withOptions(peerOptions));
    }

    /**
     * Adds the router on {@code address} and the two clusters' health checks to {@code server}; returns the
     * router's service.
     */
    public static HttpProxyService addServices(Server server, MultiLbExample router, String address) {
        HttpProxyService routerService = Services.httpProxy(router);
        routerService.addTcp(address);
        server.addService(routerService);
        server.addService(Services.background("cluster one health check", router.clusterOne));
        server.addService(Services.background("cluster two health check", router.clusterTwo));
        return routerService;
    }

    /** Listens on 0.0.0.0:6188 in front of the two clusters. */
    public static void main(String[] args) {
        Server server = Server.create();
        server.bootstrap();
        LoadBalancer<RoundRobin> clusterOne =
                PingoraLoadBalancerExample.healthChecked(RoundRobin.create(), "1.1.1.1:443", "127.0.0.1:343");
        LoadBalancer<RoundRobin> clusterTwo =
                PingoraLoadBalancerExample.healthChecked(RoundRobin.create(), "1.0.0.1:443", "127.0.0.2:343");
        addServices(server, new MultiLbExample(clusterOne, clusterTwo), "0.0.0.0:6188");
        server.runForever();
    }
}
