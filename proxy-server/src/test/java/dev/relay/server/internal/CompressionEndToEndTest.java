package dev.relay.server.internal;

import dev.relay.server.testing.InProcessRelay;
import dev.relay.testing.Await;
import dev.relay.testing.ExternalTool;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code compression} filter in the configured server, with real clients: curl {@code --compressed}
 * over HTTP/1.1 and over HTTP/2 (h2c), a client without compression given a gzip origin's body decoded,
 * a 304 given the weak ETag and Vary of the compressed 200, request bodies decoded (also across a retry)
 * and a bomb answered 413, and a streaming origin whose first event reaches the client compressed before
 * the origin sends the rest.
 */
@Timeout(60)
class CompressionEndToEndTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String PAGE = page();

    @TempDir
    Path dir;

    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private TestOrigin origin;

    private static String page() {
        Random random = new Random(7);
        StringBuilder html = new StringBuilder("<html><body>\n");
        while (html.length() < 400_000) {
            html.append("<p class=\"row\">row ").append(random.nextInt(10_000)).append(" of the table</p>\n");
        }
        return html.append("</body></html>\n").toString();
    }

    @BeforeEach
    void startOrigin() throws IOException {
        byte[] gzipped = gzip(PAGE.getBytes(StandardCharsets.UTF_8));
        origin = TestOrigin.builder().name("origin")
                .handler("/page", (request, response) -> response.header("Content-Type", "text/html; charset=utf-8")
                        .header("ETag", "\"p1\"").body(PAGE))
                .handler("/conditional", (request, response) -> {
                    // Weak comparison, as RFC 9110 §13.1.2 requires for If-None-Match: W/"c1" matches "c1".
                    String ifNoneMatch = request.header("If-None-Match");
                    if (ifNoneMatch != null && ifNoneMatch.contains("\"c1\"")) {
                        response.status(304).header("ETag", "\"c1\"");
                    } else {
                        response.header("Content-Type", "text/html").header("ETag", "\"c1\"").body(PAGE);
                    }
                })
                .handler("/gzipped", (request, response) -> response.header("Content-Type", "text/html")
                        .header("Content-Encoding", "gzip").body(gzipped))
                .build().start();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
        origin.close();
        Await.until(() -> openCodecs() == 0, WAIT, () -> openCodecs() + " codecs open");
    }

    private InProcessRelay start(String upstream, String settings) throws Exception {
        String conf = """
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  admin.address = "127.0.0.1:0"
                  server { upgrade-socket = none }
                  upstreams { web { backends = [ "%s" ] } }
                  filters = [ { name = compression%s } ]
                  routes = [ { name = all, upstream = web } ]
                }
                """.formatted(upstream, settings);
        InProcessRelay relay = new InProcessRelay(dir.resolve("relay.conf"), conf);
        cleanup.add(relay);
        return relay;
    }

    /**
     * {@code CompressionFilter.openCodecs()}: proxy-server has the filters at run time only (the module rule),
     * so its tests reach them as the server does, by name.
     */
    private static long openCodecs() {
        try {
            return (long) Class.forName("dev.relay.filters.compression.CompressionFilter").getMethod("openCodecs").invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private static String url(InProcessRelay relay, String path) {
        return "http://127.0.0.1:" + relay.proxy().getPort() + path;
    }

    private static byte[] gzip(byte[] body) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(bytes)) {
            out.write(body);
        }
        return bytes.toByteArray();
    }

    @Test
    void curlCompressedGetsTheSameBytesInFewerOverHttp1AndHttp2() throws Exception {
        InProcessRelay relay = start(origin.address(), "");
        for (String protocol : List.of("--http1.1", "--http2-prior-knowledge")) {
            Path headers = dir.resolve("headers" + protocol);
            ExternalTool.Result result = ExternalTool.run(WAIT, "curl", "-sS", protocol, "--compressed", "-D", headers.toString(),
                    "-w", "\n%{size_download}", url(relay, "/page"));
            assertEquals(0, result.exitCode(), result.stderr());
            String out = result.stdout();
            int split = out.lastIndexOf('\n');
            assertEquals(PAGE, out.substring(0, split), protocol + ": the decoded body");
            long downloaded = Long.parseLong(out.substring(split + 1).trim());
            assertTrue(downloaded < PAGE.length() / 4, protocol + ": " + downloaded + " bytes on the wire");
            String head = Files.readString(headers).toLowerCase();
            assertTrue(head.contains("content-encoding: "), head);
            assertTrue(head.contains("vary: accept-encoding"), head);
            assertTrue(head.contains("etag: w/\"p1\""), head);
        }
    }

    @Test
    void aRevalidationGetsA304WithTheWeakETagAndVaryOfTheCompressed200() throws Exception {
        InProcessRelay relay = start(origin.address(), "");
        ExternalTool.Result first = ExternalTool.run(WAIT, "curl", "-sS", "--compressed", "-D", "-", "-o", "/dev/null",
                url(relay, "/conditional"));
        assertEquals(0, first.exitCode(), first.stderr());
        assertTrue(first.stdout().toLowerCase().contains("etag: w/\"c1\""), first.stdout());
        // The client revalidates with the tag it got; the origin matches it weakly against its own "c1".
        ExternalTool.Result again = ExternalTool.run(WAIT, "curl", "-sS", "--compressed", "-D", "-", "-o", "/dev/null",
                "-H", "If-None-Match: W/\"c1\"", url(relay, "/conditional"));
        assertEquals(0, again.exitCode(), again.stderr());
        String head = again.stdout().toLowerCase();
        assertTrue(head.startsWith("http/1.1 304"), head);
        assertTrue(head.contains("etag: w/\"c1\""), head);
        assertTrue(head.contains("vary: accept-encoding"), head);
    }

    @Test
    void aClientWithoutCompressionGetsTheGzipOriginsBodyDecoded() throws Exception {
        InProcessRelay relay = start(origin.address(), "");
        ExternalTool.Result result = ExternalTool.run(WAIT, "curl", "-sS", "-D", "-", url(relay, "/gzipped"));
        assertEquals(0, result.exitCode(), result.stderr());
        assertTrue(result.stdout().endsWith(PAGE), "the page, decoded");
        assertTrue(!result.stdout().toLowerCase().contains("content-encoding"), "no Content-Encoding left");
    }

    @Test
    void requestBodiesAreDecodedAndABombIsAnswered413() throws Exception {
        InProcessRelay relay = start(origin.address(), ", request-decompress = true, max-request-size = 1MiB");
        byte[] body = PAGE.getBytes(StandardCharsets.UTF_8);
        Path encoded = dir.resolve("body.gz");
        Files.write(encoded, gzip(body));
        ExternalTool.Result ok = ExternalTool.run(WAIT, "curl", "-sS", "-H", "Content-Encoding: gzip",
                "--data-binary", "@" + encoded, url(relay, "/sink"));
        assertEquals(0, ok.exitCode(), ok.stderr());
        assertEquals("{\"bytes\":" + body.length + ",\"sha256\":\"" + TestOrigin.sha256Hex(body) + "\"}", ok.stdout().trim());

        Path bomb = dir.resolve("bomb.gz");
        Files.write(bomb, gzip(new byte[32 * 1024 * 1024]));
        ExternalTool.Result refused = ExternalTool.run(WAIT, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                "-H", "Content-Encoding: gzip", "--data-binary", "@" + bomb, url(relay, "/sink"));
        assertEquals("413", refused.stdout().trim(), refused.stderr());
    }

    @Test
    void aGzipUploadRetriedAfterAStalePooledConnectionIsDecodedWhole() throws Exception {
        InProcessRelay relay = start(origin.address(), ", request-decompress = true");
        byte[] body = PAGE.getBytes(StandardCharsets.UTF_8);
        byte[] encoded = gzip(body);
        int firstPart = 2000;
        // One client connection, so the pooled upstream connection is in the partition its request looks in.
        try (RawHttpConnection client = new RawHttpConnection(relay.proxy().getPort())) {
            client.send("GET /close-on-next HTTP/1.1\r\nHost: site.test\r\n\r\n");
            assertEquals(200, client.readResponse().status());
            assertEquals(1, origin.connectionsAccepted());

            // The head and the first part go out on the pooled connection, which the origin closes on the head:
            // the engine retries on a new connection, replaying what it sent (already decoded) by itself.
            client.send(("POST /sink HTTP/1.1\r\nHost: site.test\r\nContent-Encoding: gzip\r\nContent-Length: "
                    + encoded.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            client.send(Arrays.copyOf(encoded, firstPart));
            Await.until(() -> origin.connectionsAccepted() == 2, WAIT, () -> "the retry's new connection");
            // The rest reaches the filter only now, on the second attempt: the decoder must carry on.
            client.send(Arrays.copyOfRange(encoded, firstPart, encoded.length));
            RawHttpConnection.Response response = client.readResponse();
            assertEquals(200, response.status(), response.bodyText());
            assertEquals("{\"bytes\":" + body.length + ",\"sha256\":\"" + TestOrigin.sha256Hex(body) + "\"}",
                    response.bodyText().trim());
        }
        assertEquals(1, origin.discardedRequests(), "the first attempt, dropped by the origin");
        assertEquals(1, origin.requestCount("/sink"));
    }

    @Test
    void aStreamingResponseReachesTheClientCompressedEventByEvent() throws Exception {
        try (GatedEventOrigin events = new GatedEventOrigin()) {
            InProcessRelay relay = start("127.0.0.1:" + events.port(), "");
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), relay.proxy().getPort())) {
                client.setSoTimeout((int) WAIT.toMillis());
                client.getOutputStream().write(("GET /events HTTP/1.1\r\nHost: site.test\r\nAccept-Encoding: gzip\r\n"
                        + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                InputStream in = client.getInputStream();
                String head = readHead(in);
                assertTrue(head.toLowerCase().contains("content-encoding: gzip"), head);
                assertTrue(head.toLowerCase().contains("transfer-encoding: chunked"), head);
                InputStream decoded = new GZIPInputStream(new ChunkedBody(in), 64);
                byte[] first = GatedEventOrigin.FIRST.getBytes(StandardCharsets.US_ASCII);
                // The origin holds the rest back until the client has decoded the first event.
                assertEquals(GatedEventOrigin.FIRST, new String(decoded.readNBytes(first.length), StandardCharsets.US_ASCII));
                events.release();
                assertEquals(GatedEventOrigin.REST, new String(decoded.readAllBytes(), StandardCharsets.US_ASCII));
            }
        }
    }

    @Test
    void aClientLeavingMidStreamLeavesNoCodecOpen() throws Exception {
        try (GatedEventOrigin events = new GatedEventOrigin()) {
            InProcessRelay relay = start("127.0.0.1:" + events.port(), "");
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), relay.proxy().getPort())) {
                client.setSoTimeout((int) WAIT.toMillis());
                client.getOutputStream().write(("GET /events HTTP/1.1\r\nHost: site.test\r\nAccept-Encoding: zstd\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                readHead(client.getInputStream());
                assertEquals(1, openCodecs(), "the stream's compressor");
            }
            Await.until(() -> openCodecs() == 0, WAIT, () -> "the compressor of a request whose client left");
            events.release();
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed in the head: " + head);
            }
            head.append((char) b);
        }
        return head.toString();
    }

    /** Reads an HTTP/1.1 chunked body's data, chunk by chunk, without waiting for the next chunk early. */
    private static final class ChunkedBody extends InputStream {
        private final InputStream in;
        private int left;
        private boolean done;

        ChunkedBody(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            if (done) {
                return -1;
            }
            if (left == 0) {
                String line = line();
                if (line.isEmpty()) {
                    line = line();
                }
                left = Integer.parseInt(line.trim(), 16);
                if (left == 0) {
                    done = true;
                    return -1;
                }
            }
            int count = in.read(buffer, offset, Math.min(length, left));
            if (count < 0) {
                throw new IOException("closed in a chunk");
            }
            left -= count;
            return count;
        }

        private String line() throws IOException {
            StringBuilder line = new StringBuilder();
            int b;
            while ((b = in.read()) != '\n') {
                if (b < 0) {
                    throw new IOException("closed in a chunk header");
                }
                if (b != '\r') {
                    line.append((char) b);
                }
            }
            return line.toString();
        }
    }

    /**
     * An origin that answers every request with a chunked {@code text/event-stream}: the first event at
     * once, the rest only after {@link #release()}, as a live event stream does.
     */
    private static final class GatedEventOrigin implements AutoCloseable {
        static final String FIRST = "data: first event\n\n";
        static final String REST = "data: second event\n\ndata: last event\n\n";
        private final ServerSocket server;
        private final CountDownLatch gate = new CountDownLatch(1);
        private final Thread thread;

        GatedEventOrigin() throws IOException {
            server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
            thread = new Thread(this::serve, "gated-event-origin");
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return server.getLocalPort();
        }

        void release() {
            gate.countDown();
        }

        private void serve() {
            while (!server.isClosed()) {
                try (Socket socket = server.accept()) {
                    readHead(socket.getInputStream());
                    OutputStream out = socket.getOutputStream();
                    out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + chunk(FIRST)).getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    if (!gate.await(30, TimeUnit.SECONDS)) {
                        continue;
                    }
                    out.write((chunk(REST) + "0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } catch (IOException | InterruptedException e) {
                    // The proxy closed the connection, or the origin is closing: next one.
                }
            }
        }

        private static String chunk(String data) {
            return Integer.toHexString(data.length()) + "\r\n" + data + "\r\n";
        }

        @Override
        public void close() throws IOException, InterruptedException {
            gate.countDown();
            server.close();
            thread.join(5000);
        }
    }
}
