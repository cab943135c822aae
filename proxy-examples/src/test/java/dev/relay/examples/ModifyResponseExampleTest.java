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

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The modify_response example: a JSON answer, in one chunk or many, reaches the client as YAML, without its Content-Length. */
@Timeout(60)
class ModifyResponseExampleTest {
    /** Long enough to arrive in several chunks, so the body filter must buffer. */
    private static final String LONG_VALUE = "x".repeat(200_000);
    private static TestOrigin origin;
    private static Server server;
    private static String proxy;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() {
        origin = TestOrigin.builder().name("jsontest")
                .handler("/ip", (request, response) -> response.header("Content-Type", "application/json")
                        .body("{\"ip\": \"203.0.113.7\"}"))
                .handler("/long", (request, response) -> response.header("Content-Type", "application/json")
                        .body("{\"ip\":\"198.51.100.1\",\"padding\":\"" + LONG_VALUE + "\",\"note\":\"a: b\",\"count\":2}"))
                .handler("/text", (request, response) -> response.body("not json\n"))
                .build().start();
        server = Server.create();
        HttpProxyService service = Services.httpProxy(new ModifyResponseExample(HttpPeer.plain(origin.address())));
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
        origin.close();
    }

    @Test
    void jsonAnswerComesBackAsYamlWithoutContentLength() throws Exception {
        HttpResponse<String> response = get("/ip");

        assertEquals(200, response.statusCode());
        assertEquals("ip: 203.0.113.7\n", response.body());
        assertFalse(response.headers().firstValue("Content-Length").isPresent(), response.headers().toString());
        assertEquals("chunked", response.headers().firstValue("Transfer-Encoding").orElseThrow());
        assertEquals(ModifyResponseExample.HOST, origin.requests().get(origin.requests().size() - 1).header("Host"));
    }

    @Test
    void aBodyInManyChunksIsBufferedAndConvertedWhole() throws Exception {
        HttpResponse<String> response = get("/long");

        assertEquals("ip: 198.51.100.1\npadding: <long>\nnote: \"a: b\"\ncount: 2\n",
                response.body().replace(LONG_VALUE, "<long>"));
    }

    @Test
    void aBodyThatIsNotJsonGoesOutUnchanged() throws Exception {
        assertEquals("not json\n", get("/text").body());
    }

    @Test
    void yamlQuotesOnlyWhatWouldReadBackAsSomethingElse() {
        assertEquals("a: plain/text\nb: \"true\"\nc: \"42\"\nd: \"line\\nbreak\"\ne: true\nf: 1.5\ng: null\n",
                ModifyResponseExample.jsonToYaml(
                        "{\"a\":\"plain/text\",\"b\":\"true\",\"c\":\"42\",\"d\":\"line\\nbreak\",\"e\":true,\"f\":1.5,\"g\":null}"));
        assertEquals("", ModifyResponseExample.jsonToYaml(" {} "));
        assertNull(ModifyResponseExample.jsonToYaml("{\"nested\":{\"a\":1}}"));
        assertNull(ModifyResponseExample.jsonToYaml("{\"a\":1} trailing"));
        assertNull(ModifyResponseExample.jsonToYaml("{\"a\":"));
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(proxy + path)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
