package dev.relay.examples;

import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.core.ProxyHttp;
import dev.relay.core.RequestHeader;
import dev.relay.core.Session;
import dev.relay.lb.LeastConnections;
import dev.relay.lb.LoadBalancer;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.Services;
import dev.relay.transport.ProxyOptions;
import dev.relay.transport.TlsSettings;
import org.jspecify.annotations.Nullable;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletionStage;

/**
 * Pingora's {@code least_connections} example: the load balancer picks the upstream with the fewest
 * requests in flight, with a background TCP health check, HTTP on 6190 and TLS on 6191.
 *
 * <p>Pingora counts a request in flight with a lease that the context holds until the request ends
 * ({@code select_with_lease}). Relay counts them in the engine instead: the service's
 * {@link ProxyOptions#upstreamObserver()} is the load balancer's observer ({@link #proxyOptions}), told of
 * every attempt's start and end, retries and failures included, so the context holds nothing. The proxy
 * itself is the seed's ({@link LoadBalancerExample}) over least-connections selection.
 *
 * <pre>
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.LeastConnectionsExample cert.pem key.pem
 * curl -s 127.0.0.1:6190 -H "Host: one.one.one.one"
 * curl -sk https://127.0.0.1:6191 -H "Host: one.one.one.one"
 * </pre>
 *
 * (The certificate and key as for {@link PingoraLoadBalancerExample}; more arguments replace the default
 * upstreams {@code 1.1.1.1:443 1.0.0.1:443}.)
 */
public final class LeastConnectionsExample implements ProxyHttp<@Nullable Void> {
    private final LoadBalancerExample proxy;

    /** TLS to the upstreams with SNI and {@code Host} {@code sni}, with {@code peerOptions}. */
    public LeastConnectionsExample(LoadBalancer<LeastConnections> upstreams, String sni, PeerOptions peerOptions) {
        // The seed's proxy: its peers carry their Backend, which is how the observer knows whose count to change.
        this.proxy = new LoadBalancerExample(upstreams, sni, peerOptions);
    }

    /** The service options that feed {@code upstreams} its in-flight counts: use them for this proxy's service. */
    public static ProxyOptions proxyOptions(LoadBalancer<LeastConnections> upstreams) {
        return ProxyOptions.builder().upstreamObserver(upstreams.observer()).build();
    }

    @Override
    public @Nullable Void newCtx() {
        return proxy.newCtx();
    }

    @Override
    public CompletionStage<HttpPeer> upstreamPeer(Session session, @Nullable Void ctx) {
        return proxy.upstreamPeer(session, ctx);
    }

    @Override
    public CompletionStage<Void> upstreamRequestFilter(Session session, RequestHeader upstreamRequest, @Nullable Void ctx) {
        return proxy.upstreamRequestFilter(session, upstreamRequest, ctx);
    }

    /** {@code CERT KEY [host:port ...]}: listens on 0.0.0.0:6190 (HTTP) and 0.0.0.0:6191 (TLS). */
    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: LeastConnectionsExample CERT.pem KEY.pem [host:port ...]");
            System.exit(2);
        }
        String[] addresses = args.length > 2 ? Arrays.copyOfRange(args, 2, args.length)
                : new String[] {"1.1.1.1:443", "1.0.0.1:443"};
        Server server = Server.create();
        server.bootstrap();
        LoadBalancer<LeastConnections> upstreams =
                PingoraLoadBalancerExample.healthChecked(LeastConnections.create(), addresses);
        HttpProxyService lb = Services.httpProxy(
                new LeastConnectionsExample(upstreams, "one.one.one.one", PeerOptions.defaults()), proxyOptions(upstreams));
        lb.addTcp("0.0.0.0:6190");
        lb.addTls("0.0.0.0:6191", TlsSettings.builder().certificate(Path.of(args[0]), Path.of(args[1])).build());
        server.addService(lb);
        server.addService(Services.background("least connections health check", upstreams));
        server.runForever();
    }
}
