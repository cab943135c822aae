package dev.relay.examples;

import dev.relay.core.Backend;
import dev.relay.core.SelectionAlgorithm;
import dev.relay.lb.HealthCheck;
import dev.relay.lb.LoadBalancer;
import dev.relay.lb.RoundRobin;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.Services;
import dev.relay.transport.TlsSettings;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Pingora's {@code load_balancer} example: the quick start's proxy ({@link LoadBalancerExample}, the same
 * {@code upstreamPeer} and {@code upstreamRequestFilter}) made production-shaped. A TCP health check runs
 * every second as a background service ({@link Services#background}), so that a dead upstream
 * ({@code 127.0.0.1:343} among the defaults) is never selected; the proxy listens for plain HTTP on 6188
 * and for TLS on 6189 (HTTP/2 offered by ALPN, as Pingora's {@code enable_h2}).
 *
 * <p>Pingora reads the listener's certificate from its repository's test keys; Relay ships none, so give
 * a certificate and key, for example one made with openssl:
 *
 * <pre>
 * openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=localhost \
 *     -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout key.pem -out cert.pem
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.PingoraLoadBalancerExample cert.pem key.pem
 * curl -s 127.0.0.1:6188 -H "Host: one.one.one.one"
 * curl -sk --http2 https://127.0.0.1:6189 -H "Host: one.one.one.one"
 * </pre>
 *
 * More arguments after the key replace the default upstreams ({@code 1.1.1.1:443 1.0.0.1:443 127.0.0.1:343}).
 */
public final class PingoraLoadBalancerExample {
    /** How often the background service checks every upstream (Pingora's {@code health_check_frequency}). */
    public static final Duration HEALTH_CHECK_FREQUENCY = Duration.ofSeconds(1);

    private PingoraLoadBalancerExample() {}

    /**
     * A load balancer over {@code addresses} with a TCP health check every {@link #HEALTH_CHECK_FREQUENCY};
     * the checks run once {@link Services#background} starts it. Every upstream counts as healthy until its
     * first check.
     */
    public static <S extends SelectionAlgorithm> LoadBalancer<S> healthChecked(S algorithm, String... addresses) {
        List<Backend> backends = new ArrayList<>(addresses.length);
        for (String address : addresses) {
            backends.add(Backend.parse(address));
        }
        return LoadBalancer.builder(algorithm)
                .staticBackends(backends)
                .healthCheck(HealthCheck.tcp().build())
                .healthCheckInterval(HEALTH_CHECK_FREQUENCY)
                .build();
    }

    /**
     * Adds the example's two services to {@code server}: the proxy, listening for HTTP on
     * {@code httpAddress} and for TLS with {@code tls} on {@code tlsAddress}, then the health check of
     * {@code upstreams}. Returns the proxy service: once the server started, its {@code listeners()} map
     * each address as written to the bound one. The two addresses must differ as text (a service knows
     * its listeners by the address as written: {@code 127.0.0.1:0} twice would be one listener).
     */
    public static HttpProxyService addServices(Server server, LoadBalancerExample proxy, LoadBalancer<RoundRobin> upstreams,
                                               String httpAddress, String tlsAddress, TlsSettings tls) {
        HttpProxyService lb = Services.httpProxy(proxy);
        lb.addTcp(httpAddress);
        lb.addTls(tlsAddress, tls);
        server.addService(lb);
        server.addService(Services.background("health check", upstreams));
        return lb;
    }

    /** {@code CERT KEY [host:port ...]}: the listener's certificate chain and key, then the upstreams. */
    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: PingoraLoadBalancerExample CERT.pem KEY.pem [host:port ...]");
            System.exit(2);
        }
        String[] addresses = args.length > 2 ? Arrays.copyOfRange(args, 2, args.length)
                // 127.0.0.1:343 is a bad server: the health check keeps it out of the selection.
                : new String[] {"1.1.1.1:443", "1.0.0.1:443", "127.0.0.1:343"};
        Server server = Server.create();
        server.bootstrap();
        LoadBalancer<RoundRobin> upstreams = healthChecked(RoundRobin.create(), addresses);
        TlsSettings tls = TlsSettings.builder().certificate(Path.of(args[0]), Path.of(args[1])).build();
        addServices(server, new LoadBalancerExample(upstreams), upstreams, "0.0.0.0:6188", "0.0.0.0:6189", tls);
        server.runForever();
    }
}
