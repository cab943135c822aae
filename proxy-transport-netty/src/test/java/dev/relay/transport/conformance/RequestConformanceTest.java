package dev.relay.transport.conformance;

import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyHttp;
import dev.relay.core.Session;
import dev.relay.testing.Await;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.RecordedRequest;
import dev.relay.testing.TestOrigin;
import dev.relay.transport.HttpProxyServer;
import dev.relay.transport.ProxyOptions;
import dev.relay.transport.TransportRuntime;
import dev.relay.transport.UnderscoresInHeaders;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The request side of RFC 9110 / RFC 9112, one case per statement: raw bytes in, the raw response out,
 * and what the origin (a {@link TestOrigin}, which records every request) received. Every case runs
 * twice, the request written whole and {@linkplain Delivery#ONE_BYTE_PER_WRITE one byte per write}.
 *
 * <p>A request the proxy must refuse gets its status with {@code Connection: close}, the connection
 * closes (after a framing fault nothing that follows can be trusted, RFC 9112 §6.3 and §9.6), and the
 * origin never receives it.
 */
@Timeout(120)
class RequestConformanceTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    private static TransportRuntime runtime;
    private static TestOrigin origin;
    private static RecordingProxy routing;
    private static HttpProxyServer strict;
    private static HttpProxyServer permissive;
    private static HttpProxyServer rejectingUnderscores;

    @BeforeAll
    static void start() {
        runtime = TransportRuntime.create(TransportRuntime.Kind.AUTO, 1);
        origin = TestOrigin.builder().name("conformance").build().start();
        routing = new RecordingProxy(origin.address());
        strict = proxy(ProxyOptions.defaults());
        permissive = proxy(ProxyOptions.builder().allowTrace(true).underscoresInHeaders(UnderscoresInHeaders.ALLOW).build());
        rejectingUnderscores = proxy(ProxyOptions.builder().underscoresInHeaders(UnderscoresInHeaders.REJECT).build());
    }

    private static HttpProxyServer proxy(ProxyOptions options) {
        HttpProxyServer server = HttpProxyServer.create(routing, options, runtime);
        server.bind("127.0.0.1:0");
        return server;
    }

    @AfterAll
    static void stop() {
        for (HttpProxyServer server : List.of(strict, permissive, rejectingUnderscores)) {
            server.close();
        }
        origin.close();
        runtime.close();
    }

    /**
     * One statement of an RFC and a request that breaks it.
     *
     * @param statement where the RFC says it, and what
     * @param request   the raw request
     * @param status    the answer the statement calls for
     */
    record Refusal(String statement, String request, int status) {
        @Override
        public String toString() {
            return statement;
        }
    }

    private static Refusal refusal(String statement, String request, int status) {
        return new Refusal(statement, request, status);
    }

    private static final String BODY_HEAD = "POST /sink HTTP/1.1\r\nHost: origin.test\r\nTransfer-Encoding: chunked\r\n\r\n";

    static Stream<Refusal> headRefusals() {
        return Stream.of(
            refusal("RFC 9112 §6.3: a Content-Length list is invalid framing → 400",
                    "POST /sink HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\nhello", 400),
            refusal("RFC 9112 §6.3: two Content-Length fields are invalid framing → 400",
                    "POST /sink HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400),
            refusal("RFC 9110 §8.6: Content-Length is 1*DIGIT, a sign is invalid → 400",
                    "POST /sink HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\nhello", 400),
            refusal("RFC 9110 §8.6: Content-Length is 1*DIGIT, hex is invalid → 400",
                    "POST /sink HTTP/1.1\r\nHost: h\r\nContent-Length: 0x5\r\n\r\nhello", 400),
            refusal("RFC 9110 §8.6: an empty Content-Length is invalid → 400",
                    "POST /sink HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n", 400),
            refusal("RFC 9110 §8.6: whitespace inside Content-Length is invalid → 400",
                    "POST /sink HTTP/1.1\r\nHost: h\r\nContent-Length: 5 5\r\n\r\nhello", 400),
            refusal("RFC 9110 §8.6: a Content-Length that overflows is invalid → 400",
                    "POST /sink HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n", 400),
            refusal("RFC 9112 §6.3: Transfer-Encoding with Content-Length may be smuggling → 400",
                    "POST /sink HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
            refusal("RFC 9112 §6.3: a Transfer-Encoding whose final coding is not chunked → 400",
                    "POST /sink HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400),
            refusal("RFC 9112 §6.1: a transfer coding other than chunked is not understood → 400",
                    "POST /sink HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\nhello", 400),
            refusal("RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 request is faulty framing → 400",
                    "POST /sink HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
            refusal("RFC 9112 §5.2: obs-fold in a request → 400",
                    "GET / HTTP/1.1\r\nHost: h\r\nX-A: b\r\n  folded\r\n\r\n", 400),
            refusal("RFC 9112 §5.1: whitespace between a field name and the colon → 400",
                    "GET / HTTP/1.1\r\nHost: h\r\nX-A : b\r\n\r\n", 400),
            refusal("RFC 9110 §5.5: NUL in a field value → 400",
                    "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u0000b\r\n\r\n", 400),
            refusal("RFC 9110 §5.5: a bare CR in a field value → 400",
                    "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n", 400),
            refusal("RFC 9110 §5.1: a field name is a token → 400",
                    "GET / HTTP/1.1\r\nHost: h\r\nX(A): b\r\n\r\n", 400),
            refusal("RFC 9112 §3.2: NUL in the request target → 400", "GET /a\u0000b HTTP/1.1\r\nHost: h\r\n\r\n", 400),
            refusal("RFC 9112 §3.2: a control character in the request target → 400",
                    "GET /a\u0001b HTTP/1.1\r\nHost: h\r\n\r\n", 400),
            refusal("RFC 9112 §3.2: DEL in the request target → 400", "GET /a\u007fb HTTP/1.1\r\nHost: h\r\n\r\n", 400),
            refusal("RFC 9112 §3: a raw space in the request target → 400", "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400),
            refusal("RFC 9112 §3.2: a target in no form a server accepts → 400",
                    "GET example.test/x HTTP/1.1\r\nHost: h\r\n\r\n", 400),
            refusal("RFC 9110 §15.6.6: HTTP/2.0 on an HTTP/1 request line → 505",
                    "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
            refusal("RFC 9110 §15.6.6: HTTP/1.2 is a major version 1 the proxy does not speak → 505",
                    "GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505),
            refusal("RFC 9112 §3: a request line longer than the server parses → 414",
                    "GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: h\r\n\r\n", 414),
            refusal("RFC 9112 §3.2: an HTTP/1.1 request without Host → 400", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400),
            refusal("RFC 9112 §3.2: more than one Host → 400", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
            refusal("RFC 9112 §3.2: a Host with a space is an invalid value → 400",
                    "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
            refusal("RFC 9110 §4.2.4: a Host with userinfo is an error → 400",
                    "GET / HTTP/1.1\r\nHost: user@origin.test\r\n\r\n", 400),
            refusal("RFC 9110 §7.2: a Host port beyond 65535 → 400", "GET / HTTP/1.1\r\nHost: origin.test:65536\r\n\r\n", 400),
            refusal("RFC 9110 §7.2: a Host port that is not a number → 400",
                    "GET / HTTP/1.1\r\nHost: origin.test:http\r\n\r\n", 400),
            refusal("RFC 9110 §4.2.4: an absolute-form target with userinfo is an error → 400",
                    "GET http://user:pw@origin.test/ HTTP/1.1\r\nHost: origin.test\r\n\r\n", 400),
            refusal("RFC 6585 §5: one header field over max-field-size (8 KiB) → 431",
                    "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + "b".repeat(20 * 1024) + "\r\n\r\n", 431),
            refusal("RFC 6585 §5: more header fields than max-fields (100) → 431",
                    "GET / HTTP/1.1\r\nHost: h\r\n" + fields(150) + "\r\n", 431),
            refusal("RFC 9110 §9.3.8: TRACE is refused unless allow-trace → 405", "TRACE / HTTP/1.1\r\nHost: h\r\n\r\n", 405),
            refusal("RFC 9110 §9.3.6: CONNECT on a listener without connect.allow → 405",
                    "CONNECT origin.test:443 HTTP/1.1\r\nHost: origin.test:443\r\n\r\n", 405));
    }

    static Stream<Refusal> bodyRefusals() {
        return Stream.of(
            refusal("RFC 9112 §7.1: a chunk size is hex digits → 400", BODY_HEAD + "g\r\nhello\r\n0\r\n\r\n", 400),
            refusal("RFC 9112 §7.1: a chunk-size line ends in CRLF, not a bare LF → 400",
                    BODY_HEAD + "5\nhello\r\n0\r\n\r\n", 400),
            refusal("RFC 9112 §7.1: chunk data is followed by CRLF → 400", BODY_HEAD + "5\r\nhelloXY0\r\n\r\n", 400),
            refusal("RFC 9112 §7.1: a chunk size of 26 hex digits (leading zeros) is refused → 400",
                    BODY_HEAD + "0".repeat(25) + "5\r\nhello\r\n0\r\n\r\n", 400),
            refusal("RFC 9112 §7.1.1: a 20 KB chunk extension is refused → 400",
                    BODY_HEAD + "5;ext=" + "x".repeat(20 * 1024) + "\r\nhello\r\n0\r\n\r\n", 400));
    }

    private static String fields(int count) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < count; i++) {
            s.append("X-Field-").append(i).append(": ").append(i).append("\r\n");
        }
        return s.toString();
    }

    private static Stream<Arguments> eachDelivery(Stream<Refusal> refusals) {
        return refusals.flatMap(r -> Stream.of(Delivery.values()).map(d -> Arguments.of(r, d)));
    }

    static Stream<Arguments> headRefusalCases() {
        return eachDelivery(headRefusals());
    }

    static Stream<Arguments> bodyRefusalCases() {
        return eachDelivery(bodyRefusals());
    }

    @ParameterizedTest(name = "{0} [{1}]")
    @MethodSource("headRefusalCases")
    void aMalformedHeadIsAnsweredAndClosedAndNeverReachesTheOrigin(Refusal refusal, Delivery delivery) throws IOException {
        int requestsBefore = origin.requests().size();
        int connectionsBefore = origin.connectionsAccepted();
        assertRefusedAndClosed(strict, refusal, delivery);
        assertEquals(requestsBefore, origin.requests().size(), "nothing reached the origin");
        assertEquals(connectionsBefore, origin.connectionsAccepted(), "the proxy did not even connect");
    }

    @ParameterizedTest(name = "{0} [{1}]")
    @MethodSource("bodyRefusalCases")
    void aMalformedChunkedBodyIsAnsweredAndClosedAndNoWholeRequestReachesTheOrigin(Refusal refusal, Delivery delivery)
            throws IOException {
        long completeBefore = completeRequests(origin);
        assertRefusedAndClosed(strict, refusal, delivery);
        // The head may have gone upstream; then the origin saw it cut short (TestOrigin records it so).
        assertEquals(completeBefore, completeRequests(origin), "the origin saw no complete request");
    }

    private static void assertRefusedAndClosed(HttpProxyServer proxy, Refusal refusal, Delivery delivery)
            throws IOException {
        try (RawHttpConnection client = new RawHttpConnection(proxy.boundAddresses().get(0))) {
            delivery.write(client, refusal.request().getBytes(StandardCharsets.ISO_8859_1));
            RawHttpConnection.Response response = client.readResponse();
            assertEquals(refusal.status(), response.status(), response.statusLine());
            assertEquals("close", response.header("Connection"), "RFC 9112 §9.6: the proxy says it closes");
            assertTrue(client.closedByPeer(), "and closes");
        }
    }

    @ParameterizedTest(name = "RFC 9112 §6.3: a chunked body broken after its head went upstream closes the upstream "
            + "connection mid-message [{0}]")
    @EnumSource(Delivery.class)
    void aBodyBrokenAfterTheHeadWentUpstreamClosesTheUpstreamConnectionMidMessage(Delivery delivery) throws Exception {
        try (TestOrigin own = TestOrigin.builder().name("streaming").build().start();
             HttpProxyServer proxy = HttpProxyServer.create(new RecordingProxy(own.address()), ProxyOptions.defaults(),
                     runtime)) {
            proxy.bind("127.0.0.1:0");
            try (RawHttpConnection client = new RawHttpConnection(proxy.boundAddresses().get(0))) {
                delivery.write(client, (BODY_HEAD + "5\r\nhello\r\n").getBytes(StandardCharsets.ISO_8859_1));
                Await.until(() -> own.connectionsAccepted() == 1, WAIT, () -> "the head went upstream");
                delivery.write(client, "5\r\nworldXY".getBytes(StandardCharsets.ISO_8859_1));
                RawHttpConnection.Response response = client.readResponse();
                assertEquals(400, response.status(), response.statusLine());
                assertEquals("close", response.header("Connection"));
                assertTrue(client.closedByPeer());
            }
            own.awaitOpenConnections(0, WAIT);
            assertEquals(0, completeRequests(own), "the origin never saw a complete request: " + own.requests());
        }
    }

    @ParameterizedTest(name = "RFC 9112 §3.2: an HTTP/1.0 request may come without Host [{0}]")
    @EnumSource(Delivery.class)
    void anHttp10RequestWithoutHostIsForwarded(Delivery delivery) throws IOException {
        RecordedRequest seen = forwarded(strict, "GET /http10 HTTP/1.0\r\n\r\n", delivery);
        assertEquals("/http10", seen.uri());
    }

    @ParameterizedTest(name = "RFC 9112 §3.2.2: an absolute-form target wins over Host and goes upstream in origin "
            + "form with its authority as the one Host [{0}]")
    @EnumSource(Delivery.class)
    void anAbsoluteFormTargetWinsOverHost(Delivery delivery) throws IOException {
        routing.hosts.clear();
        RecordedRequest seen = forwarded(strict,
                "GET http://example.com/x?q=1 HTTP/1.1\r\nHost: other\r\nAccept: */*\r\n\r\n", delivery);
        assertEquals("GET", seen.method());
        assertEquals("/x?q=1", seen.uri(), "origin form upstream");
        assertEquals(List.of("example.com"), seen.headerValues("Host"), "one Host, the target's");
        assertEquals("example.com", routing.hosts.poll(), "routing by host sees the target's");
    }

    @ParameterizedTest(name = "underscores-in-headers = drop (default, as nginx): the field never reaches the origin [{0}]")
    @EnumSource(Delivery.class)
    void aFieldNameWithAnUnderscoreIsDroppedByDefault(Delivery delivery) throws IOException {
        RecordedRequest seen = forwarded(strict, "GET /underscore HTTP/1.1\r\nHost: h\r\nX_A: b\r\nX-A: c\r\n\r\n", delivery);
        assertNull(seen.header("X_A"));
        assertEquals("c", seen.header("X-A"));
    }

    @ParameterizedTest(name = "underscores-in-headers = allow: the field is forwarded [{0}]")
    @EnumSource(Delivery.class)
    void aFieldNameWithAnUnderscoreIsForwardedWhenAllowed(Delivery delivery) throws IOException {
        RecordedRequest seen = forwarded(permissive, "GET /underscore HTTP/1.1\r\nHost: h\r\nX_A: b\r\n\r\n", delivery);
        assertEquals("b", seen.header("X_A"));
    }

    @ParameterizedTest(name = "underscores-in-headers = reject: 400 [{0}]")
    @EnumSource(Delivery.class)
    void aFieldNameWithAnUnderscoreIsRefusedWhenSoConfigured(Delivery delivery) throws IOException {
        int requestsBefore = origin.requests().size();
        assertRefusedAndClosed(rejectingUnderscores, refusal("underscore", "GET / HTTP/1.1\r\nHost: h\r\nX_A: b\r\n\r\n",
                400), delivery);
        assertEquals(requestsBefore, origin.requests().size());
    }

    @ParameterizedTest(name = "allow-trace = true: TRACE is proxied [{0}]")
    @EnumSource(Delivery.class)
    void traceIsForwardedWhenAllowed(Delivery delivery) throws IOException {
        RecordedRequest seen = forwarded(permissive, "TRACE /trace HTTP/1.1\r\nHost: h\r\n\r\n", delivery);
        assertEquals("TRACE", seen.method());
    }

    @ParameterizedTest(name = "RFC 6585 §5: max-fields (100) and max-field-size (8 KiB) are allowed exactly [{0}]")
    @EnumSource(Delivery.class)
    void theFieldLimitsThemselvesAreAccepted(Delivery delivery) throws IOException {
        String line = "X-Big: " + "b".repeat(8 * 1024 - "X-Big: ".length());
        RecordedRequest seen = forwarded(strict, "GET /limits HTTP/1.1\r\nHost: h\r\n" + line + "\r\n" + fields(98)
                + "\r\n", delivery);
        assertEquals(8 * 1024 - "X-Big: ".length(), seen.header("X-Big").length());
        assertEquals("97", seen.header("X-Field-97"));
    }

    private static long completeRequests(TestOrigin o) {
        return o.requests().stream().filter(RecordedRequest::bodyComplete).count();
    }

    /** Sends {@code request} through {@code proxy} and returns what the origin received (the response must be the origin's 200). */
    private static RecordedRequest forwarded(HttpProxyServer proxy, String request, Delivery delivery) throws IOException {
        int requestsBefore = origin.requests().size();
        try (RawHttpConnection client = new RawHttpConnection(proxy.boundAddresses().get(0))) {
            delivery.write(client, request.getBytes(StandardCharsets.ISO_8859_1));
            RawHttpConnection.Response response = client.readResponse(request.startsWith("HEAD"));
            assertEquals(200, response.status(), response.statusLine());
            assertEquals("conformance", response.header("X-Origin"));
        }
        List<RecordedRequest> requests = origin.requests();
        assertEquals(requestsBefore + 1, requests.size());
        return requests.get(requests.size() - 1);
    }

    /** Routes every request to one origin and records the {@code Host} that routing saw. */
    static final class RecordingProxy implements ProxyHttp<Object> {
        final Queue<String> hosts = new ConcurrentLinkedQueue<>();
        private final String originAddress;

        RecordingProxy(String originAddress) {
            this.originAddress = originAddress;
        }

        @Override
        public Object newCtx() {
            return new Object();
        }

        @Override
        public CompletionStage<HttpPeer> upstreamPeer(Session session, Object ctx) {
            String host = session.requestHeader().headers().get("Host");
            if (host != null) {
                hosts.add(host);
            }
            return CompletableFuture.completedFuture(HttpPeer.plain(originAddress));
        }
    }
}
