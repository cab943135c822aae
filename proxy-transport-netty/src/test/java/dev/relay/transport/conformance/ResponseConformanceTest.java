package dev.relay.transport.conformance;

import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.ProxyHttp;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.transport.HttpProxyServer;
import dev.relay.transport.ProxyOptions;
import dev.relay.transport.TransportRuntime;
import dev.relay.testing.RawResponseOrigin;
import dev.relay.testing.RawResponseOrigin.Delivery;
import dev.relay.testing.RawResponseOrigin.Reply;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The response side of RFC 9110/9112, one case per statement: an origin ({@link RawResponseOrigin}) sends
 * exact bytes, whole and then one byte per write; the test records what a raw-socket client of the proxy
 * received, what the proxy's {@code logging} phase saw as the final status, and whether the proxy sent its
 * next request on the same upstream connection (a response whose framing is in doubt, or that was followed
 * by bytes nobody asked for, must never leave its connection in the pool).
 *
 * <p>Cases named "Relay policy" are stricter than the RFC requires, and say which RFC latitude they use.
 * The proxy runs on one event loop, so a connection it pooled is the one the next request finds.
 */
@Timeout(60)
class ResponseConformanceTest {
    private static final TransportRuntime ONE_LOOP = TransportRuntime.create(TransportRuntime.Kind.AUTO, 1);
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String GET = "GET /case HTTP/1.1\r\nHost: conformance\r\nConnection: close\r\n\r\n";
    private static final String HEAD = "HEAD /case HTTP/1.1\r\nHost: conformance\r\nConnection: close\r\n\r\n";
    private static final String NEXT = "GET /next HTTP/1.1\r\nHost: conformance\r\nConnection: close\r\n\r\n";
    private static final String NEXT_REPLY = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext";
    private static final String OK_HELLO = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    private static final String LONG_FIELD = "X-Long: " + "a".repeat(40 * 1024) + "\r\n";

    @AfterAll
    static void stopLoop() {
        ONE_LOOP.close();
    }

    /** What the upstream connection does after the case's response. */
    enum Reuse { REUSED, NOT_REUSED }

    /**
     * One RFC statement: the client's request, the origin's bytes for it (and whether the origin closes
     * after them), what the client must see, and whether the connection may carry the next request.
     */
    record ResponseCase(String statement, String request, @Nullable String bodyAfterInterim, String originReply,
                        boolean originCloses, Consumer<ClientSaw> expectation, Reuse reuse) {
        /** A case whose request goes out whole. */
        ResponseCase(String statement, String request, String originReply, boolean originCloses,
                     Consumer<ClientSaw> expectation, Reuse reuse) {
            this(statement, request, null, originReply, originCloses, expectation, reuse);
        }

        @Override
        public String toString() {
            return statement;
        }
    }

    static Stream<Arguments> cases() {
        List<ResponseCase> all = new ArrayList<>();
        // ---- status line (RFC 9112 §4, §2.3; RFC 9110 §15) -------------------------------------------------
        all.add(badGateway("RFC 9112 §4: status-code is three digits (four are a bad gateway)",
                "HTTP/1.1 2000 OK\r\nContent-Length: 5\r\n\r\nhello"));
        all.add(badGateway("RFC 9112 §4: status-code is three digits (two are a bad gateway)",
                "HTTP/1.1 20 OK\r\nContent-Length: 5\r\n\r\nhello"));
        all.add(badGateway("RFC 9112 §4: status-code is digits",
                "HTTP/1.1 2x0 OK\r\nContent-Length: 5\r\n\r\nhello"));
        all.add(new ResponseCase("RFC 9112 §4 (robustness, as nginx and HAProxy): a status line without the SP "
                + "after status-code is relayed", GET, "HTTP/1.1 200\r\nContent-Length: 5\r\n\r\nhello", false,
                saw -> saw.assertFinal(200, "hello"), Reuse.REUSED));
        all.add(badGateway("RFC 9112 §4: status-code and reason-phrase are separated by one SP, not HTAB",
                "HTTP/1.1 200\tOK\r\nContent-Length: 5\r\n\r\nhello"));
        all.add(badGateway("RFC 9110 §15: status codes outside 100..599 are invalid (600)",
                "HTTP/1.1 600 Custom\r\nContent-Length: 5\r\n\r\nhello"));
        all.add(badGateway("RFC 9110 §15: status codes outside 100..599 are invalid (099)",
                "HTTP/1.1 099 Custom\r\nContent-Length: 5\r\n\r\nhello"));
        all.add(badGateway("RFC 9112 §2.3: HTTP-name is case-sensitive",
                "http/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"));
        all.add(badGateway("RFC 9112 §2.3: an HTTP/2.0 status line on an HTTP/1.1 connection",
                "HTTP/2.0 200 OK\r\nContent-Length: 5\r\n\r\nhello"));
        all.add(badGateway("Relay policy (RFC 9110 §2.5 SHOULD not taken): only HTTP/1.0 and HTTP/1.1 are known",
                "HTTP/1.2 200 OK\r\nContent-Length: 5\r\n\r\nhello"));
        all.add(badGateway("RFC 9112 §4: reason-phrase is HTAB, SP, VCHAR or obs-text (no control characters)",
                "HTTP/1.1 200 O\u0001K\r\nContent-Length: 5\r\n\r\nhello"));
        all.add(badGateway("Relay policy (RFC 9112 §2.2 MAY not taken): a bare LF does not end the status line",
                "HTTP/1.1 200 OK\nContent-Length: 5\r\n\r\nhello"));
        all.add(badGateway("RFC 9112 §2.2: a message that is not HTTP at all",
                "SSH-2.0-OpenSSH_9.6\r\n\r\n"));
        // ---- field lines (RFC 9112 §5; RFC 9110 §5) ---------------------------------------------------------
        all.add(badGateway("RFC 9112 §5.1: whitespace between field name and colon is not forwarded",
                "HTTP/1.1 200 OK\r\nX-Bad : v\r\nContent-Length: 5\r\n\r\nhello"));
        all.add(badGateway("RFC 9112 §5.2: obs-fold in a response is a bad gateway",
                "HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 5\r\n\r\nhello"));
        all.add(badGateway("RFC 9112 §5: a field line without a colon",
                "HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 5\r\n\r\nhello"));
        all.add(badGateway("RFC 9110 §5.1: a field name is a token",
                "HTTP/1.1 200 OK\r\nX(Bad): v\r\nContent-Length: 5\r\n\r\nhello"));
        all.add(badGateway("RFC 9110 §5.5: NUL in a field value",
                "HTTP/1.1 200 OK\r\nX-Nul: a\u0000b\r\nContent-Length: 5\r\n\r\nhello"));
        all.add(badGateway("RFC 9110 §5.5: a bare CR in a field value",
                "HTTP/1.1 200 OK\r\nX-Cr: a\rb\r\nContent-Length: 5\r\n\r\nhello"));
        all.add(badGateway("Relay limit (RFC 9110 §5.4): a response header section over the limit",
                "HTTP/1.1 200 OK\r\n" + LONG_FIELD + "Content-Length: 5\r\n\r\nhello"));
        // ---- framing (RFC 9112 §6) --------------------------------------------------------------------------
        all.add(badGateway("RFC 9112 §6.3 (5): two different Content-Length fields",
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"));
        all.add(badGateway("RFC 9112 §6.3 (5): a Content-Length list with different values",
                "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!"));
        all.add(badGateway("RFC 9110 §8.6: Content-Length is 1*DIGIT (a sign)",
                "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello"));
        all.add(badGateway("RFC 9110 §8.6: Content-Length is 1*DIGIT (hex)",
                "HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\nhello"));
        all.add(badGateway("RFC 9110 §8.6: Content-Length is 1*DIGIT (empty)",
                "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\nhello"));
        all.add(badGateway("RFC 9110 §8.6: Content-Length too large to represent",
                "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\nhello"));
        all.add(badGateway("RFC 9112 §6.3 (3): Content-Length with Transfer-Encoding is handled as an error",
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
        all.add(badGateway("Relay policy (RFC 9112 §6.3 (4)): a coding other than chunked cannot be forwarded",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\nhello"));
        all.add(badGateway("Relay policy (RFC 9112 §6.1): gzip under chunked cannot be undone or forwarded",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
        all.add(badGateway("RFC 9112 §6.1: chunked MUST NOT be applied more than once",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
        all.add(badGateway("RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message is faulty framing",
                "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
        all.add(badGatewayOrCut("RFC 9112 §7.1: chunk-size is hex digits", 200,
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", false));
        all.add(badGatewayOrCut("RFC 9112 §7.1: chunk-size overflow is anticipated, not wrapped", 200,
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n",
                false));
        all.add(badGatewayOrCut("RFC 9112 §7.1: chunk-data is followed by CRLF", 200,
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", false));
        all.add(badGatewayOrCut("Relay policy (RFC 9112 §2.2 MAY not taken): a chunk-size line ends in CRLF", 200,
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", false));
        all.add(badGatewayOrCut("RFC 9112 §7.1.1: a chunk extension is ; name [= value]", 200,
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 garbage\r\nhello\r\n0\r\n\r\n", false));
        all.add(badGatewayOrCut("RFC 9112 §8: a chunked body closed before its last chunk is incomplete", 200,
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", true));
        all.add(badGatewayOrCut("RFC 9112 §6.3 (6): a body closed short of Content-Length is incomplete", 200,
                "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", true));
        // ---- what follows a complete response (RFC 9112 §6.3, §9.3, §11.1) ----------------------------------
        all.add(new ResponseCase("RFC 9112 §9.3: a well-framed response leaves its connection reusable", GET,
                OK_HELLO, false, saw -> saw.assertFinal(200, "hello"), Reuse.REUSED));
        all.add(new ResponseCase("RFC 9112 §9.3: a chunked response with trailers leaves it reusable", GET,
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n", false,
                saw -> saw.assertFinal(200, "hello"), Reuse.REUSED));
        all.add(new ResponseCase("RFC 9112 §6.3 (6), §11.1: octets beyond Content-Length are no response; "
                + "the connection is not reused", GET, OK_HELLO + "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbad",
                false, saw -> saw.assertFinal(200, "hello"), Reuse.NOT_REUSED));
        all.add(new ResponseCase("RFC 9112 §7.1, §11.1: octets after the last chunk are no response; "
                + "the connection is not reused", GET,
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nsmuggled", false,
                saw -> saw.assertFinal(200, "hello"), Reuse.NOT_REUSED));
        all.add(new ResponseCase("RFC 9112 §9.6: Connection: close from the origin ends the connection", GET,
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello", true,
                saw -> saw.assertFinal(200, "hello"), Reuse.NOT_REUSED));
        all.add(new ResponseCase("RFC 9112 §6.3 (8): a response without length ends with the connection", GET,
                "HTTP/1.1 200 OK\r\n\r\nhello", true, saw -> saw.assertFinal(200, "hello"), Reuse.NOT_REUSED));
        // ---- interim responses (RFC 9110 §15.2) -------------------------------------------------------------
        all.add(new ResponseCase("RFC 9110 §15.2: a proxy MUST forward 1xx responses (103 with its Link)", GET,
                "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" + OK_HELLO, false, saw -> {
                    saw.assertInterims(103);
                    assertEquals("</style.css>; rel=preload", saw.interims().get(0).field("Link"));
                    saw.assertFinal(200, "hello");
                }, Reuse.REUSED));
        all.add(new ResponseCase("RFC 9110 §15.2: one or more 1xx responses precede the final one", GET,
                "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
                        + "HTTP/1.1 103 Early Hints\r\nLink: </b.js>; rel=preload\r\n\r\n" + OK_HELLO, false, saw -> {
                    saw.assertInterims(103, 103);
                    assertEquals("</a.css>; rel=preload", saw.interims().get(0).field("Link"));
                    assertEquals("</b.js>; rel=preload", saw.interims().get(1).field("Link"));
                    saw.assertFinal(200, "hello");
                }, Reuse.REUSED));
        all.add(new ResponseCase("RFC 9112 §6.3 (1): a 1xx ends at its empty line whatever its fields say", GET,
                "HTTP/1.1 103 Early Hints\r\nContent-Length: 5\r\nLink: </a.css>\r\n\r\n" + OK_HELLO, false, saw -> {
                    saw.assertInterims(103);
                    assertNull(saw.interims().get(0).field("Content-Length"), "RFC 9110 §8.6: no Content-Length on 1xx");
                    saw.assertFinal(200, "hello");
                }, Reuse.REUSED));
        all.add(new ResponseCase("RFC 9110 §10.1.1: the proxy answers Expect itself; "
                + "the origin's 100 is not relayed to a client that did not ask", GET,
                "HTTP/1.1 100 Continue\r\n\r\n" + OK_HELLO, false, saw -> {
                    saw.assertInterims();
                    saw.assertFinal(200, "hello");
                }, Reuse.REUSED));
        all.add(new ResponseCase("RFC 9110 §10.1.1: a client that sent Expect: 100-continue gets one 100",
                "POST /case HTTP/1.1\r\nHost: conformance\r\nConnection: close\r\nExpect: 100-continue\r\n"
                        + "Content-Length: 4\r\n\r\n", "body",
                "HTTP/1.1 100 Continue\r\n\r\n" + OK_HELLO, false, saw -> {
                    saw.assertInterims(100);
                    saw.assertFinal(200, "hello");
                }, Reuse.REUSED));
        all.add(new ResponseCase("RFC 9110 §15.2: a server MUST NOT send a 1xx response to an HTTP/1.0 client",
                "GET /case HTTP/1.0\r\nHost: conformance\r\n\r\n",
                "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + OK_HELLO, false, saw -> {
                    saw.assertInterims();
                    saw.assertFinal(200, "hello");
                }, Reuse.REUSED));
        all.add(new ResponseCase("RFC 9110 §15.2: a 1xx is never the final response (a bad final one is a 502)",
                GET, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 2000 OK\r\nContent-Length: 5\r\n\r\nhello",
                false, saw -> {
                    saw.assertInterims(103);
                    saw.assertFinal(502, null);
                }, Reuse.NOT_REUSED));
        all.add(badGateway("RFC 9112 §6.1: a server must not send Transfer-Encoding in a 1xx (its chunked body "
                        + "would be read as the final response)",
                "HTTP/1.1 103 Early Hints\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                        + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        all.add(badGateway("RFC 9110 §15.2.2: 101 to a request that asked for no upgrade",
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n"));
        // ---- responses without content (RFC 9112 §6.3 (1); RFC 9110 §9.3.2, §15.3.5, §15.4.5) ---------------
        all.add(new ResponseCase("RFC 9110 §9.3.2, §8.6: HEAD gets no content and the origin's Content-Length",
                HEAD, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false, saw -> {
                    saw.assertFinal(200, "");
                    assertEquals("5", saw.finalResponse().field("Content-Length"));
                }, Reuse.REUSED));
        all.add(new ResponseCase("RFC 9112 §6.3 (1): content sent anyway after a HEAD response is not forwarded",
                HEAD, OK_HELLO, false, saw -> {
                    saw.assertFinal(200, "");
                    assertEquals("5", saw.finalResponse().field("Content-Length"));
                }, Reuse.NOT_REUSED));
        all.add(new ResponseCase("RFC 9110 §15.3.5: a 204 has no content", GET,
                "HTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n", false, saw -> {
                    saw.assertFinal(204, "");
                    assertEquals("b", saw.finalResponse().field("X-A"));
                }, Reuse.REUSED));
        all.add(new ResponseCase("RFC 9112 §6.3 (1), RFC 9110 §8.6: content sent with a 204 is not forwarded, "
                + "nor its Content-Length", GET, "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello", false,
                saw -> {
                    saw.assertFinal(204, "");
                    assertNull(saw.finalResponse().field("Content-Length"));
                }, Reuse.NOT_REUSED));
        all.add(new ResponseCase("RFC 9112 §6.1: a chunked body sent with a 204 is not forwarded", GET,
                "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", false,
                saw -> {
                    saw.assertFinal(204, "");
                    assertNull(saw.finalResponse().field("Transfer-Encoding"));
                }, Reuse.NOT_REUSED));
        all.add(new ResponseCase("RFC 9110 §15.4.5, §8.6: a 304 has no content; its Content-Length is kept",
                GET, "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nETag: \"x\"\r\n\r\n", false, saw -> {
                    saw.assertFinal(304, "");
                    assertEquals("5", saw.finalResponse().field("Content-Length"));
                    assertEquals("\"x\"", saw.finalResponse().field("ETag"));
                }, Reuse.REUSED));
        all.add(new ResponseCase("RFC 9112 §6.3 (1): content sent with a 304 is not forwarded", GET,
                "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nhello", false,
                saw -> saw.assertFinal(304, ""), Reuse.NOT_REUSED));
        return all.stream().flatMap(c -> Arrays.stream(Delivery.values()).map(d -> Arguments.of(c, d)));
    }

    private static ResponseCase badGateway(String statement, String originReply) {
        return new ResponseCase(statement, GET, originReply, false, saw -> {
            saw.assertInterims();
            saw.assertFinal(502, null);
        }, Reuse.NOT_REUSED);
    }

    /**
     * A fault in the body: a 502 if nothing of the response had left yet, otherwise the origin's status with
     * a body the client can tell is incomplete (RFC 9112 §8), the connection closed.
     */
    private static ResponseCase badGatewayOrCut(String statement, int originStatus, String originReply,
                                                boolean originCloses) {
        return new ResponseCase(statement, GET, originReply, originCloses, saw -> {
            saw.assertInterims();
            if (saw.finalResponse().status() == 502) {
                return;
            }
            assertEquals(originStatus, saw.finalResponse().status(), saw.raw());
            assertFalse(saw.complete(), "the client must see that the response is cut short: " + saw.raw());
        }, Reuse.NOT_REUSED);
    }

    @ParameterizedTest(name = "{0} [{1}]")
    @MethodSource("cases")
    void originResponse(ResponseCase c, Delivery delivery) throws Exception {
        FinalStatusRecorder proxy = new FinalStatusRecorder();
        try (RawResponseOrigin origin = RawResponseOrigin.start(delivery, request ->
                request.target().equals("/next") ? Reply.keepOpen(NEXT_REPLY)
                        : new Reply(c.originReply().getBytes(StandardCharsets.ISO_8859_1), c.originCloses()))) {
            proxy.origin = origin.address();
            HttpProxyServer server = HttpProxyServer.create(proxy, ProxyOptions.defaults(), ONE_LOOP);
            try {
                InetSocketAddress address = server.bind("127.0.0.1:0");
                ClientSaw saw = ClientSaw.parse(exchange(address, c.request(), c.bodyAfterInterim()), c.request().startsWith("HEAD "));
                c.expectation().accept(saw);
                Logged logged = proxy.next();
                assertEquals(saw.finalResponse().status(), logged.status(),
                        "logging sees the final status the client got, never an interim one");
                if (saw.finalResponse().status() == 502) {
                    assertNotNull(logged.error(), "a 502 is logged with the upstream error");
                }
                for (int status : proxy.responseFilterStatuses) {
                    assertTrue(status >= 200, "the response filter saw an interim response: " + status);
                }

                // Every byte the origin meant to send has been sent before the next request is made, so that
                // bytes after a response are on the connection before the proxy could choose to reuse it.
                origin.awaitRepliesFinished(1, WAIT);
                ClientSaw next = ClientSaw.parse(exchange(address, NEXT, null), false);
                next.assertFinal(200, "next");
                List<RawResponseOrigin.Request> seen = origin.requests();
                assertEquals(2, seen.size(), "the origin saw each request once: " + seen);
                if (c.reuse() == Reuse.REUSED) {
                    assertEquals(seen.get(0).connection(), seen.get(1).connection(),
                            "the next request reuses the connection");
                } else {
                    assertNotEquals(seen.get(0).connection(), seen.get(1).connection(),
                            "the connection is not reused");
                }
                proxy.next();
            } finally {
                server.close();
            }
        }
    }

    /**
     * Sends {@code request} on a new connection (and {@code body} once an interim response came, as a client
     * that waits for {@code 100 Continue} does) and returns every byte received until the proxy closed it.
     */
    private static byte[] exchange(InetSocketAddress proxy, String request, @Nullable String body) throws IOException {
        try (Socket socket = new Socket(proxy.getAddress(), proxy.getPort())) {
            socket.setSoTimeout((int) WAIT.toMillis());
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            if (body != null) {
                while (!received.toString(StandardCharsets.ISO_8859_1).contains("\r\n\r\n")) {
                    int b = in.read();
                    if (b < 0) {
                        return received.toByteArray();
                    }
                    received.write(b);
                }
                socket.getOutputStream().write(body.getBytes(StandardCharsets.ISO_8859_1));
                socket.getOutputStream().flush();
            }
            byte[] buffer = new byte[8192];
            try {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    received.write(buffer, 0, n);
                }
            } catch (SocketException reset) {
                // An aborted response ends in a reset: what arrived before it is the answer.
            }
            return received.toByteArray();
        }
    }

    /** One response head as the client received it. */
    record ReceivedHead(int status, List<String> fields) {
        @Nullable String field(String name) {
            String prefix = name.toLowerCase(Locale.ROOT) + ":";
            for (String line : fields) {
                if (line.toLowerCase(Locale.ROOT).startsWith(prefix)) {
                    return line.substring(prefix.length()).trim();
                }
            }
            return null;
        }
    }

    /**
     * What the client of the proxy received on one connection: the interim heads, the final head, its body
     * as framed by the proxy, and whether that body was complete.
     */
    record ClientSaw(String raw, List<ReceivedHead> interims, ReceivedHead finalResponse, String body,
                     boolean complete) {
        static ClientSaw parse(byte[] bytes, boolean head) {
            String raw = new String(bytes, StandardCharsets.ISO_8859_1);
            List<ReceivedHead> interims = new ArrayList<>();
            int pos = 0;
            for (;;) {
                int end = raw.indexOf("\r\n\r\n", pos);
                if (end < 0) {
                    throw new AssertionError("no complete response head from the proxy: " + raw);
                }
                String[] lines = raw.substring(pos, end).split("\r\n");
                assertTrue(lines[0].startsWith("HTTP/1.1 "), "the proxy speaks HTTP/1.1: " + raw);
                ReceivedHead received = new ReceivedHead(Integer.parseInt(lines[0].substring(9, 12)),
                        List.of(lines).subList(1, lines.length));
                pos = end + 4;
                if (received.status() >= 200) {
                    return body(raw, interims, received, pos, head);
                }
                interims.add(received);
            }
        }

        private static ClientSaw body(String raw, List<ReceivedHead> interims, ReceivedHead head, int pos,
                                      boolean toHead) {
            String rest = raw.substring(pos);
            if (toHead || head.status() == 204 || head.status() == 304) {
                assertEquals("", rest, "nothing follows a response without content");
                return new ClientSaw(raw, interims, head, "", true);
            }
            String length = head.field("Content-Length");
            String coding = head.field("Transfer-Encoding");
            if (coding != null) {
                assertEquals("chunked", coding);
                StringBuilder body = new StringBuilder();
                int at = 0;
                for (;;) {
                    int lineEnd = rest.indexOf("\r\n", at);
                    if (lineEnd < 0) {
                        return new ClientSaw(raw, interims, head, body.toString(), false);
                    }
                    int size = Integer.parseInt(rest.substring(at, lineEnd), 16);
                    at = lineEnd + 2;
                    if (size == 0) {
                        boolean complete = rest.indexOf("\r\n\r\n", at - 2) >= 0 || rest.startsWith("\r\n", at);
                        return new ClientSaw(raw, interims, head, body.toString(), complete);
                    }
                    if (at + size + 2 > rest.length()) {
                        body.append(rest, at, Math.min(rest.length(), at + size));
                        return new ClientSaw(raw, interims, head, body.toString(), false);
                    }
                    body.append(rest, at, at + size);
                    at += size + 2;
                }
            }
            if (length != null) {
                int n = Integer.parseInt(length);
                assertTrue(rest.length() <= n, "more than Content-Length reached the client: " + raw);
                return new ClientSaw(raw, interims, head, rest, rest.length() == n);
            }
            // Close-delimited (an HTTP/1.0 client): the close ends it, so completeness cannot be told.
            return new ClientSaw(raw, interims, head, rest, true);
        }

        void assertInterims(int... statuses) {
            assertEquals(Arrays.toString(statuses),
                    Arrays.toString(interims.stream().mapToInt(ReceivedHead::status).toArray()), raw);
        }

        /** The final status and, unless null, the whole body. */
        void assertFinal(int status, @Nullable String expectedBody) {
            assertEquals(status, finalResponse.status(), raw);
            if (expectedBody != null) {
                assertTrue(complete, "the response is complete: " + raw);
                assertEquals(expectedBody, body, raw);
            }
        }
    }

    /** What {@code logging} saw of one request. */
    record Logged(int status, @Nullable ProxyError error) {}

    /** Sends every request to the origin and records the statuses its phases saw. */
    static final class FinalStatusRecorder implements ProxyHttp<Object> {
        volatile String origin = "";
        final BlockingQueue<Logged> logged = new LinkedBlockingQueue<>();
        final List<Integer> responseFilterStatuses = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public Object newCtx() {
            return new Object();
        }

        @Override
        public CompletionStage<HttpPeer> upstreamPeer(Session session, Object ctx) {
            return CompletableFuture.completedFuture(HttpPeer.plain(origin));
        }

        @Override
        public CompletionStage<Void> responseFilter(Session session, ResponseHeader upstreamResponse, Object ctx) {
            responseFilterStatuses.add(upstreamResponse.status());
            return Stages.done();
        }

        @Override
        public CompletionStage<Void> logging(Session session, @Nullable ProxyError error, Object ctx) {
            logged.add(new Logged(session.responseStatus(), error));
            return Stages.done();
        }

        Logged next() throws InterruptedException {
            Logged next = logged.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            if (next == null) {
                throw new AssertionError("logging was not called within " + WAIT);
            }
            return next;
        }
    }
}
