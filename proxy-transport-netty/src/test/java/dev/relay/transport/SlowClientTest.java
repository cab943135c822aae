package dev.relay.transport;

import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.PeerOptions;
import dev.relay.testing.Await;
import dev.relay.testing.RawHttp2Connection;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.RecordedRequest;
import dev.relay.testing.TestOrigin;
import dev.relay.transport.internal.ManualEngineClock;
import io.netty.handler.codec.http2.Http2Error;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Slow and hostile clients: a timeout is the slow side's (a trickled body is the client's 408 even
 * when the origin's read timeout is shorter), a client that stops reading is closed by the send
 * timeout, requests past {@link ProxyOptions#maxRequestsInFlight()} are shed with 503, and
 * connections past a listener's limits are closed as they are accepted.
 */
@Timeout(60)
class SlowClientTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration STEP = Duration.ofMillis(100);
    /** Far more than the socket buffers on both sides of the proxy and the write buffer's high-water mark. */
    private static final long LARGE = 32L * 1024 * 1024;
    /** The proxy's write buffer low-water mark: below it a client connection is writable. */
    private static final long LOW_WATER_MARK = 32 * 1024;
    /** What stays in the proxy of a response to a stalled client: well under the low-water mark. */
    private static final long TAIL = 16 * 1024;

    private TestOrigin origin;

    @BeforeEach
    void startOrigin() {
        origin = TestOrigin.builder().name("a").build().start();
    }

    @AfterEach
    void stopOrigin() {
        origin.close();
    }

    @Test
    void clientTricklingItsBodyGets408EvenWhenTheOriginReadTimeoutIsShorter() throws Exception {
        // Three of ten bytes: past the origin's 300 ms more than three times over, the origin still
        // waits for the body, so only the client's one-second body timeout may end this.
        Answer answer = sendAgainstShortOriginReadTimeout(
                "POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
        assertEquals(408, answer.response().status());
        assertEquals("close", answer.response().header("Connection"));
        assertEquals(ErrorType.READ_TIMEDOUT, answer.outcome().error().type());
        assertEquals(ErrorSource.DOWNSTREAM, answer.outcome().error().source());
        RecordedRequest seen = origin.awaitRequests(1, WAIT).get(0);
        assertFalse(seen.bodyComplete());
        assertEquals(3, seen.bodyBytes());
        // Half a body went upstream: that connection was closed, never pooled.
        assertEquals(0, answer.idleUpstreamConnections());
    }

    @Test
    void originThatNeverAnswersACompleteRequestStillTimesOutWith504() throws Exception {
        Answer answer = sendAgainstShortOriginReadTimeout(
                "POST /hang HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
        assertEquals(504, answer.response().status());
        assertEquals(ErrorType.READ_TIMEDOUT, answer.outcome().error().type());
        assertEquals(ErrorSource.UPSTREAM, answer.outcome().error().source());
    }

    private record Answer(RawHttpConnection.Response response, FailoverProxy.Outcome outcome,
                          int idleUpstreamConnections) {}

    /**
     * Sends {@code request} through a proxy whose origin read timeout (300 ms) is shorter than the
     * client's body read timeout (1 s) and moves the proxy's clock on until the answer is in.
     */
    private Answer sendAgainstShortOriginReadTimeout(String request) throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(origin.address(),
                PeerOptions.builder().readTimeout(Duration.ofMillis(300)).build()));
        ManualEngineClock clock = new ManualEngineClock();
        try (ProxyFixture fixture = new ProxyFixture(proxy,
                ProxyOptions.builder().bodyReadTimeout(Duration.ofSeconds(1)).build(), clock);
             RawHttpConnection client = new RawHttpConnection(fixture.address.getPort())) {
            client.send(request);
            // The upstream connection opened means the head and the bytes after it went out with it.
            Await.until(() -> fixture.server.upstreamConnectionsOpened() == 1, WAIT, () -> "no upstream connection");
            CompletableFuture<RawHttpConnection.Response> response = CompletableFuture.supplyAsync(() -> {
                try {
                    return client.readResponse();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            clock.advanceUntil(STEP, 100, response::isDone);
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            origin.awaitOpenConnections(0, WAIT);
            return new Answer(response.get(), outcome, fixture.server.idleUpstreamConnections());
        }
    }

    @Test
    void clientThatStopsReadingALargeResponseIsClosedBySendTimeout() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(origin.address()));
        try (ProxyFixture fixture = new ProxyFixture(proxy,
                ProxyOptions.builder().sendTimeout(Duration.ofMillis(300)).build());
             Socket socket = new Socket()) {
            socket.setReceiveBufferSize(4096);
            socket.connect(fixture.address, 5000);
            socket.getOutputStream().write(("GET /bytes/" + LARGE + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes());
            // The client reads nothing from now on.
            assertEndedBySendTimeoutMidBody(proxy, fixture);
            Await.until(() -> fixture.server.openConnections() == 0, WAIT, () -> "the client connection is still open");
        }
    }

    /**
     * The call of a 200 response ended with the client's write timeout, and its upstream attempt was
     * cancelled mid-body: that connection closed, not pooled.
     */
    private void assertEndedBySendTimeoutMidBody(FailoverProxy proxy, ProxyFixture fixture) throws Exception {
        FailoverProxy.Outcome outcome = proxy.nextOutcome();
        assertEquals(ErrorType.WRITE_TIMEDOUT, outcome.error().type(), outcome.error().toString());
        assertEquals(ErrorSource.DOWNSTREAM, outcome.error().source());
        assertEquals(200, outcome.status());
        origin.awaitOpenConnections(0, WAIT);
        assertEquals(0, fixture.server.idleUpstreamConnections());
    }

    /**
     * The gap of a send timer armed only by unwritability: a response whose unsent tail stays under the
     * write buffer's low-water mark leaves the connection writable when the client stops reading. The
     * kernel's buffers on both sides take most of a response (megabytes on loopback, as the kernel's
     * settings say), so the test measures them first: a stalled client of a large response is closed by
     * the send timeout, and what it can still read then is what a stalled connection absorbs. The
     * response of the second request is that much plus a small tail, which stays in the proxy.
     */
    @Test
    void clientThatStopsReadingWithTheUnsentTailUnderTheLowWaterMarkIsClosedBySendTimeout() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(origin.address()));
        try (ProxyFixture fixture = new ProxyFixture(proxy,
                ProxyOptions.builder().sendTimeout(Duration.ofMillis(300)).build())) {
            Stalled large = stallOn(fixture, LARGE);
            assertEquals(ErrorType.WRITE_TIMEDOUT, proxy.nextOutcome().error().type());
            long absorbed = large.readToEnd();

            long size = absorbed - large.headerBytes() + TAIL;
            Stalled stalled = stallOn(fixture, size);
            FailoverProxy.Outcome outcome = proxy.nextOutcome();
            assertEquals(ErrorType.WRITE_TIMEDOUT, outcome.error() == null ? null : outcome.error().type(),
                    "the whole response of " + size + " bytes left the proxy: " + outcome);
            assertEquals(ErrorSource.DOWNSTREAM, outcome.error().source());
            assertEquals(200, outcome.status());
            long received = stalled.readToEnd();
            long unsent = stalled.headerBytes() + size - received;
            // What the client never got was all that stayed in the proxy when it stalled: under the
            // low-water mark, so the connection was writable then and only the pending bytes tell.
            assertTrue(unsent > 0 && unsent < LOW_WATER_MARK, "unsent tail: " + unsent + " bytes");
            Await.until(() -> fixture.server.openConnections() == 0, WAIT, () -> "the client connection is still open");
        }
    }

    /**
     * HTTP/2: the client reads its socket but never opens its flow-control window, so the response
     * stops at the initial 64 KiB window, fills the stream's write buffer, and the stream turns
     * unwritable: the send timeout resets the stream, cancels the upstream attempt, and leaves the
     * connection serving other streams.
     */
    @Test
    void http2ClientThatKeepsItsWindowShutIsResetBySendTimeout() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(origin.address()));
        try (ProxyFixture fixture = new ProxyFixture(proxy,
                ProxyOptions.builder().sendTimeout(Duration.ofMillis(300)).build());
             RawHttp2Connection h2 = RawHttp2Connection.open(fixture.address.getPort())) {
            h2.headers(1, RawHttp2Connection.get("proxy.test", "/bytes/" + LARGE), true);
            h2.flush();

            assertEquals(Http2Error.CANCEL, h2.awaitReset(1, WAIT));
            assertEndedBySendTimeoutMidBody(proxy, fixture);

            // The connection's window went to stream 1: opened again, the next stream is served whole.
            h2.windowUpdate(0, 1 << 20);
            h2.headers(3, RawHttp2Connection.get("proxy.test", "/small"), true);
            h2.flush();
            assertEquals("200", h2.awaitHeaders(3, WAIT).status().toString());
            h2.awaitFrame(f -> f.streamId() == 3 && f.has(RawHttp2Connection.END_STREAM), WAIT);
            assertFalse(h2.closedByPeer());
        }
    }

    /** A client that asked for {@code size} bytes and reads nothing until {@link #readToEnd()}. */
    private record Stalled(Socket socket, long headerBytes) {
        /** Reads until the proxy's close; returns all bytes of the response read, header included. */
        long readToEnd() throws Exception {
            try (socket) {
                socket.setSoTimeout(10_000);
                long read = headerBytes;
                byte[] buffer = new byte[64 * 1024];
                InputStream in = socket.getInputStream();
                for (int n; (n = in.read(buffer)) != -1; ) {
                    read += n;
                }
                return read;
            }
        }
    }

    /** Asks for {@code size} bytes on a connection with a small receive buffer, reads the header only. */
    private static Stalled stallOn(ProxyFixture fixture, long size) throws Exception {
        Socket socket = new Socket();
        socket.setReceiveBufferSize(4096);
        socket.connect(fixture.address, 5000);
        socket.setSoTimeout(10_000);
        socket.getOutputStream().write(("GET /bytes/" + size + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes());
        InputStream in = socket.getInputStream();
        // Byte by byte, so that nothing past the header is taken out of the socket.
        long headerBytes = 0;
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new AssertionError("connection closed in the response header");
            }
            headerBytes++;
            matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : b == '\r' ? 1 : 0;
        }
        return new Stalled(socket, headerBytes);
    }

    @Test
    void clientThatKeepsReadingALargeResponseIsNotCutBySendTimeout() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(origin.address()));
        try (ProxyFixture fixture = new ProxyFixture(proxy,
                ProxyOptions.builder().sendTimeout(Duration.ofSeconds(2)).build());
             Socket socket = new Socket()) {
            socket.setReceiveBufferSize(4096);
            socket.connect(fixture.address, 5000);
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET /bytes/" + LARGE + " HTTP/1.1\r\nHost: x\r\n"
                    + "Connection: close\r\n\r\n").getBytes());
            long read = 0;
            byte[] buffer = new byte[1024];
            InputStream in = socket.getInputStream();
            for (int n; (n = in.read(buffer)) != -1; ) {
                read += n;
            }
            assertTrue(read > LARGE, "read " + read + " bytes, head and body");
            assertNull(proxy.nextOutcome().error());
        }
    }

    @Test
    void requestPastTheInFlightLimitIsShedWith503AndRetryAfter() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(origin.address()));
        try (ProxyFixture fixture = new ProxyFixture(proxy, ProxyOptions.builder().maxRequestsInFlight(1).build())) {
            try (RawHttpConnection hanging = new RawHttpConnection(fixture.address.getPort())) {
                hanging.send("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n");
                origin.awaitRequests(1, WAIT);

                RawHttpConnection.Response shed = RawHttpConnection.get(fixture.address, "x", "/small");
                assertEquals(503, shed.status());
                assertEquals("1", shed.header("Retry-After"));
                FailoverProxy.Outcome outcome = proxy.nextOutcome();
                assertEquals(ErrorType.OVERLOADED, outcome.error().type());
                assertEquals(ErrorSource.INTERNAL, outcome.error().source());
                assertEquals(503, outcome.status());
                assertEquals(0, outcome.tried().size(), "no upstream peer was chosen");
                assertEquals(0, origin.requestCount("/small"));
                assertEquals(1, fixture.server.requestsShed());
            }
            // The hanging client left: its request is over, and the next one has room once its slot is
            // back (given back when the call is released, just after the logging phase reports it).
            proxy.nextOutcome();
            Await.until(() -> fixture.server.activeRequests() == 0, WAIT, () -> "the hanging request's slot is back");
            assertEquals(200, RawHttpConnection.get(fixture.address, "x", "/small").status());
            assertNull(proxy.nextOutcome().error());
            assertEquals(1, fixture.server.requestsShed());
        }
    }

    @Test
    void connectionPastTheListenerLimitIsClosedAtAccept() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(origin.address()));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            InetSocketAddress limited = fixture.server.bind("127.0.0.1:0",
                    ListenerOptions.builder().maxConnections(2).build());
            RawHttpConnection first = new RawHttpConnection(limited);
            try (RawHttpConnection second = new RawHttpConnection(limited)) {
                assertEquals(200, get(first).status());
                assertEquals(200, get(second).status());
                try (RawHttpConnection third = new RawHttpConnection(limited)) {
                    assertTrue(third.closedByPeer(), "the third connection is closed unread");
                }
                assertEquals(1, fixture.server.connectionsOverListenerLimit());
                assertEquals(0, fixture.server.connectionsOverClientLimit());
                first.close();
                Await.until(() -> fixture.server.openConnections() == 1, WAIT, () -> "the first connection is open");
                try (RawHttpConnection fourth = new RawHttpConnection(limited)) {
                    assertEquals(200, get(fourth).status(), "a place came free");
                }
            }
        }
    }

    @Test
    void connectionPastThePerClientLimitIsClosedWhileOtherClientsAreServed() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(origin.address()));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            InetSocketAddress limited = fixture.server.bind("127.0.0.1:0",
                    ListenerOptions.builder().maxConnectionsPerClient(1).build());
            try (RawHttpConnection first = new RawHttpConnection(limited)) {
                assertEquals(200, get(first).status());
                try (RawHttpConnection again = new RawHttpConnection(limited)) {
                    assertTrue(again.closedByPeer(), "a second connection from 127.0.0.1 is closed unread");
                }
                Socket other = new Socket();
                other.bind(new InetSocketAddress("127.0.0.2", 0));
                other.connect(limited, 5000);
                try (RawHttpConnection fromOtherClient = new RawHttpConnection(other)) {
                    assertEquals(200, get(fromOtherClient).status());
                }
                assertEquals(1, fixture.server.connectionsOverClientLimit());
                assertEquals(0, fixture.server.connectionsOverListenerLimit());
            }
        }
    }

    /**
     * Behind a load balancer that speaks the PROXY protocol every connection comes from the balancer:
     * the per-client limit counts the client each header names, and gives its place back at the close.
     */
    @Test
    void perClientLimitCountsTheClientThatAProxyProtocolHeaderNames() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(origin.address()));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            InetSocketAddress limited = fixture.server.bind("127.0.0.1:0",
                    ListenerOptions.builder().proxyProtocol(true).maxConnectionsPerClient(1).build());
            RawHttpConnection first = new RawHttpConnection(limited);
            first.send(proxyHeader("192.0.2.10", 40001));
            assertEquals(200, get(first).status());
            try (RawHttpConnection sameClient = new RawHttpConnection(limited)) {
                sameClient.send(proxyHeader("192.0.2.10", 40002) + "GET /small HTTP/1.1\r\nHost: x\r\n\r\n");
                assertTrue(sameClient.closedByPeer(), "a second connection of 192.0.2.10 is closed unanswered");
            }
            try (RawHttpConnection otherClient = new RawHttpConnection(limited)) {
                otherClient.send(proxyHeader("192.0.2.11", 40003));
                assertEquals(200, get(otherClient).status(), "another client through the same balancer is served");
            }
            assertEquals(1, fixture.server.connectionsOverClientLimit());

            first.close();
            Await.until(() -> {
                try (RawHttpConnection again = new RawHttpConnection(limited)) {
                    again.send(proxyHeader("192.0.2.10", 40004) + "GET /small HTTP/1.1\r\nHost: x\r\n\r\n");
                    return again.readResponse().status() == 200;
                } catch (java.io.IOException e) {
                    return false;
                }
            }, WAIT, () -> "192.0.2.10 never got its place back");
        }
    }

    private static String proxyHeader(String client, int port) {
        return "PROXY TCP4 " + client + " 127.0.0.1 " + port + " 80\r\n";
    }

    private static RawHttpConnection.Response get(RawHttpConnection connection) throws Exception {
        connection.send("GET /small HTTP/1.1\r\nHost: x\r\n\r\n");
        return connection.readResponse();
    }
}
