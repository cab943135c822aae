package dev.relay.server.internal.proxy;

import com.google.inject.Injector;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.internal.FilterRegistry;
import dev.relay.server.internal.ServerAssembly;
import dev.relay.server.internal.config.ConfigLoader;
import dev.relay.server.internal.config.ProxyConfig;
import dev.relay.testing.ExternalTool;
import dev.relay.testing.grpc.GrpcTestServer;
import dev.relay.testing.grpc.GrpcTestService;
import io.grpc.Metadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code grpc-web} filter end to end, configured as a user would ({@code filters = [ { name = grpc-web } ]}
 * on a route to an {@code alpn = h2} group): curl posts a gRPC-web body over HTTP/1.1 (or HTTP/2), the proxy speaks gRPC
 * over h2c to a real grpc-java origin, and the response comes back as gRPC-web, its trailers in a trailer
 * frame at the end of the body.
 */
@Timeout(60)
class GrpcWebEndToEndTest {
    private static final String ECHO = "/" + GrpcTestService.ECHO.getFullMethodName();
    private static GrpcTestServer origin;
    private static Server server;
    private static InetSocketAddress proxy;
    /** {@link GrpcTestServer#connectionsWithoutTeTrailers()} counts for the whole JVM: this class adds none. */
    private static int connectionsWithoutTeBefore;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        connectionsWithoutTeBefore = GrpcTestServer.connectionsWithoutTeTrailers();
        origin = GrpcTestServer.plaintext().start();
        FilterRegistry registry = FilterRegistry.load(GrpcWebEndToEndTest.class.getClassLoader());
        ProxyConfig config = new ConfigLoader(registry).parseString("""
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  server.upgrade-socket = none
                  upstreams { grpc { backends = [ "%s" ], alpn = h2 } }
                  routes = [ { upstream = grpc, filters = [ { name = grpc-web } ] } ]
                }
                """.formatted("127.0.0.1:" + origin.port()), "test.conf");
        Injector injector = ServerAssembly.injector(config, registry);
        server = injector.getInstance(Server.class);
        server.start();
        proxy = injector.getInstance(HttpProxyService.class).boundAddresses().get(0);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        origin.close();
    }

    @Test
    void binaryCallComesBackWithADataFrameAndATrailerFrame() throws Exception {
        Answer answer = post(ECHO, "application/grpc-web+proto", message(0, "hello"));

        assertEquals(200, answer.status(), answer.head());
        assertEquals("application/grpc-web", answer.header("content-type"), answer.head());
        List<Frame> frames = frames(answer.body());
        assertEquals(2, frames.size(), frames.toString());
        assertEquals(new Frame(0, "hello"), frames.get(0));
        assertEquals(0x80, frames.get(1).flags());
        assertTrue(frames.get(1).text().startsWith("grpc-status: 0\r\n"), frames.get(1).text());
        // The origin was asked in gRPC: its content type, and te: trailers, which HTTP/1.1 clients cannot send.
        Metadata seen = origin.lastRequestHeaders();
        assertEquals("application/grpc+proto", seen.get(Metadata.Key.of("content-type", Metadata.ASCII_STRING_MARSHALLER)));
        assertEquals(connectionsWithoutTeBefore, GrpcTestServer.connectionsWithoutTeTrailers(),
                "the origin saw a request without te: trailers");
    }

    @Test
    void aGrpcWebClientOnHttp2GetsTheTrailerFrameToo() throws Exception {
        Answer answer = post(ECHO, "application/grpc-web+proto", message(0, "over h2"), "--http2-prior-knowledge");

        assertTrue(answer.head().startsWith("HTTP/2 200"), answer.head());
        assertEquals("application/grpc-web", answer.header("content-type"), answer.head());
        List<Frame> frames = frames(answer.body());
        assertEquals(new Frame(0, "over h2"), frames.get(0));
        assertEquals(0x80, frames.get(1).flags());
        assertTrue(frames.get(1).text().startsWith("grpc-status: 0\r\n"), frames.get(1).text());
    }

    @Test
    void serverStreamingCallSendsEveryMessageThenTheTrailers() throws Exception {
        Answer answer = post("/" + GrpcTestService.REPEAT.getFullMethodName(), "application/grpc-web", message(0, "3"));

        List<Frame> frames = frames(answer.body());
        assertEquals(List.of(new Frame(0, "0"), new Frame(0, "1"), new Frame(0, "2")), frames.subList(0, 3), frames.toString());
        assertEquals(4, frames.size(), frames.toString());
        assertTrue(frames.get(3).text().startsWith("grpc-status: 0\r\n"), frames.get(3).text());
    }

    @Test
    void textCallIsBase64BothWays() throws Exception {
        byte[] body = Base64.getEncoder().encode(message(0, "in base64"));

        Answer answer = post(ECHO, "application/grpc-web-text", body);

        assertEquals(200, answer.status(), answer.head());
        assertEquals("application/grpc-web-text", answer.header("content-type"), answer.head());
        List<Frame> frames = frames(decodeSegments(answer.body()));
        assertEquals(new Frame(0, "in base64"), frames.get(0));
        assertEquals(0x80, frames.get(1).flags());
        assertTrue(frames.get(1).text().contains("grpc-status: 0\r\n"), frames.get(1).text());
    }

    @Test
    void anImmediateErrorKeepsItsStatusInTheHeader() throws Exception {
        Answer answer = post("/" + GrpcTestService.FAIL.getFullMethodName(), "application/grpc-web+proto",
                message(0, "empty-name"));

        assertEquals(200, answer.status(), answer.head());
        assertEquals("application/grpc-web", answer.header("content-type"), answer.head());
        assertEquals("3", answer.header("grpc-status"), answer.head());
        assertEquals("empty-name", answer.header("grpc-message"), answer.head());
        assertEquals(0, answer.body().length, "a trailers-only answer has no body");
    }

    /** Posts {@code body} with curl over HTTP/1.1, as a browser's gRPC-web client would. */
    private Answer post(String path, String contentType, byte[] body) throws Exception {
        return post(path, contentType, body, "--http1.1");
    }

    /** Posts {@code body} with curl speaking {@code protocol} ({@code --http1.1}, {@code --http2-prior-knowledge}). */
    private Answer post(String path, String contentType, byte[] body, String protocol) throws Exception {
        Path request = Files.write(dir.resolve("request.bin"), body);
        Path head = dir.resolve("head.txt");
        Path response = dir.resolve("response.bin");
        ExternalTool.Result r = ExternalTool.run(Duration.ofSeconds(20), "curl", "-sS", protocol, "--max-time", "10",
                "-H", "content-type: " + contentType, "-H", "x-grpc-web: 1", "-H", "accept: " + contentType,
                "--data-binary", "@" + request, "-D", head.toString(), "-o", response.toString(),
                "http://127.0.0.1:" + proxy.getPort() + path);
        assertEquals(0, r.exitCode(), r.stderr());
        return new Answer(Files.readString(head, StandardCharsets.ISO_8859_1), Files.readAllBytes(response));
    }

    /** A gRPC(-web) message frame: flags, 4-byte length, payload. */
    private static byte[] message(int flags, String payload) {
        byte[] data = payload.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(flags);
        out.write(data.length >>> 24);
        out.write(data.length >>> 16);
        out.write(data.length >>> 8);
        out.write(data.length);
        out.writeBytes(data);
        return out.toByteArray();
    }

    record Frame(int flags, String text) {}

    private static List<Frame> frames(byte[] body) {
        List<Frame> frames = new ArrayList<>();
        int at = 0;
        while (at < body.length) {
            assertTrue(at + 5 <= body.length, "a frame header cut short at " + at);
            int flags = body[at] & 0xff;
            int length = (body[at + 1] & 0xff) << 24 | (body[at + 2] & 0xff) << 16 | (body[at + 3] & 0xff) << 8 | body[at + 4] & 0xff;
            assertTrue(at + 5 + length <= body.length, "a frame cut short at " + at);
            frames.add(new Frame(flags, new String(body, at + 5, length, StandardCharsets.ISO_8859_1)));
            at += 5 + length;
        }
        return frames;
    }

    /** A gRPC-web-text body: padded base64 segments one after the other, decoded four characters at a time. */
    private static byte[] decodeSegments(byte[] text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, text.length % 4, "base64 in groups of four: " + new String(text, StandardCharsets.US_ASCII));
        for (int i = 0; i < text.length; i += 4) {
            out.writeBytes(Base64.getDecoder().decode(new String(text, i, 4, StandardCharsets.US_ASCII)));
        }
        return out.toByteArray();
    }

    private record Answer(String head, byte[] body) {
        int status() {
            return Integer.parseInt(head.split(" ")[1]);
        }

        String header(String name) {
            for (String line : head.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals(name)) {
                    return line.substring(colon + 1).trim();
                }
            }
            return null;
        }
    }
}
