package dev.relay.examples;

import dev.relay.core.PeerOptions;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.Services;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.grpc.GrpcTestServer;
import dev.relay.testing.grpc.GrpcTestService;
import io.grpc.Metadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The grpc_web_module example in front of a real grpc-java server over TLS and HTTP/2: an HTTP/1.1
 * gRPC-web call gets its messages and, at the end of the body, a trailer frame with the gRPC status.
 */
@Timeout(60)
class GrpcWebModuleExampleTest {
    private static GrpcTestServer grpcServer;
    private static Server server;
    private static String proxy;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() {
        grpcServer = GrpcTestServer.tls(TestCertificates.server("grpc.test")).start();
        PeerOptions trustTestCa = PeerOptions.builder().trustedCertificates(List.of(TestCertificates.caCertificate())).build();
        server = Server.create();
        HttpProxyService service = Services.httpProxy(new GrpcWebModuleExample(
                GrpcWebModuleExample.grpcPeer("127.0.0.1:" + grpcServer.port(), "grpc.test", trustTestCa)));
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
        grpcServer.close();
    }

    @Test
    void unaryCallOverHttp11ComesBackAsAMessageThenATrailerFrame() throws Exception {
        HttpResponse<byte[]> response = call(GrpcTestService.ECHO.getFullMethodName(), "hello");

        assertEquals(200, response.statusCode());
        assertEquals("application/grpc-web", response.headers().firstValue("content-type").orElseThrow());
        byte[] body = response.body();
        byte[] message = frame(0, "hello".getBytes(StandardCharsets.UTF_8));
        assertArrayEquals(message, java.util.Arrays.copyOfRange(body, 0, message.length));
        assertEquals(0x80, body[message.length] & 0xff, "a trailer frame follows the message");
        String trailers = new String(body, message.length + 5, body.length - message.length - 5, StandardCharsets.ISO_8859_1);
        assertTrue(trailers.startsWith("grpc-status: 0\r\n"), trailers);
        Metadata seen = grpcServer.lastRequestHeaders();
        assertEquals("application/grpc+proto", seen.get(Metadata.Key.of("content-type", Metadata.ASCII_STRING_MARSHALLER)),
                "the gRPC server was called in gRPC");
    }

    @Test
    void anImmediateGrpcErrorKeepsItsStatusInTheHeader() throws Exception {
        HttpResponse<byte[]> response = call(GrpcTestService.FAIL.getFullMethodName(), "no-such-user");

        assertEquals(200, response.statusCode());
        assertEquals("3", response.headers().firstValue("grpc-status").orElseThrow());
        assertEquals("no-such-user", response.headers().firstValue("grpc-message").orElseThrow());
        assertEquals(0, response.body().length);
    }

    private HttpResponse<byte[]> call(String method, String payload) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(proxy + "/" + method))
                        .header("content-type", "application/grpc-web+proto")
                        .header("x-grpc-web", "1")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(frame(0, payload.getBytes(StandardCharsets.UTF_8))))
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    /** A gRPC(-web) frame: flags, the 4-byte length, the payload. */
    private static byte[] frame(int flags, byte[] payload) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(flags);
        out.write(payload.length >>> 24);
        out.write(payload.length >>> 16);
        out.write(payload.length >>> 8);
        out.write(payload.length);
        out.writeBytes(payload);
        return out.toByteArray();
    }
}
