package dev.relay.transport;

import dev.relay.core.HttpPeer;
import dev.relay.core.StreamProxy;
import dev.relay.core.StreamSession;
import dev.relay.core.StreamSummary;
import dev.relay.core.TlsInfo;
import dev.relay.testing.ExternalTool;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SNIHostName;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TLS termination on stream listeners ({@link StreamProxyServer#bind(String, TlsSettings)}) with real
 * clients: openssl s_client (no ALPN, certificate chosen by SNI) and the JDK's {@link SSLSocket}
 * (echo through the relay, bytes and a close_notify sent before the upstream is connected, mutual
 * TLS, a certificate replaced while the listener stays bound).
 */
@Timeout(60)
class StreamTlsTest {
    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(20);
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

    /**
     * Sends every connection to one backend once {@link #peerGate} completes (at once by default), and
     * records what each connection's session said about its TLS and how it ended.
     */
    static final class TlsRecordingProxy implements StreamProxy<Void> {
        final String backend;
        volatile CompletableFuture<Void> peerGate = CompletableFuture.completedFuture(null);
        final LinkedBlockingQueue<java.util.Optional<TlsInfo>> tls = new LinkedBlockingQueue<>();
        final LinkedBlockingQueue<StreamSummary> summaries = new LinkedBlockingQueue<>();

        TlsRecordingProxy(String backend) {
            this.backend = backend;
        }

        @Override
        public Void newCtx() {
            return null;
        }

        @Override
        public CompletionStage<HttpPeer> upstreamPeer(StreamSession session, Void ctx) {
            tls.add(java.util.Optional.ofNullable(session.downstreamTls()));
            return peerGate.thenApply(v -> HttpPeer.plain(backend));
        }

        @Override
        public void streamDone(StreamSession session, StreamSummary summary, Void ctx) {
            summaries.add(summary);
        }

        TlsInfo nextTls() throws InterruptedException {
            java.util.Optional<TlsInfo> next = tls.poll(10, TimeUnit.SECONDS);
            assertNotNull(next, "upstreamPeer ran within 10 s");
            return next.orElseThrow(() -> new AssertionError("the session had no TLS info"));
        }

        StreamSummary nextSummary() throws InterruptedException {
            StreamSummary s = summaries.poll(10, TimeUnit.SECONDS);
            assertNotNull(s, "streamDone within 10 s");
            return s;
        }
    }

    private StreamProxyServer server(StreamProxy<?> proxy) {
        StreamProxyServer server = StreamProxyServer.create(proxy, StreamOptions.defaults(), runtime);
        resources.add(server);
        return server;
    }

    private static TlsSettings.Builder certificates(TestCertificates.Server... servers) {
        TlsSettings.Builder b = TlsSettings.builder();
        for (TestCertificates.Server s : servers) {
            b.certificate(s.certificateChainPem(), s.privateKeyPem());
        }
        return b;
    }

    /** A JDK backend that runs {@code handler} for each connection on its own thread. */
    private String backend(SocketHandler handler) throws IOException {
        ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        resources.add(server);
        Thread acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Thread t = new Thread(() -> {
                        try (s) {
                            handler.handle(s);
                        } catch (IOException ignored) {
                            // The test's assertions say what a failure means.
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
        return "127.0.0.1:" + server.getLocalPort();
    }

    interface SocketHandler {
        void handle(Socket socket) throws IOException;
    }

    private static SSLSocket tlsClient(InetSocketAddress at, String serverName, SSLContext context) throws IOException {
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket();
        socket.connect(at, 5000);
        socket.setSoTimeout(10_000);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setServerNames(List.of(new SNIHostName(serverName)));
        socket.setSSLParameters(parameters);
        return socket;
    }

    /** A client context trusting the test CA and presenting {@code client}'s certificate. */
    private static SSLContext clientContextWith(TestCertificates.Client client) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("client", client.privateKey(), new char[0], client.certificateChain().toArray(new X509Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, new char[0]);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), TestCertificates.trustManagerFactory().getTrustManagers(), null);
        return context;
    }

    private static List<String> sClient(InetSocketAddress at, String... extra) {
        List<String> args = ExternalTool.args("openssl", "s_client", "-connect", "127.0.0.1:" + at.getPort(),
                "-ign_eof", "-CAfile", TestCertificates.caCertificatePem().toString());
        args.addAll(List.of(extra));
        return args;
    }

    @Test
    void opensslGetsNoAlpnAndTheCertificateOfItsSniNameAndReachesTheOrigin() throws Exception {
        TestOrigin origin = TestOrigin.builder().name("behind-tls").build().start();
        resources.add(origin);
        TlsRecordingProxy proxy = new TlsRecordingProxy(origin.address());
        StreamProxyServer server = server(proxy);
        InetSocketAddress at = server.bind("127.0.0.1:0", certificates(TestCertificates.server("a.test"),
                TestCertificates.server("b.test")).build());

        ExternalTool.Result result = ExternalTool.runWithInput(TOOL_TIMEOUT,
                "GET / HTTP/1.1\r\nHost: b.test\r\nConnection: close\r\n\r\n",
                sClient(at, "-servername", "b.test", "-alpn", "h2,http/1.1").toArray(new String[0]));

        assertTrue(result.stdout().contains("No ALPN negotiated"), result.stdout());
        assertTrue(result.stdout().contains("CN=b.test") || result.stdout().contains("CN = b.test"), result.stdout());
        assertTrue(result.stdout().contains("Verify return code: 0 (ok)"), result.stdout());
        assertTrue(result.stdout().contains("HTTP/1.1 200"), result.stdout());
        assertTrue(result.stdout().contains("origin behind-tls"), result.stdout());
        TlsInfo info = proxy.nextTls();
        assertEquals("b.test", info.serverName());
        assertNull(info.alpn());
        assertNull(info.clientCertificate());
        assertEquals(StreamSummary.End.COMPLETED, proxy.nextSummary().end());
        TlsHandshakeCount count = server.tlsHandshakes().get(at);
        assertEquals(1, count.completed());
        assertEquals(0, count.failed());
    }

    @Test
    void bytesSentRightAfterTheHandshakeWaitForTheUpstream() throws Exception {
        String echo = backend(s -> s.getInputStream().transferTo(s.getOutputStream()));
        TlsRecordingProxy proxy = new TlsRecordingProxy(echo);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        proxy.peerGate = gate;
        InetSocketAddress at = server(proxy).bind("127.0.0.1:0", certificates(TestCertificates.server("db.test")).build());

        try (SSLSocket client = tlsClient(at, "db.test", TestCertificates.clientSslContext())) {
            client.startHandshake();
            client.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
            client.getOutputStream().flush();
            assertEquals("db.test", proxy.nextTls().serverName());
            // Only now is there an upstream: what came before waited in the proxy.
            gate.complete(null);
            assertEquals("ping", new String(client.getInputStream().readNBytes(4), StandardCharsets.US_ASCII));
        }
        StreamSummary summary = proxy.nextSummary();
        assertEquals(StreamSummary.End.COMPLETED, summary.end());
        assertEquals(4, summary.bytesFromClient());
        assertEquals(4, summary.bytesToClient());
    }

    @Test
    void aCloseNotifyBeforeTheUpstreamIsConnectedReachesTheUpstreamAsEndOfInput() throws Exception {
        LinkedBlockingQueue<String> received = new LinkedBlockingQueue<>();
        String backend = backend(s -> received.add(new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)));
        TlsRecordingProxy proxy = new TlsRecordingProxy(backend);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        proxy.peerGate = gate;
        InetSocketAddress at = server(proxy).bind("127.0.0.1:0", certificates(TestCertificates.server("db.test")).build());

        try (SSLSocket client = tlsClient(at, "db.test", TestCertificates.clientSslContext())) {
            client.setEnabledProtocols(new String[] {"TLSv1.3"});
            client.startHandshake();
            client.getOutputStream().write("last words".getBytes(StandardCharsets.US_ASCII));
            client.getOutputStream().flush();
            // TLS 1.3 half-close: a close_notify, and the socket stays open.
            client.shutdownOutput();
            proxy.nextTls();
            gate.complete(null);
            // The backend returns from readAllBytes only when the end of input was relayed.
            assertEquals("last words", received.poll(10, TimeUnit.SECONDS));
        }
        assertEquals(10, proxy.nextSummary().bytesFromClient());
    }

    @Test
    void requiredClientCertificateRefusesAClientWithoutOneAndRelaysForAClientWithOne() throws Exception {
        String echo = backend(s -> s.getInputStream().transferTo(s.getOutputStream()));
        TlsRecordingProxy proxy = new TlsRecordingProxy(echo);
        StreamProxyServer server = server(proxy);
        InetSocketAddress at = server.bind("127.0.0.1:0", certificates(TestCertificates.server("db.test"))
                .clientAuth(TlsSettings.ClientAuth.REQUIRE)
                .clientCa(List.of(TestCertificates.caCertificate()))
                .build());

        try (SSLSocket anonymous = tlsClient(at, "db.test", TestCertificates.clientSslContext())) {
            // TLS 1.3: the client's handshake ends before the server has judged its (missing)
            // certificate; the refusal arrives as an alert on the next read.
            assertThrows(IOException.class, () -> {
                anonymous.startHandshake();
                anonymous.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
                anonymous.getOutputStream().flush();
                if (anonymous.getInputStream().read() == -1) {
                    throw new SocketException("closed without an alert");
                }
            });
        }

        TestCertificates.Client alice = TestCertificates.client("alice.test");
        try (SSLSocket client = tlsClient(at, "db.test", clientContextWith(alice))) {
            client.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
            client.getOutputStream().flush();
            assertEquals("ping", new String(client.getInputStream().readNBytes(4), StandardCharsets.US_ASCII));
        }
        TlsInfo info = proxy.nextTls();
        assertNotNull(info.clientCertificate());
        assertTrue(info.clientCertificate().isVerified());
        assertTrue(info.clientCertificate().subject().contains("alice.test"), info.clientCertificate().subject());
        assertTrue(proxy.tls.isEmpty(), "the refused client never reached upstreamPeer");
        assertEquals(StreamSummary.End.COMPLETED, proxy.nextSummary().end());
        assertNull(proxy.summaries.poll(200, TimeUnit.MILLISECONDS), "no streamDone for the refused handshake");
        TlsHandshakeCount count = server.tlsHandshakes().get(at);
        assertEquals(1, count.completed());
        assertEquals(1, count.failed());
    }

    @Test
    void updateTlsGivesNewConnectionsTheNewCertificateWhileTheListenerStaysBound() throws Exception {
        String echo = backend(s -> s.getInputStream().transferTo(s.getOutputStream()));
        TlsRecordingProxy proxy = new TlsRecordingProxy(echo);
        StreamProxyServer server = server(proxy);
        InetSocketAddress at = server.bind("127.0.0.1:0", certificates(TestCertificates.server("old.test")).build());

        assertTrue(server.updateTls(at, certificates(TestCertificates.server("new.test")).build()));

        try (SSLSocket client = tlsClient(at, "new.test", TestCertificates.clientSslContext())) {
            client.startHandshake();
            X509Certificate served = (X509Certificate) client.getSession().getPeerCertificates()[0];
            assertTrue(served.getSubjectX500Principal().getName().contains("new.test"), served.toString());
        }
        assertTrue(server.updateTls(at, null), "TLS can be turned off");
        try (Socket plain = new Socket()) {
            plain.connect(at, 5000);
            plain.setSoTimeout(10_000);
            plain.getOutputStream().write("plain".getBytes(StandardCharsets.US_ASCII));
            assertEquals("plain", new String(plain.getInputStream().readNBytes(5), StandardCharsets.US_ASCII));
        }
        assertFalse(server.updateTls(new InetSocketAddress("127.0.0.1", 1), null), "no listener there");
    }

    @Test
    void plainTcpSentToATlsStreamListenerFailsTheHandshakeWithoutAnUpstream() throws Exception {
        TlsRecordingProxy proxy = new TlsRecordingProxy("127.0.0.1:" + TestOrigin.closedPort());
        StreamProxyServer server = server(proxy);
        InetSocketAddress at = server.bind("127.0.0.1:0", certificates(TestCertificates.server("db.test")).build());

        try (Socket plain = new Socket()) {
            plain.connect(at, 5000);
            plain.setSoTimeout(10_000);
            plain.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            try {
                while (plain.getInputStream().read() != -1) {
                    // The alert, if any, then the close.
                }
            } catch (SocketException reset) {
                // A reset is a close too.
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (server.openConnections() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(0, server.openConnections());
        assertEquals(1, server.tlsHandshakes().get(at).failed());
        assertTrue(proxy.tls.isEmpty(), "upstreamPeer never ran");
        assertNull(proxy.summaries.poll(200, TimeUnit.MILLISECONDS), "no context, no streamDone");
    }
}
