package dev.relay.server;

import dev.relay.core.Backend;
import dev.relay.lb.HealthCheck;
import dev.relay.lb.LoadBalancer;
import dev.relay.lb.RoundRobin;
import dev.relay.testing.Await;
import dev.relay.testing.TestOrigin;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The built-in services of {@link Services} that are not proxies: the background and the Prometheus services. */
@Timeout(60)
class ServicesTest {
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Test
    void backgroundServiceRunsTheHealthChecksWhileTheServerRunsAndClosesTheLoadBalancerOnStop() throws Exception {
        try (TestOrigin alive = TestOrigin.builder().name("alive").build().start()) {
            Backend up = Backend.parse(alive.address());
            Backend down = Backend.parse("127.0.0.1:" + TestOrigin.closedPort());
            LoadBalancer<RoundRobin> upstreams = LoadBalancer.builder(RoundRobin.create())
                    .staticBackends(List.of(up, down))
                    .healthCheck(HealthCheck.tcp().build())
                    .healthCheckInterval(Duration.ofMillis(200))
                    .build();
            Server server = Server.create();
            server.addService(Services.background("health check", upstreams));
            assertTrue(upstreams.backends().isHealthy(down), "nothing is checked before the server starts");
            server.start();
            try {
                Await.until(() -> !upstreams.backends().isHealthy(down), Duration.ofSeconds(10),
                        () -> "the closed port is still healthy: " + upstreams.backends());
                assertTrue(upstreams.backends().isHealthy(up));
            } finally {
                server.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
            }
            assertThrows(IllegalStateException.class, upstreams::start, "the stop closed the load balancer");
        }
    }

    @Test
    void prometheusServiceAnswersEveryGetWithTheRegistryAndRefusesOtherMethods() throws Exception {
        PrometheusRegistry registry = new PrometheusRegistry();
        Counter counter = Counter.builder().name("example_requests").help("requests seen").register(registry);
        counter.inc(3);
        List<String> scrapedOn = new java.util.concurrent.CopyOnWriteArrayList<>();
        GaugeWithCallback.builder().name("example_queue_depth").help("a user callback")
                .callback(gauge -> {
                    scrapedOn.add(Thread.currentThread().getName());
                    gauge.call(7);
                })
                .register(registry);
        Server server = Server.create();
        HttpProxyService metrics = Services.prometheusHttp(registry);
        metrics.addTcp("127.0.0.1:0");
        server.addService(metrics);
        server.start();
        try {
            String base = "http://127.0.0.1:" + metrics.boundAddresses().get(0).getPort();
            for (String path : List.of("/", "/metrics")) {
                HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create(base + path)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, response.statusCode());
                assertTrue(response.headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain"));
                assertTrue(response.body().contains("example_requests_total 3.0"), response.body());
                assertTrue(response.body().contains("example_queue_depth 7.0"), response.body());
            }
            // The registry's callbacks are user code: they run off the proxy's event loops.
            assertEquals(List.of("relay-metrics-scrape", "relay-metrics-scrape"), scrapedOn);
            HttpResponse<String> post = client.send(HttpRequest.newBuilder(URI.create(base + "/"))
                    .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(405, post.statusCode());
            assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElseThrow());
            assertFalse(post.body().contains("example_requests"), post.body());
        } finally {
            server.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
        }
    }
}
