package dev.relay.transport;

import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.core.StreamProxy;
import dev.relay.core.StreamSession;
import dev.relay.core.StreamSummary;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stream proxy over real TCP: a {@link TestOrigin} spoken to in raw HTTP through the relay, JDK
 * socket servers (echo, speak-first, echo-after-EOF), a backend that is down, TLS origination with a
 * CA, a client certificate and an alternative name.
 */
@Timeout(60)
class StreamProxyServerTest {
    private static TransportRuntime runtime;
    private final List<AutoCloseable> resources = new ArrayList<>();

    @BeforeAll
    static void startRuntime() {
        runtime = TransportRuntime.create(TransportRuntime.Kind.AUTO, 2);
    }

    @AfterAll
    static void stopRuntime() {
        runtime.close();
    }

    @AfterEach
    void closeResources() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    /** Picks the peers in order, one per attempt, and records each summary. */
    static final class ListProxy implements StreamProxy<Void> {
        final List<HttpPeer> peers;
        final LinkedBlockingQueue<StreamSummary> summaries = new LinkedBlockingQueue<>();

        ListProxy(HttpPeer... peers) {
            this.peers = List.of(peers);
        }

        @Override
        public Void newCtx() {
            return null;
        }

        @Override
        public CompletionStage<HttpPeer> upstreamPeer(StreamSession session, Void ctx) {
            return CompletableFuture.completedFuture(peers.get(Math.min(session.attempts() - 1, peers.size() - 1)));
        }

        @Override
        public void streamDone(StreamSession session, StreamSummary summary, Void ctx) {
            summaries.add(summary);
        }

        StreamSummary awaitSummary() throws InterruptedException {
            StreamSummary s = summaries.poll(10, TimeUnit.SECONDS);
            assertNotNull(s, "streamDone within 10 s");
            return s;
        }
    }

    private InetSocketAddress serve(ListProxy proxy, StreamOptions options) {
        StreamProxyServer server = StreamProxyServer.create(proxy, options, runtime);
        resources.add(server);
        return server.bind("127.0.0.1:0");
    }

    private TestOrigin origin(TestOrigin.Builder builder) {
        TestOrigin origin = builder.build().start();
        resources.add(origin);
        return origin;
    }

    /** A JDK server socket that runs {@code handler} for each connection on its own thread. */
    private int backend(SocketHandler handler) throws IOException {
        ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        resources.add(server);
        Thread acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    resources.add(s);
                    Thread t = new Thread(() -> {
                        try (s) {
                            handler.handle(s);
                        } catch (IOException ignored) {
                            // The test decides what a failure means.
                        }
                    }, "test-backend-connection");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException closed) {
                    return;
                }
            }
        }, "test-backend-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        return server.getLocalPort();
    }

    interface SocketHandler {
        void handle(Socket socket) throws IOException;
    }

    private static void echo(Socket s) throws IOException {
        s.getInputStream().transferTo(s.getOutputStream());
    }

    private static Socket connect(InetSocketAddress address) throws IOException {
        Socket socket = new Socket();
        socket.connect(address, 5000);
        socket.setSoTimeout(10_000);
        return socket;
    }

    private static String rawGet(InetSocketAddress proxy, String host) throws IOException {
        try (Socket client = connect(proxy)) {
            client.getOutputStream().write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            return new String(client.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    /** What the client gets when no upstream can be connected: the connection closed, reset if it had sent bytes. */
    private static String rawGetRefused(InetSocketAddress proxy) throws IOException {
        try {
            return rawGet(proxy, "x");
        } catch (java.net.SocketException reset) {
            return "";
        }
    }

    @Test
    void relaysRawHttpToATestOrigin() throws Exception {
        TestOrigin a = origin(TestOrigin.builder().name("a"));
        ListProxy proxy = new ListProxy(HttpPeer.plain(a.address()));
        InetSocketAddress address = serve(proxy, StreamOptions.defaults());

        String response = rawGet(address, "example");
        assertTrue(response.startsWith("HTTP/1.1 200"), response);
        assertTrue(response.contains("origin a"), response);
        StreamSummary summary = proxy.awaitSummary();
        assertEquals(StreamSummary.End.COMPLETED, summary.end());
        assertNull(summary.error());
        assertEquals(1, summary.attempts());
        assertTrue(summary.bytesFromClient() > 30, summary.toString());
        assertEquals(response.length(), summary.bytesToClient());
    }

    @Test
    void failsOverToTheNextBackendWhenConnectIsRefused() throws Exception {
        int echo = backend(StreamProxyServerTest::echo);
        ListProxy proxy = new ListProxy(HttpPeer.plain("127.0.0.1:" + TestOrigin.closedPort()),
                HttpPeer.plain("127.0.0.1:" + echo));
        InetSocketAddress address = serve(proxy, StreamOptions.defaults());

        try (Socket client = connect(address)) {
            client.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
            assertArrayEquals("ping".getBytes(StandardCharsets.US_ASCII), client.getInputStream().readNBytes(4));
        }
        StreamSummary summary = proxy.awaitSummary();
        assertEquals(2, summary.attempts());
        assertEquals("127.0.0.1:" + echo, summary.peer().hostAndPort());
    }

    @Test
    void reportsConnectFailureWhenEveryAttemptFails() throws Exception {
        HttpPeer down = HttpPeer.plain("127.0.0.1:" + TestOrigin.closedPort());
        ListProxy proxy = new ListProxy(down);
        InetSocketAddress address = serve(proxy, StreamOptions.builder().maxAttempts(2).build());

        try (Socket client = connect(address)) {
            assertEquals(-1, client.getInputStream().read(), "the client connection is closed");
        }
        StreamSummary summary = proxy.awaitSummary();
        assertEquals(StreamSummary.End.CONNECT_FAILED, summary.end());
        assertEquals(2, summary.attempts());
        assertEquals(dev.relay.core.ErrorType.CONNECT_REFUSED, summary.error().type());
        assertNull(summary.peer());
    }

    @Test
    void clientHalfCloseStillReceivesTheRest() throws Exception {
        // The backend answers only once it has read everything (a FIN), then closes.
        int backend = backend(s -> {
            byte[] all = s.getInputStream().readAllBytes();
            s.getOutputStream().write(("got " + all.length + " bytes").getBytes(StandardCharsets.US_ASCII));
        });
        ListProxy proxy = new ListProxy(HttpPeer.plain("127.0.0.1:" + backend));
        InetSocketAddress address = serve(proxy, StreamOptions.defaults());

        try (Socket client = connect(address)) {
            client.getOutputStream().write(new byte[1000]);
            client.shutdownOutput();
            String answer = new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertEquals("got 1000 bytes", answer);
        }
        StreamSummary summary = proxy.awaitSummary();
        assertEquals(StreamSummary.End.COMPLETED, summary.end());
        assertEquals(1000, summary.bytesFromClient());
        assertEquals(14, summary.bytesToClient());
    }

    @Test
    void backendHalfCloseLetsTheClientKeepSending() throws Exception {
        // The backend speaks first, shuts its output, then counts what the client sends until EOF.
        LinkedBlockingQueue<Integer> counted = new LinkedBlockingQueue<>();
        int backend = backend(s -> {
            s.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            counted.add(s.getInputStream().readAllBytes().length);
        });
        ListProxy proxy = new ListProxy(HttpPeer.plain("127.0.0.1:" + backend));
        InetSocketAddress address = serve(proxy, StreamOptions.defaults());

        try (Socket client = connect(address)) {
            assertEquals("hello", new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII),
                    "the backend's FIN reaches the client as end of stream");
            client.getOutputStream().write(new byte[5000]);
            client.shutdownOutput();
            assertEquals(5000, counted.poll(10, TimeUnit.SECONDS));
        }
        assertEquals(StreamSummary.End.COMPLETED, proxy.awaitSummary().end());
    }

    @Test
    void idleTimeoutClosesBothSides() throws Exception {
        LinkedBlockingQueue<Integer> backendSaw = new LinkedBlockingQueue<>();
        int backend = backend(s -> backendSaw.add(s.getInputStream().read()));
        ListProxy proxy = new ListProxy(HttpPeer.plain("127.0.0.1:" + backend));
        InetSocketAddress address = serve(proxy, StreamOptions.builder().idleTimeout(Duration.ofMillis(200)).build());

        try (Socket client = connect(address)) {
            assertEquals(-1, client.getInputStream().read(), "the proxy closes the idle client");
        }
        assertEquals(-1, backendSaw.poll(10, TimeUnit.SECONDS), "and the idle upstream");
        StreamSummary summary = proxy.awaitSummary();
        assertEquals(StreamSummary.End.IDLE_TIMEOUT, summary.end());
        assertEquals(dev.relay.core.ErrorType.READ_TIMEDOUT, summary.error().type());
    }

    @Test
    void bigTransferBothWaysArrivesIntact() throws Exception {
        int echo = backend(StreamProxyServerTest::echo);
        ListProxy proxy = new ListProxy(HttpPeer.plain("127.0.0.1:" + echo));
        InetSocketAddress address = serve(proxy, StreamOptions.defaults());
        int size = 8 * 1024 * 1024;
        byte[] sent = new byte[size];
        new java.util.Random(42).nextBytes(sent);

        try (Socket client = connect(address)) {
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = client.getOutputStream();
                    for (int off = 0; off < size; off += 64 * 1024) {
                        out.write(sent, off, Math.min(64 * 1024, size - off));
                    }
                    client.shutdownOutput();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            // A slow reader: small reads with pauses, so the relay's backpressure is exercised.
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            InputStream in = client.getInputStream();
            byte[] buf = new byte[4096];
            long total = 0;
            for (int n; (n = in.read(buf)) != -1; ) {
                digest.update(buf, 0, n);
                total += n;
                if (total % (512 * 1024) < n) {
                    Thread.sleep(2);
                }
            }
            writer.get(30, TimeUnit.SECONDS);
            assertEquals(size, total);
            assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(sent), digest.digest());
        }
        StreamSummary summary = proxy.awaitSummary();
        assertEquals(StreamSummary.End.COMPLETED, summary.end());
        assertEquals(size, summary.bytesFromClient());
        assertEquals(size, summary.bytesToClient());
    }

    @Test
    void aClientThatDoesNotReadStopsTheBackend() throws Exception {
        // The backend writes 64 MB as fast as the connection takes it; the client reads nothing for a
        // while. With backpressure, the backend stalls after what the socket buffers and one relay
        // batch hold; without, the proxy would take all 64 MB into memory.
        int size = 64 * 1024 * 1024;
        AtomicLong written = new AtomicLong();
        int backend = backend(s -> {
            OutputStream out = s.getOutputStream();
            byte[] chunk = new byte[64 * 1024];
            for (int off = 0; off < size; off += chunk.length) {
                Arrays.fill(chunk, (byte) (off / chunk.length));
                out.write(chunk);
                written.addAndGet(chunk.length);
            }
            s.shutdownOutput();
            s.getInputStream().readAllBytes();
        });
        ListProxy proxy = new ListProxy(HttpPeer.plain("127.0.0.1:" + backend));
        InetSocketAddress address = serve(proxy, StreamOptions.defaults());

        try (Socket client = connect(address)) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            long last = -1;
            // Wait until the backend's progress stops (three checks 200 ms apart without progress).
            int still = 0;
            while (still < 3 && System.nanoTime() < deadline) {
                Thread.sleep(200);
                long now = written.get();
                still = now == last ? still + 1 : 0;
                last = now;
            }
            assertTrue(last < size / 2, "the backend stalled after " + last + " bytes");
            InputStream in = client.getInputStream();
            byte[] buf = new byte[64 * 1024];
            long total = 0;
            for (int n; (n = in.read(buf)) != -1; ) {
                for (int i = 0; i < n; i++) {
                    if (buf[i] != (byte) ((total + i) / (64 * 1024))) {
                        throw new AssertionError("byte " + (total + i) + " differs");
                    }
                }
                total += n;
            }
            assertEquals(size, total);
        }
    }

    @Test
    void originatesTlsToATlsTestOrigin() throws Exception {
        TestOrigin tls = origin(TestOrigin.builder().name("secure").tls(TestCertificates.localhost()));
        HttpPeer peer = HttpPeer.tls(tls.address(), "localhost").withOptions(PeerOptions.builder()
                .trustedCertificates(List.of(TestCertificates.caCertificate())).build());
        ListProxy proxy = new ListProxy(peer);
        InetSocketAddress address = serve(proxy, StreamOptions.defaults());

        String response = rawGet(address, "localhost");
        assertTrue(response.startsWith("HTTP/1.1 200"), response);
        assertTrue(response.contains("origin secure"), response);
        assertEquals(StreamSummary.End.COMPLETED, proxy.awaitSummary().end());
    }

    @Test
    void presentsTheClientCertificateToAnOriginThatRequiresOne() throws Exception {
        TestOrigin mtls = origin(TestOrigin.builder().name("mtls").tls(TestCertificates.localhost())
                .requireClientCertificate());
        PeerOptions trusting = PeerOptions.builder().trustedCertificates(List.of(TestCertificates.caCertificate())).build();
        TestCertificates.Client clientCert = TestCertificates.client("relay-client");
        PeerOptions withCert = trusting.toBuilder()
                .clientCertificate(clientCert.privateKey(), clientCert.certificateChain()).build();

        ListProxy anonymous = new ListProxy(HttpPeer.tls(mtls.address(), "localhost").withOptions(trusting));
        String refused = rawGetRefused(serve(anonymous, StreamOptions.defaults()));
        assertTrue(refused.isEmpty(), "no response without a client certificate: " + refused);

        ListProxy proxy = new ListProxy(HttpPeer.tls(mtls.address(), "localhost").withOptions(withCert));
        String response = rawGet(serve(proxy, StreamOptions.defaults()), "localhost");
        assertTrue(response.startsWith("HTTP/1.1 200"), response);
    }

    @Test
    void acceptsACertificateForTheAlternativeNameOnly() throws Exception {
        TestOrigin other = origin(TestOrigin.builder().name("other").tls(TestCertificates.server("other.internal")));
        PeerOptions strict = PeerOptions.builder().trustedCertificates(List.of(TestCertificates.caCertificate())).build();

        ListProxy mismatched = new ListProxy(HttpPeer.tls(other.address(), "backend.example").withOptions(strict));
        assertTrue(rawGetRefused(serve(mismatched, StreamOptions.builder().maxAttempts(1).build())).isEmpty());
        StreamSummary failed = mismatched.awaitSummary();
        assertEquals(StreamSummary.End.CONNECT_FAILED, failed.end());
        assertEquals(dev.relay.core.ErrorType.INVALID_CERT, failed.error().type(), failed.error().toString());

        ListProxy alternative = new ListProxy(HttpPeer.tls(other.address(), "backend.example")
                .withOptions(strict.toBuilder().alternativeName("other.internal").build()));
        String response = rawGet(serve(alternative, StreamOptions.defaults()), "x");
        assertTrue(response.startsWith("HTTP/1.1 200"), response);
        assertEquals("backend.example", other.requests().get(0).sniHostName(), "the SNI stays the peer's");

        ListProxy wrongAlternative = new ListProxy(HttpPeer.tls(other.address(), "backend.example")
                .withOptions(strict.toBuilder().alternativeName("third.internal").build()));
        assertTrue(rawGetRefused(serve(wrongAlternative, StreamOptions.builder().maxAttempts(1).build())).isEmpty());
        assertEquals(StreamSummary.End.CONNECT_FAILED, wrongAlternative.awaitSummary().end());
    }

    @Test
    void gracefulStopLetsARelayFinishThenClosesTheRest() throws Exception {
        int echo = backend(StreamProxyServerTest::echo);
        ListProxy proxy = new ListProxy(HttpPeer.plain("127.0.0.1:" + echo));
        StreamProxyServer server = StreamProxyServer.create(proxy, StreamOptions.defaults(), runtime);
        resources.add(server);
        InetSocketAddress address = server.bind("127.0.0.1:0");
        try (Socket client = connect(address)) {
            client.getOutputStream().write(1);
            assertEquals(1, client.getInputStream().read());
            CompletableFuture<Void> stopped = server.stop(Duration.ofMillis(300)).toCompletableFuture();
            client.getOutputStream().write(2);
            assertEquals(2, client.getInputStream().read(), "the relay still runs in the grace period");
            stopped.get(10, TimeUnit.SECONDS);
            assertEquals(-1, client.getInputStream().read(), "closed when the grace period ended");
        }
        assertEquals(StreamSummary.End.SHUTDOWN, proxy.awaitSummary().end());
        assertEquals(0, server.openConnections());
    }
}
