package dev.relay.examples;

import dev.relay.core.Backend;
import dev.relay.core.PeerOptions;
import dev.relay.lb.LoadBalancer;
import dev.relay.lb.RoundRobin;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.testing.Await;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The multi_lb example: the path picks the cluster, and each cluster's health check keeps its dead backend out. */
@Timeout(60)
class MultiLbExampleTest {

    @Test
    void pathPicksTheClusterAndHealthChecksSkipEachClustersDeadBackend() throws Exception {
        TestCertificates.Server certificate = TestCertificates.server("one.one.one.one");
        PeerOptions trustTestCa = PeerOptions.builder().trustedCertificates(List.of(TestCertificates.caCertificate())).build();
        try (TestOrigin one = TestOrigin.builder().name("one").tls(certificate).build().start();
             TestOrigin two = TestOrigin.builder().name("two").tls(certificate).build().start()) {
            String deadOne = "127.0.0.1:" + TestOrigin.closedPort();
            String deadTwo = "127.0.0.2:" + TestOrigin.closedPort();
            LoadBalancer<RoundRobin> clusterOne = PingoraLoadBalancerExample.healthChecked(RoundRobin.create(), one.address(), deadOne);
            LoadBalancer<RoundRobin> clusterTwo = PingoraLoadBalancerExample.healthChecked(RoundRobin.create(), two.address(), deadTwo);
            Server server = Server.create();
            HttpProxyService router = MultiLbExample.addServices(server,
                    new MultiLbExample(clusterOne, clusterTwo, "one.one.one.one", trustTestCa), "127.0.0.1:0");
            server.start();
            try {
                Await.until(() -> !clusterOne.backends().isHealthy(Backend.parse(deadOne))
                                && !clusterTwo.backends().isHealthy(Backend.parse(deadTwo)),
                        Duration.ofSeconds(10), () -> "health checks: " + clusterOne.backends() + " " + clusterTwo.backends());
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                String base = "http://127.0.0.1:" + router.boundAddresses().get(0).getPort();
                for (int i = 0; i < 3; i++) {
                    for (String path : List.of("/one/", "/two/", "/", "/one")) {
                        HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create(base + path)).build(),
                                HttpResponse.BodyHandlers.ofString());
                        assertEquals(200, response.statusCode(), path);
                        assertEquals(path.equals("/one/") ? "one" : "two",
                                response.headers().firstValue("X-Origin").orElseThrow(), path);
                    }
                }
                assertEquals(3, one.requests().size());
                assertEquals(9, two.requests().size());
            } finally {
                server.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
            }
        }
    }
}
