package dev.relay.examples;

import dev.relay.core.HttpPeer;
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

/** The ACL module in front of a local origin: only the right credential gets through. */
@Timeout(60)
class UseModuleExampleTest {

    @Test
    void theModuleRejectsMissingAndWrongCredentialsBeforeTheUpstream() throws Exception {
        try (TestOrigin origin = TestOrigin.builder().name("origin").build().start()) {
            Server server = Server.create();
            HttpProxyService proxy = HttpProxyService.create(
                    new UseModuleExample(HttpPeer.plain(origin.address()), "testcode"));
            proxy.addTcp("127.0.0.1:0");
            server.addService(proxy);
            server.start();
            try {
                URI uri = URI.create("http://127.0.0.1:" + proxy.boundAddresses().get(0).getPort() + "/");
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

                assertEquals(403, send(client, HttpRequest.newBuilder(uri).build()).statusCode());
                assertEquals(403, send(client, HttpRequest.newBuilder(uri)
                        .header("Authorization", "basic wrong").build()).statusCode());
                HttpResponse<String> allowed = send(client, HttpRequest.newBuilder(uri)
                        .header("Authorization", "basic testcode").build());
                assertEquals(200, allowed.statusCode());
                assertEquals("origin", allowed.headers().firstValue("X-Origin").orElseThrow());

                // The two rejected requests never left the proxy.
                assertEquals(1, origin.requests().size());
                assertEquals("basic testcode", origin.requests().get(0).header("Authorization"));
            } finally {
                server.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
            }
        }
    }

    private static HttpResponse<String> send(HttpClient client, HttpRequest request) throws Exception {
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }
}
