package dev.relay.examples;

import dev.relay.core.PeerOptions;
import dev.relay.lb.LeastConnections;
import dev.relay.lb.LoadBalancer;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.Services;
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
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The least_connections example: while one origin holds a request, every new request goes to the other,
 * which has none in flight.
 */
@Timeout(60)
class LeastConnectionsExampleTest {

    @Test
    void anUpstreamWithARequestInFlightGetsNoMoreWhileTheOtherIsIdle() throws Exception {
        TestCertificates.Server certificate = TestCertificates.server("one.one.one.one");
        PeerOptions trustTestCa = PeerOptions.builder().trustedCertificates(List.of(TestCertificates.caCertificate())).build();
        try (TestOrigin busy = TestOrigin.builder().name("busy").tls(certificate).build().start();
             TestOrigin idle = TestOrigin.builder().name("idle").tls(certificate).build().start()) {
            busy.holdResponses();
            LoadBalancer<LeastConnections> upstreams =
                    PingoraLoadBalancerExample.healthChecked(LeastConnections.create(), busy.address(), idle.address());
            Server server = Server.create();
            HttpProxyService lb = Services.httpProxy(new LeastConnectionsExample(upstreams, "one.one.one.one", trustTestCa),
                    LeastConnectionsExample.proxyOptions(upstreams));
            lb.addTcp("127.0.0.1:0");
            server.addService(lb);
            server.addService(Services.background("least connections health check", upstreams));
            server.start();
            try {
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                HttpRequest request = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + lb.boundAddresses().get(0).getPort() + "/")).build();
                // Both idle: ties go either way. Send until one request is held by the busy origin.
                CompletableFuture<HttpResponse<String>> held = null;
                for (int i = 0; i < 50 && held == null; i++) {
                    CompletableFuture<HttpResponse<String>> response = client.sendAsync(request, HttpResponse.BodyHandlers.ofString());
                    Await.until(() -> response.isDone() || busy.heldResponses() == 1, Duration.ofSeconds(10),
                            () -> "request neither answered nor held");
                    if (response.isDone()) {
                        assertEquals("idle", response.join().headers().firstValue("X-Origin").orElseThrow());
                    } else {
                        held = response;
                    }
                }
                assertEquals(1, busy.heldResponses(), "a tie went to the busy origin within 50 requests");
                int idleBefore = idle.requests().size();

                for (int i = 0; i < 10; i++) {
                    HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
                    assertEquals("idle", response.headers().firstValue("X-Origin").orElseThrow());
                }
                assertEquals(idleBefore + 10, idle.requests().size());
                assertEquals(1, busy.requests().size());

                busy.releaseResponses();
                assertEquals("busy", held.get().headers().firstValue("X-Origin").orElseThrow());
                assertEquals("one.one.one.one", busy.requests().get(0).header("Host"));
            } finally {
                server.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
            }
        }
    }
}
