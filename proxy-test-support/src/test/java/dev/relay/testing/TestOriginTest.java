package dev.relay.testing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class TestOriginTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @RegisterExtension
    static final OriginExtension origin = OriginExtension.of(TestOrigin.builder()
            .name("a")
            .handler("/teapot", (request, response) -> response.status(418)
                    .header("X-Custom-Header", "Yes")
                    .header("Content-Type", "text/plain")
                    .body("short and stout, " + request.method() + "\n"))
            .handler("/broken", (request, response) -> {
                throw new IllegalStateException("handler bug");
            }));

    private static final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(WAIT)
            .build();

    private static HttpResponse<byte[]> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(origin.uri(path)).timeout(WAIT).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String text(HttpResponse<byte[]> response) {
        return new String(response.body(), StandardCharsets.UTF_8);
    }

    @Test
    void rootAnswersWithTheOriginName() throws Exception {
        HttpResponse<byte[]> response = get("/");

        assertEquals(200, response.statusCode());
        assertEquals("origin a\n", text(response));
        assertEquals("a", response.headers().firstValue("X-Origin").orElseThrow());
        assertEquals("9", response.headers().firstValue("Content-Length").orElseThrow());
    }

    @Test
    void unknownPathIsAnsweredLikeRoot() throws Exception {
        HttpResponse<byte[]> response = get("/no/such/path?x=1");

        assertEquals(200, response.statusCode());
        assertEquals("origin a\n", text(response));
    }

    @Test
    void smallAnd64kSendPatternBytesWithContentLength() throws Exception {
        HttpResponse<byte[]> small = get("/small");
        HttpResponse<byte[]> big = get("/64k");

        assertArrayEquals(TestOrigin.patternBytes(0, 100), small.body());
        assertEquals("100", small.headers().firstValue("Content-Length").orElseThrow());
        assertArrayEquals(TestOrigin.patternBytes(0, 65536), big.body());
        assertEquals("65536", big.headers().firstValue("Content-Length").orElseThrow());
    }

    @Test
    void bytesStreams200MiBWithContentLengthThatMatchThePattern() throws Exception {
        long length = 200L * 1024 * 1024;
        HttpResponse<InputStream> response = client.send(
                HttpRequest.newBuilder(origin.uri("/bytes/" + length)).timeout(Duration.ofSeconds(50)).build(),
                HttpResponse.BodyHandlers.ofInputStream());

        assertEquals(200, response.statusCode());
        assertEquals(String.valueOf(length), response.headers().firstValue("Content-Length").orElseThrow());
        try (InputStream body = response.body()) {
            assertEquals(length, readVerifyingPattern(body));
        }
    }

    @Test
    void bytesStreamsOneGibibyte() throws Exception {
        long length = 1L << 30;
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send("GET /bytes/" + length + " HTTP/1.1\r\nHost: t\r\n\r\n");
            RawHttpConnection.Response head = connection.readHead();

            assertEquals(String.valueOf(length), head.header("Content-Length"));
            assertEquals(length, readVerifyingPattern(connection.body(length)));
        }
    }

    @Test
    void chunkedStreamsThePatternWithChunkedEncoding() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send("GET /chunked/300000 HTTP/1.1\r\nHost: t\r\n\r\n");
            RawHttpConnection.Response response = connection.readResponse();

            assertEquals(200, response.status());
            assertEquals("chunked", response.header("Transfer-Encoding"));
            assertNull(response.header("Content-Length"));
            assertArrayEquals(TestOrigin.patternBytes(0, 300_000), response.body());
        }
    }

    @Test
    void echoStreamsALengthDelimitedBodyBack() throws Exception {
        byte[] body = randomBytes(8 * 1024 * 1024, 1);
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            Thread sender = sendWhileReading(connection, () -> {
                connection.send("PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: " + body.length + "\r\n\r\n");
                connection.send(body);
            });
            RawHttpConnection.Response response = connection.readResponse();
            sender.join(WAIT.toMillis());

            assertEquals(200, response.status());
            assertEquals(String.valueOf(body.length), response.header("Content-Length"));
            assertArrayEquals(body, response.body());
        }
        // Recorded once the request is complete, which may be a moment after the echo's last byte.
        RecordedRequest recorded = origin.awaitRequests(1, WAIT).get(0);
        assertEquals(body.length, recorded.bodyBytes());
        assertEquals(TestOrigin.sha256Hex(body), recorded.bodySha256());
    }

    @Test
    void echoAnswersAChunkedBodyWithAChunkedBody() throws Exception {
        byte[] body = randomBytes(3 * 1024 * 1024 + 17, 2);
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            Thread sender = sendWhileReading(connection, () -> {
                connection.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
                int chunk = 100_000;
                for (int offset = 0; offset < body.length; offset += chunk) {
                    int n = Math.min(chunk, body.length - offset);
                    connection.send(Integer.toHexString(n) + "\r\n");
                    connection.send(java.util.Arrays.copyOfRange(body, offset, offset + n));
                    connection.send("\r\n");
                }
                connection.send("0\r\n\r\n");
            });
            RawHttpConnection.Response response = connection.readResponse();
            sender.join(WAIT.toMillis());

            assertEquals("chunked", response.header("Transfer-Encoding"));
            assertArrayEquals(body, response.body());
        }
    }

    /** What a sender writes on a connection. */
    private interface Sending {
        void send() throws IOException;
    }

    /**
     * Sends on another thread while the caller reads the response: the echo answers while the body
     * still arrives, so a client that sent everything before reading would fill the socket buffers of
     * both directions and stall (on a loaded machine, where loopback buffers stay small).
     */
    private static Thread sendWhileReading(RawHttpConnection connection, Sending sending) {
        Thread sender = new Thread(() -> {
            try {
                sending.send();
            } catch (IOException e) {
                // The reader sees the broken exchange and fails the test.
            }
        }, "echo-sender");
        sender.setDaemon(true);
        sender.start();
        return sender;
    }

    @Test
    void theTrailersOfAChunkedRequestAreRecorded() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send("POST /sink HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\nhello\r\n0\r\nX-Sum: 5\r\nX-Other: a\r\n\r\n");
            assertEquals(200, connection.readResponse().status());
        }
        RecordedRequest recorded = origin.awaitRequests(1, Duration.ofSeconds(5)).get(0);
        assertEquals(5, recorded.bodyBytes());
        assertEquals("5", recorded.trailer("x-sum"));
        assertEquals(List.of(new RecordedRequest.Header("X-Sum", "5"), new RecordedRequest.Header("X-Other", "a")),
                recorded.trailers());
        assertNull(recorded.header("X-Sum"), "a trailer is not a header");
    }

    @Test
    void sinkReportsTheSizeAndSha256OfA50MiBUpload() throws Exception {
        byte[] body = randomBytes(50 * 1024 * 1024, 3);
        HttpResponse<byte[]> response = client.send(HttpRequest.newBuilder(origin.uri("/sink"))
                        .timeout(Duration.ofSeconds(30))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofByteArray());

        String sha256 = TestOrigin.sha256Hex(body);
        assertEquals(200, response.statusCode());
        assertEquals("{\"bytes\":" + body.length + ",\"sha256\":\"" + sha256 + "\"}", text(response));
        RecordedRequest recorded = origin.requests().get(0);
        assertEquals(body.length, recorded.bodyBytes());
        assertEquals(sha256, recorded.bodySha256());
        assertTrue(recorded.bodyComplete());
    }

    @Test
    void statusAnswersWithTheRequestedCode() throws Exception {
        HttpResponse<byte[]> notFound = get("/status/404");
        HttpResponse<byte[]> unavailable = get("/status/503");
        HttpResponse<byte[]> noContent = get("/status/204");
        HttpResponse<byte[]> invalid = get("/status/42");

        assertEquals(404, notFound.statusCode());
        assertEquals("status 404\n", text(notFound));
        assertEquals(503, unavailable.statusCode());
        assertEquals(204, noContent.statusCode());
        assertEquals(0, noContent.body().length);
        assertEquals(400, invalid.statusCode());
    }

    @Test
    void headersListsTheRequestHeadersAsSent() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send("GET /headers HTTP/1.1\r\nHost: example.test\r\nX-Mixed-CASE: one\r\n"
                    + "x-mixed-case: two\r\n\r\n");
            RawHttpConnection.Response response = connection.readResponse();

            assertEquals("Host: example.test\nX-Mixed-CASE: one\nx-mixed-case: two\n", response.bodyText());
        }
    }

    @Test
    void recordsTheRequestLineHeadersBodyAndConnection() throws Exception {
        byte[] body = "hello".getBytes(StandardCharsets.US_ASCII);
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send("POST /sink?q=1 HTTP/1.1\r\nHost: example.test\r\nX-Trace-ID: abc\r\n"
                    + "Content-Length: 5\r\n\r\nhello");
            assertEquals(200, connection.readResponse().status());
        }

        List<RecordedRequest> requests = origin.awaitRequests(1, WAIT);
        RecordedRequest r = requests.get(0);
        assertEquals("POST", r.method());
        assertEquals("/sink?q=1", r.uri());
        assertEquals("/sink", r.path());
        assertEquals("HTTP/1.1", r.version());
        assertEquals(List.of(new RecordedRequest.Header("Host", "example.test"),
                new RecordedRequest.Header("X-Trace-ID", "abc"),
                new RecordedRequest.Header("Content-Length", "5")), r.headers());
        assertEquals("abc", r.header("x-trace-id"));
        assertEquals(5, r.bodyBytes());
        assertEquals(TestOrigin.sha256Hex(body), r.bodySha256());
        assertTrue(r.bodyComplete());
        assertFalse(r.tls());
        assertNull(r.sniHostName());
        assertEquals("127.0.0.1", r.remoteAddress().getAddress().getHostAddress());
        assertTrue(r.connectionId() > 0);
    }

    @Test
    void sequentialRequestsOnOneClientReuseOneConnection() throws Exception {
        HttpClient fresh = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (int i = 0; i < 10; i++) {
            HttpResponse<byte[]> response = fresh.send(HttpRequest.newBuilder(origin.uri("/small")).timeout(WAIT)
                    .build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, response.statusCode());
        }

        assertEquals(1, origin.connectionsAccepted());
        List<RecordedRequest> requests = origin.requests();
        assertEquals(10, requests.size());
        assertEquals(1, requests.stream().map(RecordedRequest::connectionId).distinct().count());
    }

    @Test
    void connectionCloseIsHonoured() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
            RawHttpConnection.Response response = connection.readResponse();

            assertEquals("close", response.header("Connection"));
            assertTrue(connection.closedByPeer());
        }
    }

    @Test
    void http10ClosesUnlessAskedToKeepAlive() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send("GET /small HTTP/1.0\r\n\r\n");
            RawHttpConnection.Response response = connection.readResponse();
            assertArrayEquals(TestOrigin.patternBytes(0, 100), response.body());
            assertTrue(connection.closedByPeer());
        }
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send("GET /small HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            assertEquals("keep-alive", connection.readResponse().header("Connection"));
            connection.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            assertEquals("origin a\n", connection.readResponse().bodyText());
        }
        assertEquals("HTTP/1.0", origin.requests().get(0).version());
    }

    @Test
    void http10GetsAChunkedRouteDelimitedByClose() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send("GET /chunked/1000 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            RawHttpConnection.Response response = connection.readResponse();

            assertNull(response.header("Transfer-Encoding"));
            assertEquals("close", response.header("Connection"));
            assertArrayEquals(TestOrigin.patternBytes(0, 1000), response.body());
        }
    }

    @Test
    void expectContinueIsAnsweredBeforeTheBodyIsSent() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send("PUT /sink HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
            RawHttpConnection.Response interim = connection.readResponse();
            assertEquals(100, interim.status());

            connection.send("abc");
            RawHttpConnection.Response response = connection.readResponse();
            assertEquals(200, response.status());
            assertTrue(response.bodyText().startsWith("{\"bytes\":3,"));
        }

        HttpResponse<byte[]> viaHttpClient = client.send(HttpRequest.newBuilder(origin.uri("/echo")).timeout(WAIT)
                .expectContinue(true).POST(HttpRequest.BodyPublishers.ofString("xyz")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals("xyz", text(viaHttpClient));
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send("GET /status/201 HTTP/1.1\r\nHost: t\r\n\r\n"
                    + "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nping"
                    + "GET /bytes/200000 HTTP/1.1\r\nHost: t\r\n\r\n"
                    + "GET / HTTP/1.1\r\nHost: t\r\n\r\n");

            assertEquals(201, connection.readResponse().status());
            assertEquals("ping", connection.readResponse().bodyText());
            assertArrayEquals(TestOrigin.patternBytes(0, 200_000), connection.readResponse().body());
            assertEquals("origin a\n", connection.readResponse().bodyText());
        }
        assertEquals(1, origin.connectionsAccepted());
    }

    @Test
    void headGetsTheHeadersWithoutABody() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send("HEAD /bytes/5000 HTTP/1.1\r\nHost: t\r\n\r\n");
            RawHttpConnection.Response head = connection.readResponse(true);
            assertEquals("5000", head.header("Content-Length"));

            // The connection is still in sync: no body bytes were sent.
            connection.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals("origin a\n", connection.readResponse().bodyText());
        }
    }

    @Test
    void closeAfterHeadersPromisesABodyThenCloses() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send("GET /close-after-headers HTTP/1.1\r\nHost: t\r\n\r\n");
            RawHttpConnection.Response response = connection.readResponse();

            assertEquals(200, response.status());
            assertEquals("100", response.header("Content-Length"));
            assertEquals(0, response.body().length);
            assertFalse(response.complete());
        }
        assertThrows(IOException.class, () -> get("/close-after-headers"));
    }

    @Test
    void customHandlerDefinesTheResponse() throws Exception {
        HttpResponse<byte[]> response = get("/teapot");

        assertEquals(418, response.statusCode());
        assertEquals("short and stout, GET\n", text(response));
        assertEquals("Yes", response.headers().firstValue("X-Custom-Header").orElseThrow());
        assertEquals("a", response.headers().firstValue("X-Origin").orElseThrow());
    }

    @Test
    void failingHandlerAnswers500AndIsReported() throws Exception {
        HttpResponse<byte[]> response = get("/broken");

        assertEquals(500, response.statusCode());
        assertTrue(text(response).contains("handler bug"));
        assertEquals("handler bug", origin.origin().handlerFailures().get(0).getMessage());
    }

    @Test
    void malformedRequestIsAnswered400AndClosed() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send("GET / HTTP/1.1\r\nHost: t\r\nContent-Length: nope\r\n\r\n");
            RawHttpConnection.Response response = connection.readResponse();

            assertEquals(400, response.status());
            assertTrue(connection.closedByPeer());
        }
    }

    @Test
    void bodyCutShortIsRecordedAsIncomplete() throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(origin.port())) {
            connection.send("POST /sink HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789");
            // Once the origin has read the head it is waiting for the rest of the body: close instead.
        }
        RecordedRequest r = origin.awaitRequests(1, WAIT).get(0);

        assertFalse(r.bodyComplete());
        assertEquals(10, r.bodyBytes());
        assertEquals(TestOrigin.sha256Hex("0123456789".getBytes(StandardCharsets.US_ASCII)), r.bodySha256());
    }

    @Test
    void awaitRequestsFailsNamingWhatArrived() throws Exception {
        get("/");

        AssertionError failure = assertThrows(AssertionError.class,
                () -> origin.awaitRequests(2, Duration.ofMillis(50)));
        assertTrue(failure.getMessage().contains("but got 1"), failure.getMessage());
    }

    @Test
    void closedPortRefusesConnections() {
        int port = TestOrigin.closedPort();

        assertThrows(ConnectException.class, () -> {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            }
        });
    }

    @Test
    void closeConnectionsDropsKeptAliveConnections() throws Exception {
        // Its own origin: closing the shared one's connections would pull them from under the shared client.
        try (TestOrigin own = TestOrigin.builder().name("own").build().start();
             RawHttpConnection connection = new RawHttpConnection(own.port())) {
            connection.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals("origin own\n", connection.readResponse().bodyText());
            assertEquals(1, own.openConnections());

            own.closeConnections();

            assertTrue(connection.closedByPeer());
            assertEquals(0, own.openConnections());
        }
    }

    /** Reads {@code in} to the end, checking every byte against the pattern; returns the count. */
    static long readVerifyingPattern(InputStream in) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        long offset = 0;
        int n;
        while ((n = in.read(buffer)) > 0) {
            for (int i = 0; i < n; i++) {
                if (buffer[i] != TestOrigin.patternByte(offset + i)) {
                    throw new AssertionError("byte " + (offset + i) + " is " + buffer[i] + " (expected: "
                            + TestOrigin.patternByte(offset + i) + ")");
                }
            }
            offset += n;
        }
        return offset;
    }

    static byte[] randomBytes(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
