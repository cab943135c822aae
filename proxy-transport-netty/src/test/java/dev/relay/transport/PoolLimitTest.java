package dev.relay.transport;

import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The per-peer idle cap (nginx's keepalive N) keeps no more idle connections than asked. */
@Timeout(30)
class PoolLimitTest {

    @Test
    void keepsAtMostThePeersIdleCapAfterABurst() throws Exception {
        try (TestOrigin origin = TestOrigin.builder().name("a").build().start();
             TransportRuntime oneLoop = TransportRuntime.create(TransportRuntime.Kind.AUTO, 1)) {
            PeerOptions capped = PeerOptions.builder().maxIdleConnections(2).build();
            ProxyFixture.SimpleProxy proxy = new ProxyFixture.SimpleProxy(
                    session -> HttpPeer.plain(origin.address()).withOptions(capped));
            try (HttpProxyServer server = HttpProxyServer.create(proxy, ProxyOptions.defaults(), oneLoop)) {
                InetSocketAddress address = server.bind("127.0.0.1:0");
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                List<CompletableFuture<HttpResponse<String>>> burst = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    // Slow answers keep five upstream connections busy at once.
                    burst.add(client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + address.getPort()
                            + "/slow-headers?delay=300")).build(), HttpResponse.BodyHandlers.ofString()));
                }
                for (CompletableFuture<HttpResponse<String>> response : burst) {
                    assertEquals(200, response.join().statusCode());
                }
                assertEquals(5, origin.connectionsAccepted());
                assertEquals(2, server.idleUpstreamConnections());
            }
        }
    }
}
