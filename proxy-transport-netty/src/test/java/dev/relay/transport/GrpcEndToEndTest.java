package dev.relay.transport;

import dev.relay.core.Alpn;
import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.core.RequestHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.testing.Await;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.TestOrigin;
import dev.relay.testing.grpc.GrpcTestClient;
import dev.relay.testing.grpc.GrpcTestServer;
import dev.relay.testing.grpc.GrpcTestService;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static dev.relay.testing.grpc.GrpcTestService.text;
import static dev.relay.testing.grpc.GrpcTestService.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * gRPC end to end through the proxy with real grpc-java on both sides: client → proxy → origin, both
 * hops HTTP/2 with prior knowledge (h2c), or both over TLS with ALPN {@code h2}. Every kind of call,
 * thousands of messages in one bidirectional call, a 4 MiB message, a deadline, an error answered
 * trailers-only, cancellation both ways (RST_STREAM), and a retry on a second backend.
 */
@Timeout(120)
class GrpcEndToEndTest {
    private static final int FOUR_MIB = 4 * 1024 * 1024;
    private static final Duration WAIT = Duration.ofSeconds(10);
    /** A request field the test proxy turns into the upstream request's {@code grpc-timeout}. */
    private static final Metadata.Key<String> ORIGIN_TIMEOUT = Metadata.Key.of("x-origin-timeout", Metadata.ASCII_STRING_MARSHALLER);

    /** Both hops in clear (h2c) or both over TLS. */
    enum Hops { H2C, TLS }

    private static GrpcTestServer plainOrigin;
    private static GrpcTestServer tlsOrigin;
    /** {@link GrpcTestServer#connectionsWithoutTeTrailers()} counts for the whole JVM: this class adds none. */
    private static int connectionsWithoutTeBefore;
    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private ProxyFixture fixture;
    private GrpcProxy proxy;

    @BeforeAll
    static void startOrigins() {
        connectionsWithoutTeBefore = GrpcTestServer.connectionsWithoutTeTrailers();
        plainOrigin = GrpcTestServer.plaintext().maxInboundMessageSize(2 * FOUR_MIB).start();
        tlsOrigin = GrpcTestServer.tls(TestCertificates.localhost()).maxInboundMessageSize(2 * FOUR_MIB).start();
    }

    @AfterAll
    static void stopOrigins() {
        plainOrigin.close();
        tlsOrigin.close();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
        if (fixture != null) {
            Await.until(() -> fixture.server.activeRequests() == 0, WAIT,
                    () -> "requests still active: " + fixture.server.activeRequests());
            fixture.close();
        }
    }

    private static GrpcTestServer origin(Hops hops) {
        return hops == Hops.TLS ? tlsOrigin : plainOrigin;
    }

    /** The origin as an HTTP/2 peer: h2c with prior knowledge, or TLS with ALPN h2 trusting the test CA. */
    private static HttpPeer peer(Hops hops, InetSocketAddress address) {
        PeerOptions.Builder options = PeerOptions.builder().alpn(Alpn.H2);
        if (hops == Hops.TLS) {
            return HttpPeer.tls(address, "localhost")
                    .withOptions(options.trustedCertificates(List.of(TestCertificates.caCertificate())).build());
        }
        return HttpPeer.plain(address).withOptions(options.build());
    }

    /** Starts a proxy over {@code peers} (one per attempt, in turn) and returns a client of it. */
    private GrpcTestClient client(Hops hops, HttpPeer... peers) {
        proxy = new GrpcProxy(List.of(peers));
        fixture = new ProxyFixture(proxy, ProxyOptions.builder().maxAttempts(2).build());
        InetSocketAddress listener = fixture.address;
        GrpcTestClient.Builder client;
        if (hops == Hops.TLS) {
            TestCertificates.Server cert = TestCertificates.localhost();
            listener = fixture.server.bind("127.0.0.1:0", ListenerOptions.builder()
                    .tls(TlsSettings.builder().certificate(cert.certificateChainPem(), cert.privateKeyPem()).build()).build());
            client = GrpcTestClient.builder(listener).tls("localhost");
        } else {
            client = GrpcTestClient.builder(listener);
        }
        GrpcTestClient c = client.maxInboundMessageSize(2 * FOUR_MIB).build();
        cleanup.add(c);
        return c;
    }

    private GrpcTestClient client(Hops hops) {
        return client(hops, peer(hops, origin(hops).address()));
    }

    @ParameterizedTest
    @EnumSource(Hops.class)
    void unaryServerStreamingAndClientStreamingCallsPassThrough(Hops hops) {
        GrpcTestClient client = client(hops);

        assertEquals("hello", text(client.unary(GrpcTestService.ECHO, utf8("hello"))));
        List<String> numbers = IntStream.range(0, 1000).mapToObj(Integer::toString).toList();
        assertEquals(numbers, texts(client.serverStreaming(GrpcTestService.REPEAT, utf8("1000"))));
        List<byte[]> addends = IntStream.rangeClosed(1, 1000).mapToObj(i -> utf8(Integer.toString(i))).toList();
        assertEquals("1000 500500", text(client.clientStreaming(GrpcTestService.SUM, addends)));
        // What reached the origin is a gRPC request: content type and te: trailers arrived.
        Metadata seen = origin(hops).lastRequestHeaders();
        assertEquals("application/grpc", seen.get(Metadata.Key.of("content-type", Metadata.ASCII_STRING_MARSHALLER)));
        assertEquals(connectionsWithoutTeBefore, GrpcTestServer.connectionsWithoutTeTrailers(),
                "the origin saw a request without te: trailers");
    }

    @ParameterizedTest
    @EnumSource(Hops.class)
    void bidirectionalCallKeepsTheOrderAndContentOfThousandsOfMessages(Hops hops) {
        GrpcTestClient client = client(hops);
        Random random = new Random(11);
        List<String> sent = IntStream.range(0, 5000)
                .mapToObj(i -> "message-" + i + "-" + "x".repeat(random.nextInt(200)))
                .toList();

        List<byte[]> received = client.bidiStreaming(GrpcTestService.CHAT, sent.stream().map(GrpcTestService::utf8).toList());

        assertEquals(sent, texts(received));
    }

    @ParameterizedTest
    @EnumSource(Hops.class)
    void aFourMebibyteMessageGoesBothWays(Hops hops) {
        GrpcTestClient client = client(hops);
        byte[] big = new byte[FOUR_MIB];
        new Random(4).nextBytes(big);

        assertArrayEquals(big, client.unary(GrpcTestService.ECHO, big));
    }

    @ParameterizedTest
    @EnumSource(Hops.class)
    void deadlineExceededReachesTheClientAndTheOriginCallIsCancelled(Hops hops) {
        GrpcTestClient client = client(hops);
        int before = origin(hops).cancellations(GrpcTestService.SLEEP);
        // The origin's side gets a deadline of its own far beyond the client's: with the client's, the
        // origin's deadline passed at the same moment, and when its reset (RST_STREAM CANCEL) reached
        // the proxy before the client's timer fired, the client saw the proxy's 502 (UNAVAILABLE). Now
        // only the client's cancellation, carried by the proxy, can end the origin's call.
        Metadata fields = new Metadata();
        fields.put(ORIGIN_TIMEOUT, "60S");
        Channel channel = ClientInterceptors.intercept(client.channel(), MetadataUtils.newAttachHeadersInterceptor(fields));

        // A deadline long enough for the call to reach the origin on a loaded machine (with 300 ms
        // it sometimes expired before the origin started the call, which then had nothing to
        // cancel), and far below the origin's 20 s sleep.
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> ClientCalls.blockingUnaryCall(channel, GrpcTestService.SLEEP,
                        CallOptions.DEFAULT.withDeadlineAfter(2, TimeUnit.SECONDS), utf8("20000")));

        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        origin(hops).awaitCancellations(GrpcTestService.SLEEP, before + 1, WAIT);
    }

    @ParameterizedTest
    @EnumSource(Hops.class)
    void anErrorAnsweredTrailersOnlyKeepsItsCodeAndMessage(Hops hops) {
        GrpcTestClient client = client(hops);

        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> client.unary(GrpcTestService.FAIL, utf8("the name must not be empty")));

        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("the name must not be empty", e.getStatus().getDescription());
    }

    @ParameterizedTest
    @EnumSource(Hops.class)
    void aClientCancellationReachesTheOrigin(Hops hops) {
        GrpcTestClient client = client(hops);
        int before = origin(hops).cancellations(GrpcTestService.HANG);

        Context.CancellableContext call = Context.current().withCancellation();
        Context previous = call.attach();
        try {
            Iterator<byte[]> responses = ClientCalls.blockingServerStreamingCall(client.channel(), GrpcTestService.HANG,
                    client.callOptions(), utf8(""));
            // The origin answered: the call is open on both hops when the client cancels it.
            assertEquals("started", text(responses.next()));
        } finally {
            call.detach(previous);
            call.cancel(null);
        }

        origin(hops).awaitCancellations(GrpcTestService.HANG, before + 1, WAIT);
    }

    @ParameterizedTest
    @EnumSource(Hops.class)
    void anOriginResetReachesTheClientAsAnErrorStatus(Hops hops) {
        GrpcTestClient client = client(hops);
        int before = origin(hops).cancellations(GrpcTestService.HANG);
        Metadata fields = new Metadata();
        // The proxy gives the origin's side a 300 ms deadline the client does not have: grpc-java resets
        // its stream (RST_STREAM CANCEL) when it passes, as the response has started.
        fields.put(ORIGIN_TIMEOUT, "300m");
        Channel channel = ClientInterceptors.intercept(client.channel(), MetadataUtils.newAttachHeadersInterceptor(fields));

        Iterator<byte[]> responses = ClientCalls.blockingServerStreamingCall(channel, GrpcTestService.HANG,
                CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), utf8(""));
        assertEquals("started", text(responses.next()));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, responses::next);

        assertTrue(Set.of(Status.Code.CANCELLED, Status.Code.INTERNAL, Status.Code.UNAVAILABLE).contains(e.getStatus().getCode()),
                "an error status for a reset stream: " + e.getStatus());
        origin(hops).awaitCancellations(GrpcTestService.HANG, before + 1, WAIT);
    }

    @ParameterizedTest
    @EnumSource(Hops.class)
    void anIdempotentCallIsRetriedOnTheSecondBackendWhenTheFirstRefuses(Hops hops) throws Exception {
        HttpPeer refusing = peer(hops, new InetSocketAddress("127.0.0.1", TestOrigin.closedPort()));
        GrpcTestClient client = client(hops, refusing, peer(hops, origin(hops).address()));
        int before = origin(hops).calls(GrpcTestService.ECHO);

        assertEquals("again", text(client.unary(GrpcTestService.ECHO, utf8("again"))));

        FailoverProxy.Outcome outcome = proxy.nextOutcome();
        assertEquals(2, outcome.attempts(), outcome.toString());
        assertEquals(List.of("connect:CONNECT_REFUSED"), outcome.failures(), outcome.toString());
        assertEquals(before + 1, origin(hops).calls(GrpcTestService.ECHO));
    }

    private static List<String> texts(List<byte[]> messages) {
        List<String> out = new ArrayList<>(messages.size());
        messages.forEach(m -> out.add(text(m)));
        return out;
    }

    /** The failover proxy, which also sets the upstream request's {@code grpc-timeout} when the client asks. */
    static final class GrpcProxy extends FailoverProxy {
        GrpcProxy(List<HttpPeer> peers) {
            super(peers);
        }

        @Override
        public CompletionStage<Void> upstreamRequestFilter(Session session, RequestHeader upstreamRequest, Ctx ctx) {
            String timeout = upstreamRequest.headers().get(ORIGIN_TIMEOUT.name());
            if (timeout != null) {
                upstreamRequest.headers().remove(ORIGIN_TIMEOUT.name());
                upstreamRequest.headers().set("grpc-timeout", timeout);
            }
            return Stages.done();
        }
    }
}
