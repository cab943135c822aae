package dev.relay.examples;

import dev.relay.core.HttpPeer;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.Services;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The body_routing example in front of two echoing origins: the body picks the upstream, and the upstream
 * receives (and echoes) the body wrapped in an envelope, whatever the client's framing.
 */
@Timeout(60)
class BodyRoutingExampleTest {
    private static TestOrigin defaultOrigin;
    private static TestOrigin betaOrigin;
    private static Server server;
    private static String proxy;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() {
        defaultOrigin = TestOrigin.builder().name("default").build().start();
        betaOrigin = TestOrigin.builder().name("beta").build().start();
        server = Server.create();
        HttpProxyService service = Services.httpProxy(new BodyRoutingExample(
                HttpPeer.plain(defaultOrigin.address()), HttpPeer.plain(betaOrigin.address())));
        service.addTcp("127.0.0.1:0");
        server.addService(service);
        server.start();
        proxy = "http://127.0.0.1:" + service.boundAddresses().get(0).getPort();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
        }
        betaOrigin.close();
        defaultOrigin.close();
    }

    @Test
    void aBodyMentioningBetaGoesToTheBetaUpstreamInAnEnvelope() throws Exception {
        HttpResponse<String> response = post(HttpRequest.BodyPublishers.ofString("{\"route\": \"beta\"}"));

        assertEquals(200, response.statusCode());
        assertEquals("beta", response.headers().firstValue("X-Origin").orElseThrow());
        assertEquals("{\"envelope\":true,\"original\":{\"route\": \"beta\"}}", response.body());
    }

    @Test
    void otherBodiesGoToTheDefaultUpstreamInAnEnvelope() throws Exception {
        HttpResponse<String> response = post(HttpRequest.BodyPublishers.ofString("{\"route\": \"default\"}"));

        assertEquals("default", response.headers().firstValue("X-Origin").orElseThrow());
        assertEquals("{\"envelope\":true,\"original\":{\"route\": \"default\"}}", response.body());
    }

    @Test
    void aChunkedBodyIsReadWholeAndSentWithTheEnvelopesLength() throws Exception {
        int betaBefore = betaOrigin.requests().size();
        byte[] body = "{\"part\":1,\"part2\":\"beta\"}".getBytes(StandardCharsets.UTF_8);
        // No length known in advance: the client sends it chunked.
        HttpResponse<String> response = post(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)));

        assertEquals("beta", response.headers().firstValue("X-Origin").orElseThrow());
        String envelope = "{\"envelope\":true,\"original\":{\"part\":1,\"part2\":\"beta\"}}";
        assertEquals(envelope, response.body());
        assertEquals(Integer.toString(envelope.length()),
                // /echo answers as the body arrives: the request may be recorded just after the answer ends.
                betaOrigin.awaitRequests(betaBefore + 1, Duration.ofSeconds(5)).get(betaBefore).header("Content-Length"));
    }

    @Test
    void aBodyOverTheLimitIsRefusedWith413AndNothingGoesUpstream() throws Exception {
        int before = defaultOrigin.requests().size() + betaOrigin.requests().size();

        HttpResponse<String> response = post(HttpRequest.BodyPublishers.ofString("x".repeat(BodyRoutingExample.BUFFER_LIMIT + 1)));

        assertEquals(413, response.statusCode());
        assertEquals(before, defaultOrigin.requests().size() + betaOrigin.requests().size());
    }

    @Test
    void getPassesThroughUnchanged() throws Exception {
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create(proxy + "/headers")).build(),
                HttpResponse.BodyHandlers.ofString());

        assertEquals("default", response.headers().firstValue("X-Origin").orElseThrow());
        assertEquals("GET", defaultOrigin.requests().get(defaultOrigin.requests().size() - 1).method());
        assertEquals(0, defaultOrigin.requests().get(defaultOrigin.requests().size() - 1).bodyBytes());
    }

    private HttpResponse<String> post(HttpRequest.BodyPublisher body) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(proxy + "/echo"))
                .header("Content-Type", "application/json").POST(body).build(), HttpResponse.BodyHandlers.ofString());
    }
}
