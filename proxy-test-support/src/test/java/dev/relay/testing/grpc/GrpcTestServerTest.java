package dev.relay.testing.grpc;

import dev.relay.testing.ExternalTool;
import dev.relay.testing.TestCertificates;
import io.grpc.CallOptions;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.IntStream;

import static dev.relay.testing.grpc.GrpcTestService.text;
import static dev.relay.testing.grpc.GrpcTestService.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The gRPC test peers talk to each other directly, so a proxy test that fails points at the proxy. */
@Timeout(60)
class GrpcTestServerTest {
    private static GrpcTestServer plain;
    private static GrpcTestServer tls;

    @BeforeAll
    static void start() {
        plain = GrpcTestServer.plaintext().maxInboundMessageSize(8 << 20).start();
        tls = GrpcTestServer.tls(TestCertificates.localhost()).start();
    }

    @AfterAll
    static void stop() {
        plain.close();
        tls.close();
    }

    @Test
    void everyKindOfCallOverH2c() {
        try (GrpcTestClient client = GrpcTestClient.plaintext(plain.address())) {
            assertEquals("hello", text(client.unary(GrpcTestService.ECHO, utf8("hello"))));
            assertEquals(List.of("0", "1", "2"), texts(client.serverStreaming(GrpcTestService.REPEAT, utf8("3"))));
            assertEquals("3 60", text(client.clientStreaming(GrpcTestService.SUM, List.of(utf8("10"), utf8("20"), utf8("30")))));
            List<String> sent = IntStream.range(0, 500).mapToObj(i -> "m" + i).toList();
            assertEquals(sent, texts(client.bidiStreaming(GrpcTestService.CHAT, sent.stream().map(GrpcTestService::utf8).toList())));
            assertEquals("slept", text(client.unary(GrpcTestService.SLEEP, utf8("10"))));
        }
        assertEquals("application/grpc", plain.lastRequestHeaders().get(Metadata.Key.of("content-type", Metadata.ASCII_STRING_MARSHALLER)));
    }

    @Test
    void aLargeMessageWithRaisedLimits() {
        byte[] big = new byte[5 << 20];
        new java.util.Random(7).nextBytes(big);
        try (GrpcTestClient client = GrpcTestClient.builder(plain.address()).maxInboundMessageSize(8 << 20).build()) {
            assertArrayEquals(big, client.unary(GrpcTestService.ECHO, big));
        }
    }

    @Test
    void failureComesWithCodeAndMessage() {
        try (GrpcTestClient client = GrpcTestClient.plaintext(plain.address())) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> client.unary(GrpcTestService.FAIL, utf8("no such thing")));
            assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
            assertEquals("no such thing", e.getStatus().getDescription());
        }
    }

    @Test
    void deadlineCancelsTheSleepingCall() {
        int before = plain.cancellations(GrpcTestService.SLEEP);
        try (GrpcTestClient client = GrpcTestClient.plaintext(plain.address())) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> client.unary(GrpcTestService.SLEEP, utf8("10000"), Duration.ofMillis(200)));
            assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        }
        plain.awaitCancellations(GrpcTestService.SLEEP, before + 1, Duration.ofSeconds(10));
    }

    @Test
    void clientCancellationReachesTheHangingCall() {
        int before = plain.cancellations(GrpcTestService.HANG);
        try (GrpcTestClient client = GrpcTestClient.plaintext(plain.address())) {
            Context.CancellableContext context = Context.current().withCancellation();
            Context previous = context.attach();
            try {
                Iterator<byte[]> responses = ClientCalls.blockingServerStreamingCall(client.channel(), GrpcTestService.HANG,
                        CallOptions.DEFAULT, utf8(""));
                assertEquals("started", text(responses.next()));
            } finally {
                context.detach(previous);
                context.cancel(null);
            }
        }
        plain.awaitCancellations(GrpcTestService.HANG, before + 1, Duration.ofSeconds(10));
    }

    @Test
    void unaryOverTls() {
        try (GrpcTestClient client = GrpcTestClient.builder(tls.address()).tls("localhost").build()) {
            assertEquals("secure", text(client.unary(GrpcTestService.ECHO, utf8("secure"))));
        }
        assertEquals(1, tls.calls(GrpcTestService.ECHO));
    }

    @Test
    void aRequestWithoutTeTrailersIsCounted() throws Exception {
        // A fresh server: grpc-java warns once per connection, and curl opens one.
        try (GrpcTestServer server = GrpcTestServer.plaintext().start()) {
            int before = GrpcTestServer.connectionsWithoutTeTrailers();
            ExternalTool.Result r = ExternalTool.run(Duration.ofSeconds(20), "curl", "-sS", "--http2-prior-knowledge",
                    "--max-time", "10", "-H", "content-type: application/grpc", "--data-binary", "@/dev/null", "-o", "/dev/null",
                    "http://127.0.0.1:" + server.port() + "/" + GrpcTestService.ECHO.getFullMethodName());
            assertEquals(0, r.exitCode(), r.stderr());
            assertEquals(before + 1, GrpcTestServer.connectionsWithoutTeTrailers());
        }
    }

    static List<String> texts(List<byte[]> messages) {
        List<String> out = new ArrayList<>();
        messages.forEach(m -> out.add(text(m)));
        return out;
    }
}
