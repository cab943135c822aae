package dev.relay.testing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each way a {@link TestOrigin} misbehaves on command, seen from a raw socket. */
@Timeout(30)
class MisbehavingOriginTest {
    private static final Duration WAIT = Duration.ofSeconds(5);

    @RegisterExtension
    static final OriginExtension origin = OriginExtension.plain("m");

    private static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: origin\r\n\r\n";
    }

    @Test
    void hangReadsTheRequestAndNeverAnswers() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send("POST /hang HTTP/1.1\r\nHost: origin\r\nContent-Length: 3\r\n\r\nabc");
            origin.awaitRequests(1, WAIT);
            connection.setReadTimeout(300);
            assertThrows(SocketTimeoutException.class, connection::read, "no answer, and the connection stays open");
        }
        RecordedRequest seen = origin.requests().get(0);
        assertEquals("/hang", seen.path());
        assertEquals(3, seen.bodyBytes());
        assertTrue(seen.bodyComplete());
    }

    @Test
    void hangingAndStalledConnectionsNoticeTheClientLeaving() throws Exception {
        try (TestOrigin own = TestOrigin.builder().name("own").build().start()) {
            RawHttpConnection hung = new RawHttpConnection(own.port());
            RawHttpConnection stalled = new RawHttpConnection(own.port());
            hung.send(get("/hang"));
            stalled.send(get("/stall-body"));
            stalled.readHead();
            own.awaitRequests(2, WAIT);
            assertEquals(2, own.openConnections());
            hung.close();
            stalled.close();
            own.awaitOpenConnections(0, WAIT);
        }
    }

    @Test
    void slowHeadersWaitsBeforeTheStatusLine() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            long start = System.nanoTime();
            connection.send(get("/slow-headers?delay=300"));
            RawHttpConnection.Response response = connection.readResponse();
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(200, response.status());
            assertEquals("slow headers\n", response.bodyText());
            assertTrue(elapsedMillis >= 300, "answered after " + elapsedMillis + " ms");
            // Still a well-behaved keep-alive connection.
            connection.send(get("/small"));
            assertEquals(200, connection.readResponse().status());
        }
    }

    @Test
    void slowHeadersWithAnIntervalSendsTheHeadOneLineAtATime() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            long start = System.nanoTime();
            connection.send(get("/slow-headers?delay=0&interval=40"));
            RawHttpConnection.Response response = connection.readResponse();
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(200, response.status());
            assertEquals("m", response.header("X-Origin"));
            assertEquals("slow headers\n", response.bodyText());
            // Six pieces, five intervals between them.
            assertTrue(elapsedMillis >= 5 * 40, "whole head after " + elapsedMillis + " ms");
            connection.send(get("/small"));
            assertEquals(200, connection.readResponse().status());
        }
    }

    @Test
    void dripBodySendsOneByteAtATime() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            long start = System.nanoTime();
            connection.send(get("/drip-body?bytes=5&interval=30"));
            RawHttpConnection.Response response = connection.readResponse();
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
            assertEquals("5", response.header("Content-Length"));
            assertArrayEquals(TestOrigin.patternBytes(0, 5), response.body());
            assertTrue(elapsedMillis >= 5 * 30, "body complete after " + elapsedMillis + " ms");
        }
    }

    @Test
    void stallBodySendsPartOfThePromisedBodyThenNothing() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send(get("/stall-body?after=10&length=50"));
            RawHttpConnection.Response head = connection.readHead();
            assertEquals(200, head.status());
            assertEquals("50", head.header("Content-Length"));
            assertArrayEquals(TestOrigin.patternBytes(0, 10), connection.readBytes(10));
            connection.setReadTimeout(300);
            assertThrows(SocketTimeoutException.class, connection::read, "stalled, connection still open");
        }
    }

    @Test
    void stallBodyDefaultsToOneHundredBytesOfTwoHundred() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send(get("/stall-body"));
            assertEquals("200", connection.readHead().header("Content-Length"));
            assertArrayEquals(TestOrigin.patternBytes(0, 100), connection.readBytes(100));
        }
    }

    @Test
    void resetBeforeResponseResetsAfterReadingTheRequest() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send("POST /reset-before-response HTTP/1.1\r\nHost: origin\r\nContent-Length: 4\r\n\r\nbody");
            SocketException reset = assertThrows(SocketException.class, connection::read);
            assertTrue(String.valueOf(reset.getMessage()).toLowerCase().contains("reset"), reset.toString());
        }
        RecordedRequest seen = origin.awaitRequests(1, WAIT).get(0);
        assertEquals("/reset-before-response", seen.path());
        assertEquals(4, seen.bodyBytes());
    }

    @Test
    void resetMidBodyResetsAfterPartOfTheBody() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send(get("/reset-mid-body?after=20&length=100"));
            RawHttpConnection.Response head = connection.readHead();
            assertEquals(200, head.status());
            assertEquals("100", head.header("Content-Length"));
            assertArrayEquals(TestOrigin.patternBytes(0, 20), connection.readBytes(20));
            SocketException reset = assertThrows(SocketException.class, connection::read);
            assertTrue(String.valueOf(reset.getMessage()).toLowerCase().contains("reset"), reset.toString());
        }
    }

    @Test
    void resetMidBodyCanResetRightAfterTheHead() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send(get("/reset-mid-body?after=0&delay=0"));
            // The head may or may not be readable before the reset; either way the connection ends in a reset.
            IOException failure = assertThrows(IOException.class, () -> {
                connection.readHead();
                connection.read();
            });
            assertTrue(failure instanceof SocketException || failure instanceof EOFException, failure.toString());
        }
    }

    @Test
    void closeOnNextAnswersThenDropsTheNextRequestUnanswered() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send(get("/close-on-next"));
            RawHttpConnection.Response first = connection.readResponse();
            assertEquals(200, first.status());
            assertEquals(null, first.header("Connection"), "kept alive");
            connection.send(get("/small"));
            assertEquals(-1, connection.read(), "closed (FIN) without a byte of response");
        }
        assertEquals(1, origin.origin().discardedRequests());
        assertEquals(1, origin.requests().size(), "the dropped request is not recorded");
        assertEquals(0, origin.origin().requestCount("/small"));
    }

    @Test
    void closeOnNextWithResetResetsOnTheNextRequest() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send(get("/close-on-next?reset=1"));
            assertEquals(200, connection.readResponse().status());
            connection.send(get("/small"));
            assertThrows(SocketException.class, connection::read);
        }
        assertEquals(1, origin.origin().discardedRequests());
    }

    @Test
    void closeIdleConnectionsAfterClosesAKeptAliveConnectionThatIdles() throws Exception {
        try (TestOrigin idle = TestOrigin.builder().name("idle").closeIdleConnectionsAfter(Duration.ofMillis(100))
                .build().start();
             RawHttpConnection connection = new RawHttpConnection(idle.port())) {
            connection.send(get("/small"));
            RawHttpConnection.Response response = connection.readResponse();
            assertEquals(200, response.status());
            assertEquals(null, response.header("Connection"), "answered as keep-alive");
            assertTrue(connection.closedByPeer(), "closed once idle");
            assertEquals(1, idle.idleConnectionsClosed());
            idle.awaitOpenConnections(0, WAIT);
        }
    }

    @Test
    void closeIdleConnectionsWithRandomDelaysKeepsABusyConnectionOpen() throws Exception {
        try (TestOrigin idle = TestOrigin.builder().name("idle")
                .closeIdleConnectionsAfter(Duration.ofMillis(200), Duration.ofMillis(300)).build().start();
             RawHttpConnection connection = new RawHttpConnection(idle.port())) {
            // Pipelined: the next request is already there when each response ends, so the timer never fires.
            connection.send(get("/small") + get("/small") + get("/small"));
            for (int i = 0; i < 3; i++) {
                assertEquals(200, connection.readResponse().status());
            }
            assertEquals(1, idle.connectionsAccepted());
            assertTrue(connection.closedByPeer(), "closed once idle");
            assertEquals(1, idle.idleConnectionsClosed());
        }
    }

    @Test
    void closeIdleConnectionsAfterRejectsABadRange() {
        assertThrows(IllegalArgumentException.class,
                () -> TestOrigin.builder().closeIdleConnectionsAfter(Duration.ofMillis(5), Duration.ofMillis(1)));
        assertThrows(IllegalArgumentException.class,
                () -> TestOrigin.builder().closeIdleConnectionsAfter(Duration.ofMillis(-1)));
    }

    @Test
    void badStatusLineIsSentVerbatimThenTheConnectionCloses() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send(get("/bad-status-line"));
            String answer = connection.readToEnd();
            assertTrue(answer.startsWith("HTTP/1.1 2x0 Broken\r\n"), answer);
            assertTrue(answer.endsWith("\r\n\r\nhello"), answer);
        }
    }

    @Test
    void badHeaderSendsAHeaderLineWithoutAColonByDefault() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send(get("/bad-header"));
            String answer = connection.readToEnd();
            assertTrue(answer.startsWith("HTTP/1.1 200 OK\r\n"), answer);
            assertTrue(answer.contains("\r\nNoColonInThisLine\r\n"), answer);
            assertTrue(answer.endsWith("\r\n\r\nhello"), answer);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"no-colon", "no-colon-spaces", "space-in-name", "space-before-colon", "control-char",
            "obs-fold"})
    void badHeaderSendsEachKindVerbatim(String kind) throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send(get("/bad-header?kind=" + kind));
            String answer = connection.readToEnd();
            assertTrue(answer.contains("\r\n" + OriginRoutes.BAD_HEADER_LINES.get(kind) + "\r\n"), answer);
            assertTrue(answer.endsWith("\r\n\r\nhello"), answer);
        }
    }

    @Test
    void badHeaderOfAnUnknownKindIsAnswered400() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send(get("/bad-header?kind=nope"));
            RawHttpConnection.Response response = connection.readResponse();
            assertEquals(400, response.status());
            assertTrue(response.bodyText().contains("kind: nope"), response.bodyText());
        }
    }

    @Test
    void clAndTeSendsBothFramingsOnAKeptAliveConnection() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send(get("/cl-and-te"));
            RawHttpConnection.Response head = connection.readHead();
            assertEquals("5", head.header("Content-Length"));
            assertEquals("chunked", head.header("Transfer-Encoding"));
            assertEquals("5\r\nhello\r\n0\r\n\r\n",
                    new String(connection.readBytes(15), StandardCharsets.ISO_8859_1));
            connection.send(get("/small"));
            assertEquals(200, connection.readResponse().status());
        }
    }

    @Test
    void tooManyBytesSendsMoreThanTheContentLengthAnnounces() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send(get("/too-many-bytes"));
            RawHttpConnection.Response head = connection.readHead();
            assertEquals("5", head.header("Content-Length"));
            assertEquals("hello0123456789", new String(connection.readBytes(15), StandardCharsets.ISO_8859_1));
            // The connection goes on: the next response follows the surplus bytes.
            connection.send(get("/small"));
            assertEquals(200, connection.readResponse().status());
        }
    }

    @Test
    void badParameterIsAnswered400() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send(get("/stall-body?after=abc"));
            RawHttpConnection.Response response = connection.readResponse();
            assertEquals(400, response.status());
            assertTrue(response.bodyText().contains("after: abc"), response.bodyText());
        }
    }

    @Test
    void pauseRefusesNewConnectionsUntilResume() throws Exception {
        TestOrigin o = origin.origin();
        int port = o.port();
        try (RawHttpConnection open = new RawHttpConnection(port)) {
            // Answered, so accepted: a connection still in the backlog is reset when the listener closes.
            open.send(get("/small"));
            assertEquals(200, open.readResponse().status());
            o.pause();
            try {
                assertTrue(o.isPaused());
                assertThrows(ConnectException.class, () -> {
                    try (Socket socket = new Socket()) {
                        socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
                    }
                });
                // A connection accepted before the pause carries on.
                open.send(get("/small"));
                assertEquals(200, open.readResponse().status());
            } finally {
                o.resume();
            }
            assertFalse(o.isPaused());
            assertEquals(port, o.port());
            try (RawHttpConnection fresh = new RawHttpConnection(port)) {
                fresh.send(get("/small"));
                assertEquals(200, fresh.readResponse().status());
            }
        }
    }

    @Test
    void pauseAndResumeDoNotDeadlockWithConnectionsClosingMeanwhile() {
        // pause() once held the lock a closing connection's listener takes on the event loop while it waited
        // for that loop: a deadlock that no test timeout could interrupt. Close connections while pausing.
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (TestOrigin own = TestOrigin.builder().name("own").build().start()) {
                for (int i = 0; i < 300; i++) {
                    List<RawHttpConnection> connections = new ArrayList<>();
                    for (int c = 0; c < 8; c++) {
                        RawHttpConnection connection = new RawHttpConnection(own.port());
                        connection.send(get("/small"));
                        connection.readResponse();
                        connections.add(connection);
                    }
                    for (RawHttpConnection connection : connections) {
                        connection.close();
                    }
                    own.pause();
                    own.resume();
                }
            }
        });
    }

    @Test
    void awaitOpenConnectionsWaitsForTheClientToClose() throws Exception {
        try (TestOrigin own = TestOrigin.builder().name("own").build().start()) {
            RawHttpConnection connection = new RawHttpConnection(own.port());
            connection.send(get("/small"));
            assertEquals(200, connection.readResponse().status());
            assertEquals(1, own.openConnections());
            connection.close();
            own.awaitOpenConnections(0, WAIT);
            assertThrows(IllegalArgumentException.class, () -> own.awaitOpenConnections(-1, WAIT));
        }
    }

    @Test
    void awaitOpenConnectionsFailsWhenTheyStayOpen() throws Exception {
        try (TestOrigin own = TestOrigin.builder().name("own").build().start();
             RawHttpConnection connection = new RawHttpConnection(own.port())) {
            connection.send(get("/small"));
            connection.readResponse();
            AssertionError failure = assertThrows(AssertionError.class,
                    () -> own.awaitOpenConnections(0, Duration.ofMillis(100)));
            assertTrue(failure.getMessage().contains("1 are open"), failure.getMessage());
        }
    }

    @Test
    void requestCountCountsOnePath() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send(get("/small") + get("/small?x=1") + get("/"));
            for (int i = 0; i < 3; i++) {
                connection.readResponse();
            }
        }
        assertEquals(2, origin.origin().requestCount("/small"));
        assertEquals(1, origin.origin().requestCount("/"));
        assertEquals(0, origin.origin().requestCount("/hang"));
    }

    @Test
    void silentServerAcceptsAndNeverAnswers() throws Exception {
        try (SilentServer silent = SilentServer.start();
             Socket socket = new Socket()) {
            socket.connect(silent.socketAddress(), 2000);
            socket.setSoTimeout(300);
            OutputStream out = socket.getOutputStream();
            out.write(get("/").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            assertThrows(SocketTimeoutException.class, () -> socket.getInputStream().read());
            assertEquals(1, silent.connectionsAccepted());
            assertEquals("127.0.0.1:" + silent.port(), silent.address());
        }
    }
}
