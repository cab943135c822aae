package dev.relay.examples;

import dev.relay.filters.limits.Rate;
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

/** Two requests per app id per window go through; the third gets Pingora's 429; other app ids and requests without one pass. */
@Timeout(60)
class RateLimiterExampleTest {

    @Test
    void theThirdRequestOfAnAppIdInOneWindowIsRefused() throws Exception {
        try (TestOrigin origin = TestOrigin.builder().name("origin").build().start()) {
            Server server = Server.create();
            server.bootstrap();
            // A window of an hour, so that no window ends during the test.
            HttpProxyService proxy = HttpProxyService.create(new RateLimiterExample(
                    LoadBalancer.tryFromIterable(RoundRobin.create(), origin.address()), Rate.of(Duration.ofHours(1)), 2));
            proxy.addTcp("127.0.0.1:0");
            server.addService(proxy);
            server.start();
            try {
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                URI uri = URI.create("http://127.0.0.1:" + proxy.boundAddresses().get(0).getPort() + "/");
                assertEquals(200, send(client, uri, "app-1").statusCode());
                assertEquals(200, send(client, uri, "app-1").statusCode());

                HttpResponse<String> refused = send(client, uri, "app-1");
                assertEquals(429, refused.statusCode());
                assertEquals("2", refused.headers().firstValue("X-Rate-Limit-Limit").orElseThrow());
                assertEquals("0", refused.headers().firstValue("X-Rate-Limit-Remaining").orElseThrow());
                assertEquals("3600", refused.headers().firstValue("X-Rate-Limit-Reset").orElseThrow());

                assertEquals(200, send(client, uri, "app-2").statusCode());
                for (int i = 0; i < 5; i++) {
                    assertEquals(200, send(client, uri, null).statusCode());
                }
                assertEquals(8, origin.requests().size(), "the refused request never reached the origin");
            } finally {
                server.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
            }
        }
    }

    private static HttpResponse<String> send(HttpClient client, URI uri, String appId) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri);
        if (appId != null) {
            request.header(RateLimiterExample.APP_ID, appId);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
