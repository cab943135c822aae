package dev.relay.transport;

import dev.relay.core.ErrorType;
import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.core.ProxyHttp;
import dev.relay.core.RequestHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.testing.RecordedRequest;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.TestOrigin;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The phase engine against a real origin on loopback, through a real HTTP client. */
@Timeout(120)
class ProxyEngineTest {
    private static TestOrigin origin;
    private static ProxyFixture.SimpleProxy proxy;
    private static ProxyFixture fixture;

    @BeforeAll
    static void start() {
        origin = TestOrigin.builder().name("a").build().start();
        proxy = new ProxyFixture.SimpleProxy(origin.address());
        fixture = new ProxyFixture(proxy);
    }

    @AfterAll
    static void stop() {
        fixture.close();
        origin.close();
    }

    @BeforeEach
    void reset() {
        origin.reset();
        proxy.logged.clear();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return fixture.client.send(HttpRequest.newBuilder(fixture.uri(path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void proxiesSmallGetAndLogsOnce() throws Exception {
        HttpResponse<String> response = get("/small");
        assertEquals(200, response.statusCode());
        assertEquals(100, response.body().length());
        assertEquals("a", response.headers().firstValue("X-Origin").orElseThrow());
        ProxyFixture.Logged logged = proxy.nextLogged("/small");
        assertEquals(200, logged.status());
        assertNull(logged.error());
    }

    @Test
    void proxiesSmallPostBody() throws Exception {
        byte[] body = "hello origin".getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> response = fixture.client.send(HttpRequest.newBuilder(fixture.uri("/sink"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        assertTrue(response.body().contains("\"bytes\":12"), response.body());
        assertTrue(response.body().contains(TestOrigin.sha256Hex(body)), response.body());
    }

    @Test
    void aBodyWhoseContentLengthAFilterRemovedGoesChunkedAndTheConnectionStaysInStep() throws Exception {
        // A filter that rewrites the body drops the length; unframed, the origin would take the body for
        // the next request on the pooled connection.
        ProxyFixture.SimpleProxy dropsLength = new ProxyFixture.SimpleProxy(origin.address()) {
            @Override
            public CompletionStage<Boolean> requestFilter(Session session, Object ctx) {
                session.requestHeader().removeHeader("Content-Length");
                return Stages.completedFalse();
            }
        };
        try (ProxyFixture own = new ProxyFixture(dropsLength)) {
            byte[] body = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> response = own.client.send(HttpRequest.newBuilder(own.uri("/sink"))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, response.statusCode());
                assertTrue(response.body().contains("\"bytes\":" + body.length), response.body());
                assertTrue(response.body().contains(TestOrigin.sha256Hex(body)), response.body());
            }
            assertTrue(origin.requests().stream().noneMatch(r -> r.path().equals("/smuggled")), origin.requests().toString());
            assertTrue(origin.requests().stream().allMatch(r -> "chunked".equals(r.header("Transfer-Encoding"))
                    && r.header("Content-Length") == null), origin.requests().toString());
        }
    }

    @Test
    void aResponseBeforeTheBodyEndsIsFollowedByALingeringCloseThatReadsTheRestInsteadOfAReset() throws Exception {
        // A filter refuses a large upload (a 413) before reading it. Closing at once would meet the bytes
        // still arriving with a reset, and the reset can destroy the 413 before the client reads it.
        ProxyFixture.SimpleProxy refusesUploads = new ProxyFixture.SimpleProxy(origin.address()) {
            @Override
            public CompletionStage<Boolean> requestFilter(Session session, Object ctx) {
                session.disableKeepAlive();
                return session.respondError(413).thenApply(v -> true);
            }
        };
        int bodyLength = 16 << 20;
        try (ProxyFixture own = new ProxyFixture(refusesUploads);
             java.net.Socket socket = new java.net.Socket(own.address.getAddress(), own.address.getPort())) {
            socket.setSoTimeout(10_000);
            java.io.OutputStream out = socket.getOutputStream();
            out.write(("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " + bodyLength + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            CompletableFuture<Void> upload = CompletableFuture.runAsync(() -> {
                byte[] piece = new byte[64 * 1024];
                try {
                    for (int sent = 0; sent < bodyLength; sent += piece.length) {
                        out.write(piece);
                    }
                    out.flush();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(response.startsWith("HTTP/1.1 413"), response);
            assertTrue(response.toLowerCase(java.util.Locale.ROOT).contains("connection: close"), response);
            // The proxy read (and dropped) the whole body: the upload finished without a reset.
            upload.get(20, java.util.concurrent.TimeUnit.SECONDS);
        }
        assertTrue(origin.requests().isEmpty(), origin.requests().toString());
    }

    @Test
    void reusesOneUpstreamConnectionForSequentialRequests() throws Exception {
        for (int i = 0; i < 20; i++) {
            assertEquals(200, get("/small").statusCode());
        }
        // One upstream connection carried all of them (it may have been opened by an earlier test).
        assertEquals(1, origin.requests().stream().map(RecordedRequest::connectionId).distinct().count());
        assertEquals(20, origin.requests().size());
        assertTrue(origin.connectionsAccepted() <= 1);
    }

    @Test
    void streamsALargeDownloadWithContentLength() throws Exception {
        long size = 128L * 1024 * 1024;
        assertEquals(size, downloadAndVerify("/bytes/" + size));
    }

    @Test
    void streamsAChunkedDownload() throws Exception {
        long size = 8L * 1024 * 1024 + 17;
        HttpResponse<InputStream> response = fixture.client.send(
                HttpRequest.newBuilder(fixture.uri("/chunked/" + size)).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        assertEquals("chunked", response.headers().firstValue("Transfer-Encoding").orElse(""));
        assertEquals(size, verifyPattern(response.body()));
    }

    @Test
    void streamsALargeChunkedUpload() throws Exception {
        long size = 128L * 1024 * 1024;
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        HttpResponse<String> response = fixture.client.send(HttpRequest.newBuilder(fixture.uri("/sink"))
                        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new PatternStream(size, sha))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        assertTrue(response.body().contains("\"bytes\":" + size), response.body());
        assertTrue(response.body().contains(HexFormat.of().formatHex(sha.digest())), response.body());
        RecordedRequest seen = origin.requests().get(0);
        assertEquals("chunked", seen.header("Transfer-Encoding"));
    }

    @Test
    void echoesAChunkedUploadBackChunked() throws Exception {
        long size = 3L * 1024 * 1024 + 5;
        HttpResponse<InputStream> response = fixture.client.send(HttpRequest.newBuilder(fixture.uri("/echo"))
                        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new PatternStream(size, null))).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        assertEquals(size, verifyPattern(response.body()));
    }

    @Test
    void keepsHeapAndPooledMemoryBoundedForAOneGibDownload() throws Exception {
        long size = 1L << 30;
        long[] maxDirect = {0};
        HttpResponse<InputStream> response = fixture.client.send(
                HttpRequest.newBuilder(fixture.uri("/bytes/" + size)).build(), HttpResponse.BodyHandlers.ofInputStream());
        long read = 0;
        byte[] buf = new byte[64 * 1024];
        try (InputStream in = response.body()) {
            int n;
            while ((n = in.read(buf)) > 0) {
                read += n;
                if ((read & ((16 << 20) - 1)) < n) {
                    maxDirect[0] = Math.max(maxDirect[0], allocatorDirectMemory());
                }
            }
        }
        assertEquals(size, read);
        // Proxy, origin and client share this JVM's allocator: all stream in 64 KiB pieces under
        // backpressure, so what the allocator holds stays a few chunks per connection, never the body.
        assertTrue(maxDirect[0] > 0, "the allocator metric works");
        assertTrue(maxDirect[0] < 64L * 1024 * 1024, "pooled direct memory in use peaked at " + maxDirect[0]);
    }

    @Test
    void keepsPooledMemoryBoundedForAOneGibUpload() throws Exception {
        long size = 1L << 30;
        long[] maxDirect = {0};
        InputStream body = new PatternStream(size, null) {
            private long sent;

            @Override
            public int read(byte[] b, int off, int len) {
                int n = super.read(b, off, len);
                if (n > 0 && ((sent += n) & ((16 << 20) - 1)) < n) {
                    maxDirect[0] = Math.max(maxDirect[0], allocatorDirectMemory());
                }
                return n;
            }
        };
        HttpResponse<String> response = fixture.client.send(HttpRequest.newBuilder(fixture.uri("/sink"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        assertTrue(response.body().contains("\"bytes\":" + size), response.body());
        assertTrue(maxDirect[0] > 0, "the allocator metric works");
        assertTrue(maxDirect[0] < 64L * 1024 * 1024, "pooled direct memory in use peaked at " + maxDirect[0]);
    }

    @Test
    void refusedUpstreamGives502AndLogsOneConnectError() throws Exception {
        ProxyFixture.SimpleProxy refused = new ProxyFixture.SimpleProxy("127.0.0.1:" + TestOrigin.closedPort());
        try (ProxyFixture f = new ProxyFixture(refused, ProxyOptions.builder().maxAttempts(3).build())) {
            HttpResponse<String> response = f.client.send(HttpRequest.newBuilder(f.uri("/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(502, response.statusCode());
            ProxyFixture.Logged logged = refused.nextLogged();
            assertEquals(ErrorType.CONNECT_REFUSED, logged.error().type());
            assertNull(refused.logged.poll(200, java.util.concurrent.TimeUnit.MILLISECONDS), "logged twice");
        }
    }

    @Test
    void rejectsContentLengthWithTransferEncodingAndForwardsNothing() throws Exception {
        // A target no other test of the shared proxy uses: its logging call is this request's.
        String answer = fixture.raw("POST /sink?cl-and-te HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(answer.startsWith("HTTP/1.1 400"), answer);
        assertEquals(1, answer.split("HTTP/1.1 ", -1).length - 1, "one response, then the connection closed: " + answer);
        assertEquals(0, origin.requests().size());
        assertEquals(ErrorType.H1_ERROR, proxy.nextLogged("/sink?cl-and-te").error().type());
    }

    @Test
    void rejectsConflictingContentLengths() throws Exception {
        String answer = fixture.raw("POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
        assertTrue(answer.startsWith("HTTP/1.1 400"), answer);
        assertEquals(0, origin.requests().size());
    }

    @Test
    void servesHttp10ClientsWithoutChunkedEncoding() throws Exception {
        String answer = fixture.raw("GET /chunked/1000 HTTP/1.0\r\n\r\n");
        assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
        assertTrue(!answer.toLowerCase().contains("transfer-encoding"), answer);
        assertEquals(1000, answer.length() - answer.indexOf("\r\n\r\n") - 4);
    }

    @Test
    void keepsHttp10KeepAliveWhenAsked() throws Exception {
        String request = "GET /small HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
        String answer = fixture.raw(request + request.replace("keep-alive", "close"));
        assertEquals(2, answer.split("HTTP/1.1 200", -1).length - 1, answer);
        assertTrue(answer.toLowerCase().contains("connection: keep-alive"), answer);
    }

    @Test
    void removesHopByHopHeadersBothWays() throws Exception {
        fixture.raw("GET /headers HTTP/1.1\r\nHost: example.test\r\nConnection: close, X-Private\r\n"
                + "X-Private: secret\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Connection: keep-alive\r\n"
                + "X-Kept: yes\r\n\r\n");
        RecordedRequest seen = origin.awaitRequests(1, Duration.ofSeconds(5)).get(0);
        assertNull(seen.header("X-Private"));
        assertNull(seen.header("Keep-Alive"));
        assertNull(seen.header("TE"));
        assertNull(seen.header("Proxy-Connection"));
        assertNull(seen.header("Connection"));
        assertEquals("yes", seen.header("X-Kept"));
        assertEquals("example.test", seen.header("Host"));
    }

    @Test
    void answersExpectContinueBeforeTheClientSendsTheBody() throws Exception {
        try (java.net.Socket socket = new java.net.Socket(fixture.address.getAddress(), fixture.address.getPort())) {
            socket.setSoTimeout(5000);
            java.io.OutputStream out = socket.getOutputStream();
            out.write(("POST /sink HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n"
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            StringBuilder interim = new StringBuilder();
            while (!interim.toString().endsWith("\r\n\r\n")) {
                int c = in.read();
                assertTrue(c >= 0, "closed before 100 Continue: " + interim);
                interim.append((char) c);
            }
            assertTrue(interim.toString().startsWith("HTTP/1.1 100 Continue"), interim.toString());
            out.write("hello".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            String answer = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
            assertTrue(answer.contains("\"bytes\":5"), answer);
        }
        assertNull(origin.requests().get(0).header("Expect"));
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        String answer = fixture.raw("GET /status/201 HTTP/1.1\r\nHost: x\r\n\r\nGET /status/202 HTTP/1.1\r\nHost: x\r\n"
                + "Connection: close\r\n\r\n");
        int first = answer.indexOf("HTTP/1.1 201");
        int second = answer.indexOf("HTTP/1.1 202");
        assertTrue(first >= 0 && second > first, answer);
    }

    @Test
    void pipelinedRequestsWithBodiesAreAnsweredInOrder() throws Exception {
        String answer = fixture.raw("POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                + "POST /sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwxyz\r\n0\r\n\r\n"
                + "GET /status/204 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        int first = answer.indexOf("\"bytes\":3");
        int second = answer.indexOf("\"bytes\":4");
        int third = answer.indexOf("HTTP/1.1 204");
        assertTrue(first >= 0 && second > first && third > second, answer);
    }

    @Test
    void tlsUpstreamSeesTheConfiguredSni() throws Exception {
        TestCertificates.Server cert = TestCertificates.server("origin.example");
        try (TestOrigin tlsOrigin = TestOrigin.builder().name("tls").tls(cert).build().start()) {
            PeerOptions trust = PeerOptions.builder().trustedCertificates(List.of(TestCertificates.caCertificate())).build();
            ProxyFixture.SimpleProxy tlsProxy = new ProxyFixture.SimpleProxy(
                    session -> HttpPeer.tls(tlsOrigin.address(), "origin.example").withOptions(trust));
            try (ProxyFixture f = new ProxyFixture(tlsProxy)) {
                for (int i = 0; i < 3; i++) {
                    HttpResponse<String> response = f.client.send(HttpRequest.newBuilder(f.uri("/")).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, response.statusCode());
                }
                List<RecordedRequest> seen = tlsOrigin.requests();
                assertEquals(3, seen.size());
                assertEquals("origin.example", seen.get(0).sniHostName());
                assertEquals(1, tlsOrigin.connectionsAccepted());
            }
        }
    }

    @Test
    void tlsUpstreamWithAnUntrustedCertificateFailsWith502() throws Exception {
        TestCertificates.Server cert = TestCertificates.server("origin.example");
        try (TestOrigin tlsOrigin = TestOrigin.builder().name("tls").tls(cert).build().start()) {
            ProxyFixture.SimpleProxy tlsProxy = new ProxyFixture.SimpleProxy(
                    session -> HttpPeer.tls(tlsOrigin.address(), "origin.example"));
            try (ProxyFixture f = new ProxyFixture(tlsProxy, ProxyOptions.builder().maxAttempts(1).build())) {
                HttpResponse<String> response = f.client.send(HttpRequest.newBuilder(f.uri("/")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(502, response.statusCode());
                assertEquals(ErrorType.INVALID_CERT, tlsProxy.nextLogged().error().type());
                assertEquals(0, tlsOrigin.requests().size());
            }
        }
    }

    @Test
    void requestFilterCanAnswer403WithoutTouchingTheUpstream() throws Exception {
        ProxyHttp<Object> guard = new ProxyFixture.SimpleProxy(origin.address()) {
            @Override
            public CompletionStage<Boolean> requestFilter(Session session, Object ctx) {
                if (session.requestHeader().headers().contains("X-Token")) {
                    return Stages.completedFalse();
                }
                return session.respondError(403).thenApply(v -> true);
            }
        };
        try (ProxyFixture f = new ProxyFixture(guard)) {
            HttpResponse<String> denied = f.client.send(HttpRequest.newBuilder(f.uri("/small")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(403, denied.statusCode());
            assertEquals(0, origin.requests().size());
            HttpResponse<String> allowed = f.client.send(HttpRequest.newBuilder(f.uri("/small"))
                    .header("X-Token", "t").build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, allowed.statusCode());
        }
    }

    @Test
    void upstreamRequestFilterRewritesHost() throws Exception {
        ProxyHttp<Object> rewriting = new ProxyFixture.SimpleProxy(origin.address()) {
            @Override
            public CompletionStage<Void> upstreamRequestFilter(Session session, RequestHeader upstreamRequest, Object ctx) {
                upstreamRequest.insertHeader("Host", "backend.internal");
                return CompletableFuture.supplyAsync(() -> null);
            }
        };
        try (ProxyFixture f = new ProxyFixture(rewriting)) {
            assertEquals(200, f.client.send(HttpRequest.newBuilder(f.uri("/")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals("backend.internal", origin.requests().get(0).header("Host"));
        }
    }

    /** Direct memory held by the allocator the channels use (Netty 4.2's adaptive one by default). */
    private static long allocatorDirectMemory() {
        return ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric().usedDirectMemory();
    }

    private long downloadAndVerify(String path) throws Exception {
        HttpResponse<InputStream> response = fixture.client.send(HttpRequest.newBuilder(fixture.uri(path)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        return verifyPattern(response.body());
    }

    /** Reads the origin's byte pattern to the end, failing at the first wrong byte; returns the length. */
    static long verifyPattern(InputStream body) throws Exception {
        long offset = 0;
        byte[] buf = new byte[64 * 1024];
        try (InputStream in = body) {
            int n;
            while ((n = in.read(buf)) > 0) {
                for (int i = 0; i < n; i++) {
                    if (buf[i] != TestOrigin.patternByte(offset + i)) {
                        throw new AssertionError("byte " + (offset + i) + " differs");
                    }
                }
                offset += n;
            }
        }
        return offset;
    }

    /** The origin's byte pattern as a stream of {@code size} bytes, optionally digested as it goes. */
    static class PatternStream extends InputStream {
        private final long size;
        private final MessageDigest digest;
        private long offset;

        PatternStream(long size, MessageDigest digest) {
            this.size = size;
            this.digest = digest;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (offset >= size) {
                return -1;
            }
            int n = (int) Math.min(len, size - offset);
            for (int i = 0; i < n; i++) {
                b[off + i] = TestOrigin.patternByte(offset + i);
            }
            if (digest != null) {
                digest.update(b, off, n);
            }
            offset += n;
            return n;
        }
    }
}
