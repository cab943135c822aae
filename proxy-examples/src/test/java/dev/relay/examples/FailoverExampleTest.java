package dev.relay.examples;

import dev.relay.lb.LoadBalancer;
import dev.relay.lb.RoundRobin;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** One of two backends refuses connections: every request still gets 200 from the other. */
@Timeout(60)
class FailoverExampleTest {

    @Test
    void everyRequestSucceedsWhenOneOfTwoBackendsIsDown() throws Exception {
        try (TestOrigin alive = TestOrigin.builder().name("alive").build().start()) {
            String dead = "127.0.0.1:" + TestOrigin.closedPort();
            Server server = Server.create();
            server.bootstrap();
            HttpProxyService proxy = HttpProxyService.create(
                    new FailoverExample(LoadBalancer.tryFromIterable(RoundRobin.create(), dead, alive.address())));
            proxy.addTcp("127.0.0.1:0");
            server.addService(proxy);
            server.start();
            try {
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                URI uri = URI.create("http://127.0.0.1:" + proxy.boundAddresses().get(0).getPort() + "/");
                for (int i = 0; i < 50; i++) {
                    HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, response.statusCode());
                    assertEquals("alive", response.headers().firstValue("X-Origin").orElseThrow());
                }
                assertEquals(50, alive.requests().size());
            } finally {
                server.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
            }
        }
    }
}
