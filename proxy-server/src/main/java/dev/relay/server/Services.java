package dev.relay.server;

import dev.relay.core.ProxyHttp;
import dev.relay.core.StreamProxy;
import dev.relay.lb.LoadBalancer;
import dev.relay.server.internal.LoadBalancerService;
import dev.relay.server.internal.metrics.PrometheusHttpApp;
import dev.relay.transport.StreamOptions;
import dev.relay.transport.ProxyOptions;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * Static factories for the built-in {@link Service}s, named as Pingora names them.
 *
 * <pre>{@code
 * HttpProxyService proxy = Services.httpProxy(new MyProxy());
 * proxy.addTcp("0.0.0.0:6188");
 * server.addService(proxy);
 * }</pre>
 */
public final class Services {
    private Services() {}

    /** Pingora's {@code http_proxy_service}: {@link HttpProxyService#create(ProxyHttp)}. */
    public static HttpProxyService httpProxy(ProxyHttp<?> proxy) {
        return HttpProxyService.create(proxy);
    }

    /** {@link HttpProxyService#create(ProxyHttp, ProxyOptions)}. */
    public static HttpProxyService httpProxy(ProxyHttp<?> proxy, ProxyOptions options) {
        return HttpProxyService.create(proxy, options);
    }

    /** Pingora's TCP proxy service: {@link StreamProxyService#create} named {@code "stream"}, default options. */
    public static StreamProxyService streamProxy(StreamProxy<?> proxy) {
        return StreamProxyService.create("stream", proxy, StreamOptions.defaults());
    }

    /** {@link StreamProxyService#create} named {@code "stream"}, with {@code options}. */
    public static StreamProxyService streamProxy(StreamProxy<?> proxy, StreamOptions options) {
        return StreamProxyService.create("stream", proxy, options);
    }

    /**
     * Pingora's {@code background_service(name, load_balancer)}: a service that runs the background work
     * of {@code loadBalancer} (discovery refreshes, health checks, ejection timers) while the server
     * runs, and closes it when the server stops. Add it to the server next to the proxy that selects
     * from the load balancer; it does not wait for the first discovery or health round.
     *
     * <pre>{@code
     * LoadBalancer<RoundRobin> upstreams = LoadBalancer.builder(RoundRobin.create())
     *         .staticBackends(backends)
     *         .healthCheck(TcpHealthCheck.builder().build())
     *         .healthCheckInterval(Duration.ofSeconds(1))
     *         .build();
     * server.addService(Services.background("health check", upstreams));
     * }</pre>
     */
    public static Service background(String name, LoadBalancer<?> loadBalancer) {
        return new LoadBalancerService(name, loadBalancer);
    }

    /**
     * Pingora's {@code prometheus_http_service}: an HTTP service named {@code "prometheus"} that answers
     * every {@code GET}, whatever the path, with the metrics of Prometheus's default registry
     * ({@link PrometheusRegistry#defaultRegistry}, where metrics built with {@code .register()} go) in the
     * text format. Add its listener with {@link HttpProxyService#addTcp}. Relay's own metrics are on the
     * server's admin listener, not here.
     *
     * <pre>{@code
     * Counter requests = Counter.builder().name("requests").help("requests seen").register();
     * HttpProxyService metrics = Services.prometheusHttp();
     * metrics.addTcp("127.0.0.1:6192");
     * server.addService(metrics);
     * }</pre>
     */
    public static HttpProxyService prometheusHttp() {
        return prometheusHttp(PrometheusRegistry.defaultRegistry);
    }

    /** Like {@link #prometheusHttp()}, serving {@code registry}. */
    public static HttpProxyService prometheusHttp(PrometheusRegistry registry) {
        return HttpProxyService.create("prometheus", new PrometheusHttpApp(registry), ProxyOptions.defaults());
    }
}
