package dev.relay.examples;

import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.transport.ProxyOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every request, on new and reused upstream connections, is answered by the in-process virtual socket. */
@Timeout(60)
class VirtualL4ExampleTest {

    @TempDir
    Path dir;

    @Test
    void everyRequestGetsTheVirtualSocketsFixedAnswer() throws Exception {
        Path socket = dir.resolve("virtual.sock");
        Server server = Server.create();
        server.addService(new VirtualL4Example.StaticVirtualSocket(socket));
        HttpProxyService proxy = server.addService(HttpProxyService.create("virtual-proxy",
                new VirtualL4Example(socket), ProxyOptions.defaults()));
        proxy.addTcp("127.0.0.1:0");
        server.start();
        try {
            URI uri = URI.create("http://127.0.0.1:" + proxy.boundAddresses().get(0).getPort() + "/anything");
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, response.statusCode());
                assertEquals("Hello, world!", response.body());
            }
        } finally {
            server.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
        }
    }
}
