package dev.relay.transport;

import dev.relay.core.ClientCertificate;
import dev.relay.core.HttpPeer;
import dev.relay.core.Session;
import dev.relay.core.TlsInfo;
import dev.relay.testing.ExternalTool;
import dev.relay.testing.OpensslKeys;
import dev.relay.testing.RecordedRequest;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TLS termination bound directly with {@link ListenerOptions.Builder#tls}, against real clients:
 * curl for SNI and mutual TLS, openssl s_client for ALPN, versions and resumption, a raw socket for
 * the handshake timeout.
 */
@Timeout(60)
class TlsListenerTest {
    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private TestOrigin origin;
    private RecordingProxy proxy;
    private ProxyFixture fixture;

    /** Forwards to the origin and keeps what {@code requestFilter} saw of the connection's TLS. */
    static final class RecordingProxy extends ProxyFixture.SimpleProxy {
        final BlockingQueue<java.util.Optional<TlsInfo>> seen = new LinkedBlockingQueue<>();

        RecordingProxy(String upstream) {
            super(session -> HttpPeer.plain(upstream));
        }

        @Override
        public CompletionStage<Boolean> requestFilter(Session session, Object ctx) {
            assertEquals(session.isTls(), session.downstreamTls() != null);
            seen.add(java.util.Optional.ofNullable(session.downstreamTls()));
            return CompletableFuture.completedFuture(false);
        }

        TlsInfo nextTls() throws InterruptedException {
            java.util.Optional<TlsInfo> next = seen.poll(5, TimeUnit.SECONDS);
            assertNotNull(next, "no request reached requestFilter within 5 s");
            return next.orElseThrow(() -> new AssertionError("the session had no TLS info"));
        }
    }

    @BeforeEach
    void start() {
        origin = TestOrigin.builder().name("tls-origin").build().start();
        proxy = new RecordingProxy(origin.address());
        fixture = new ProxyFixture(proxy);
    }

    @AfterEach
    void stop() {
        fixture.close();
        origin.close();
    }

    private InetSocketAddress bindTls(TlsSettings settings) {
        return fixture.server.bind("127.0.0.1:0", ListenerOptions.builder().tls(settings).build());
    }

    private static TlsSettings.Builder certificates(TestCertificates.Server... servers) {
        TlsSettings.Builder b = TlsSettings.builder();
        for (TestCertificates.Server s : servers) {
            b.certificate(s.certificateChainPem(), s.privateKeyPem());
        }
        return b;
    }

    private List<String> curl(InetSocketAddress at, String host, String... extra) {
        Path bundle = dir.resolve("trusted.pem");
        List<String> args = ExternalTool.args("curl", "-sS", "-v", "--max-time", "10",
                "--cacert", (Files.exists(bundle) ? bundle : TestCertificates.caCertificatePem()).toString(),
                "--resolve", host + ":" + at.getPort() + ":127.0.0.1");
        args.addAll(List.of(extra));
        args.add("https://" + host + ":" + at.getPort() + "/");
        return args;
    }

    private static ExternalTool.Result run(List<String> command) throws Exception {
        return ExternalTool.run(TOOL_TIMEOUT, command.toArray(new String[0]));
    }

    private static String servedSubject(ExternalTool.Result curl) {
        for (String line : curl.stderr().split("\n")) {
            if (line.contains("subject:")) {
                return line.substring(line.indexOf("subject:") + 8).trim();
            }
        }
        throw new AssertionError("curl -v printed no subject: " + curl.stderr());
    }

    @Test
    void sniPicksTheMatchingCertificateTheWildcardAndTheFirstByDefault() throws Exception {
        TestCertificates.Server a = TestCertificates.server("a.test");
        TestCertificates.Server b = TestCertificates.rsaServer("b.test");
        // The test PKI cannot issue wildcards: a self-signed one from openssl, trusted next to the test CA.
        OpensslKeys.Pair wild = OpensslKeys.selfSigned(dir, "*.wild.test", OpensslKeys.Kind.EC_SEC1);
        Path trusted = dir.resolve("trusted.pem");
        Files.writeString(trusted, Files.readString(TestCertificates.caCertificatePem()) + Files.readString(wild.chain()));
        InetSocketAddress at = bindTls(certificates(a, b).certificate(wild.chain(), wild.key()).build());

        ExternalTool.Result toA = run(curl(at, "a.test"));
        assertEquals(0, toA.exitCode(), toA.stderr());
        assertTrue(servedSubject(toA).contains("CN=a.test"), toA.stderr());
        assertEquals("a.test", proxy.nextTls().serverName());

        ExternalTool.Result toB = run(curl(at, "b.test"));
        assertEquals(0, toB.exitCode(), toB.stderr());
        assertTrue(servedSubject(toB).contains("CN=b.test"), toB.stderr());
        proxy.nextTls();

        ExternalTool.Result toWild = run(curl(at, "x.wild.test"));
        assertEquals(0, toWild.exitCode(), toWild.stderr());
        assertTrue(servedSubject(toWild).contains("CN=*.wild.test"), toWild.stderr());
        proxy.nextTls();

        // Two labels below the wildcard match nothing: the default (first) certificate, which curl refuses.
        ExternalTool.Result deep = run(curl(at, "y.x.wild.test"));
        assertNotEquals(0, deep.exitCode());
        assertTrue(servedSubject(deep).contains("CN=a.test"), deep.stderr());

        ExternalTool.Result unknown = run(curl(at, "other.test", "-k"));
        assertEquals(0, unknown.exitCode(), unknown.stderr());
        assertTrue(servedSubject(unknown).contains("CN=a.test"), unknown.stderr());
        assertEquals("other.test", proxy.nextTls().serverName());

        // No SNI at all (an IP address): the default.
        ExternalTool.Result noSni = sClientRequest(sClient(at, "-noservername"));
        assertTrue(noSni.stdout().contains("CN = a.test"), noSni.stdout());
        assertTrue(fixture.server.tlsHandshakesCompleted() >= 4);
    }

    @Test
    void aCertificateSelectorMayPickTheCertificateAsynchronously() throws Exception {
        TestCertificates.Server fallback = TestCertificates.server("a.test");
        TestCertificates.Server picked = TestCertificates.rsaServer("tenant.test");
        TlsCertificate tenant = TlsCertificate.of(picked.privateKey(), picked.certificateChain());
        InetSocketAddress at = bindTls(certificates(fallback)
                .certificateSelector(sni -> "tenant.test".equals(sni)
                        ? CompletableFuture.supplyAsync(() -> tenant, CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS))
                        : CompletableFuture.completedFuture(null))
                .build());

        ExternalTool.Result toTenant = run(curl(at, "tenant.test"));
        assertEquals(0, toTenant.exitCode(), toTenant.stderr());
        assertTrue(servedSubject(toTenant).contains("CN=tenant.test"), toTenant.stderr());
        ExternalTool.Result other = run(curl(at, "a.test"));
        assertEquals(0, other.exitCode(), other.stderr());
        assertTrue(servedSubject(other).contains("CN=a.test"), other.stderr());
    }

    @Test
    void optionalClientAuthReportsVerifiedFailedAndNoneAndForwardsHeadersWithoutTheSpoofedOnes() throws Exception {
        TestCertificates.Server server = TestCertificates.server("mtls.test");
        InetSocketAddress at = bindTls(certificates(server)
                .clientAuth(TlsSettings.ClientAuth.OPTIONAL)
                .clientCa(TestCertificates.caCertificatePem())
                .forwardClientCertificate(true)
                .build());
        TestCertificates.Client alice = TestCertificates.client("alice.test");

        ExternalTool.Result good = run(curl(at, "mtls.test", "--cert", alice.certificatePem().toString(),
                "--key", alice.privateKeyPem().toString(), "-H", "X-Client-Cert-Verify: SUCCESS-forged",
                // Some origin frameworks read '_' as '-' (CGI-style): a look-alike is spoofing too.
                "-H", "x_client_cert_subject: CN=forged"));
        assertEquals(0, good.exitCode(), good.stderr());
        TlsInfo verified = proxy.nextTls();
        ClientCertificate cert = verified.clientCertificate();
        assertNotNull(cert);
        assertEquals(ClientCertificate.Verification.VERIFIED, cert.verification());
        assertTrue(cert.subject().contains("CN=alice.test"), cert.subject());
        assertEquals(List.of("DNS:alice.test"), cert.subjectAlternativeNames());
        assertEquals(64, cert.sha256Fingerprint().length());
        RecordedRequest forwarded = origin.awaitRequests(1, Duration.ofSeconds(5)).get(0);
        assertEquals("SUCCESS", forwarded.header("X-Client-Cert-Verify"));
        assertEquals(cert.subject(), forwarded.header("X-Client-Cert-Subject"));
        assertEquals(cert.sha256Fingerprint(), forwarded.header("X-Client-Cert-Fingerprint"));
        assertEquals("DNS:alice.test", forwarded.header("X-Client-Cert-SAN"));
        assertEquals(null, forwarded.header("x_client_cert_subject"), "the look-alike is removed");

        TestCertificates.Client mallory = TestCertificates.untrustedClient("mallory.test");
        ExternalTool.Result bad = run(curl(at, "mtls.test", "--cert", mallory.certificatePem().toString(),
                "--key", mallory.privateKeyPem().toString()));
        assertEquals(0, bad.exitCode(), bad.stderr());
        TlsInfo failed = proxy.nextTls();
        assertEquals(ClientCertificate.Verification.FAILED, failed.clientVerification());
        assertEquals("FAILED:unable to get local issuer certificate", failed.clientVerify());
        assertEquals("FAILED:unable to get local issuer certificate",
                origin.awaitRequests(2, Duration.ofSeconds(5)).get(1).header("X-Client-Cert-Verify"));

        ExternalTool.Result none = run(curl(at, "mtls.test", "-H", "X-Client-Cert-Subject: CN=forged"));
        assertEquals(0, none.exitCode(), none.stderr());
        assertEquals(ClientCertificate.Verification.NONE, proxy.nextTls().clientVerification());
        RecordedRequest anonymous = origin.awaitRequests(3, Duration.ofSeconds(5)).get(2);
        assertEquals("NONE", anonymous.header("X-Client-Cert-Verify"));
        assertNull(anonymous.header("X-Client-Cert-Subject"));
    }

    @Test
    void requiredClientAuthRefusesAMissingOrUntrustedCertificate() throws Exception {
        TestCertificates.Server server = TestCertificates.server("mtls.test");
        InetSocketAddress at = bindTls(certificates(server)
                .clientAuth(TlsSettings.ClientAuth.REQUIRE)
                .clientCa(TestCertificates.caCertificatePem())
                .build());
        TestCertificates.Client alice = TestCertificates.client("alice.test");
        TestCertificates.Client mallory = TestCertificates.untrustedClient("mallory.test");

        assertNotEquals(0, run(curl(at, "mtls.test")).exitCode());
        assertNotEquals(0, run(curl(at, "mtls.test", "--cert", mallory.certificatePem().toString(),
                "--key", mallory.privateKeyPem().toString())).exitCode());
        ExternalTool.Result good = run(curl(at, "mtls.test", "--cert", alice.certificatePem().toString(),
                "--key", alice.privateKeyPem().toString()));
        assertEquals(0, good.exitCode(), good.stderr());
        assertTrue(proxy.nextTls().clientCertificate().isVerified());
        assertTrue(fixture.server.tlsHandshakesFailed() >= 2);
    }

    private static List<String> sClient(InetSocketAddress at, String... extra) {
        List<String> args = ExternalTool.args("openssl", "s_client", "-connect", "127.0.0.1:" + at.getPort(),
                "-ign_eof", "-CAfile", TestCertificates.caCertificatePem().toString());
        if (!List.of(extra).contains("-noservername")) {
            args.addAll(List.of("-servername", "a.test"));
        }
        args.addAll(List.of(extra));
        return args;
    }

    private static ExternalTool.Result sClientRequest(List<String> command) throws Exception {
        // A request with Connection: close makes s_client read the answer (and TLS 1.3 tickets) and exit.
        return ExternalTool.runWithInput(TOOL_TIMEOUT, "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n",
                command.toArray(new String[0]));
    }

    @Test
    void alpnNegotiatesHttp11AndTls12And13Work() throws Exception {
        InetSocketAddress at = bindTls(certificates(TestCertificates.server("a.test")).build());

        // h2 is offered too (Http2DownstreamTest speaks it); a client that wants HTTP/1.1 gets it.
        ExternalTool.Result alpn = sClientRequest(sClient(at, "-alpn", "http/1.1", "-tls1_3"));
        assertTrue(alpn.stdout().contains("ALPN protocol: http/1.1"), alpn.stdout());
        assertTrue(alpn.stdout().contains("HTTP/1.1 200"), alpn.stdout());
        TlsInfo info = proxy.nextTls();
        assertEquals("http/1.1", info.alpn());
        assertEquals("TLSv1.3", info.protocol());

        InetSocketAddress http1Only = fixture.server.bind("127.0.0.1:0", ListenerOptions.builder()
                .tls(certificates(TestCertificates.server("a.test")).build()).http2(false).build());
        ExternalTool.Result noH2 = sClientRequest(sClient(http1Only, "-alpn", "h2,http/1.1", "-tls1_3"));
        assertTrue(noH2.stdout().contains("ALPN protocol: http/1.1"), "http2 = false offers no h2: " + noH2.stdout());
        assertTrue(noH2.stdout().contains("HTTP/1.1 200"), noH2.stdout());
        assertEquals("http/1.1", proxy.nextTls().alpn());

        ExternalTool.Result tls12 = sClientRequest(sClient(at, "-tls1_2"));
        assertTrue(tls12.stdout().contains("HTTP/1.1 200"), tls12.stdout());
        TlsInfo info12 = proxy.nextTls();
        assertEquals("TLSv1.2", info12.protocol());
        assertTrue(info12.cipherSuite().contains("ECDHE") && info12.cipherSuite().contains("GCM"), info12.cipherSuite());
        assertNull(info12.alpn());
    }

    @Test
    void minVersionTls13RefusesTls12() throws Exception {
        InetSocketAddress at = bindTls(certificates(TestCertificates.server("a.test"))
                .minVersion(TlsSettings.Version.TLS_1_3).build());

        ExternalTool.Result tls12 = sClientRequest(sClient(at, "-tls1_2"));
        assertNotEquals(0, tls12.exitCode());
        assertFalse(tls12.stdout().contains("HTTP/1.1 200"), tls12.stdout());
        ExternalTool.Result tls13 = sClientRequest(sClient(at, "-tls1_3"));
        assertTrue(tls13.stdout().contains("HTTP/1.1 200"), tls13.stdout());
    }

    @Test
    void aSessionTicketResumesTheSession() throws Exception {
        InetSocketAddress at = bindTls(certificates(TestCertificates.server("a.test")).build());
        Path session = dir.resolve("session.pem");
        for (String version : List.of("-tls1_2", "-tls1_3")) {
            ExternalTool.Result first = sClientRequest(sClient(at, version, "-sess_out", session.toString()));
            assertTrue(first.stdout().contains("HTTP/1.1 200"), first.stdout());
            ExternalTool.Result second = sClientRequest(sClient(at, version, "-sess_in", session.toString()));
            assertTrue(second.stdout().contains("Reused,"), version + ": " + second.stdout());
        }
    }

    @Test
    void aClientThatNeverCompletesTheHandshakeIsClosedAtTheTimeout() throws Exception {
        InetSocketAddress at = bindTls(certificates(TestCertificates.server("a.test"))
                .handshakeTimeout(Duration.ofMillis(300)).build());
        try (Socket silent = new Socket(at.getAddress(), at.getPort())) {
            silent.setSoTimeout(10_000);
            InputStream in = silent.getInputStream();
            // Silent: the proxy closes (end of stream), well before the 10 s read timeout.
            assertEquals(-1, in.read());
        }
        try (Socket halfHello = new Socket(at.getAddress(), at.getPort())) {
            halfHello.setSoTimeout(10_000);
            // The first bytes of a TLS record, then nothing.
            halfHello.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01});
            byte[] rest = halfHello.getInputStream().readAllBytes();
            assertTrue(rest.length < 64, "expected a close or an alert, got " + rest.length + " bytes");
        }
        assertTrue(fixture.server.tlsHandshakesFailed() >= 2);
    }

    @Test
    void plainHttpToATlsPortIsClosedWithoutAnAnswer() throws Exception {
        InetSocketAddress at = bindTls(certificates(TestCertificates.server("a.test")).build());
        try (Socket plain = new Socket(at.getAddress(), at.getPort())) {
            plain.setSoTimeout(10_000);
            plain.getOutputStream().write("GET / HTTP/1.1\r\nHost: a\r\n\r\n".getBytes());
            byte[] answer = plain.getInputStream().readAllBytes();
            assertFalse(new String(answer).contains("HTTP/1.1"), new String(answer));
        }
    }

    @Test
    void aCertificateReplacedOnDiskServesNewHandshakesAndABrokenOneKeepsTheOld() throws Exception {
        TestCertificates.Server first = TestCertificates.server("reload.test", "first.reload.test");
        TestCertificates.Server second = TestCertificates.server("reload.test", "second.reload.test");
        Path chain = dir.resolve("site.pem");
        Path key = dir.resolve("site.key");
        Files.copy(first.certificateChainPem(), chain);
        Files.copy(first.privateKeyPem(), key);
        InetSocketAddress at = bindTls(TlsSettings.builder().certificate(chain, key)
                .certificateCheckInterval(Duration.ofMillis(100)).build());
        assertTrue(servedSubject(run(curl(at, "reload.test"))).contains("first.reload.test")
                || run(curl(at, "reload.test")).exitCode() == 0);

        // A keep-alive connection opened before the change.
        try (javax.net.ssl.SSLSocket open = openTls(at, "reload.test")) {
            assertEquals(200, get(open));

            // A broken chain (no certificate) is refused; the old pair stays.
            replace(chain, "not a certificate\n");
            Thread.sleep(500);
            assertEquals(first.certificate(), servedCertificate(at));

            // The new pair, each file swapped by an atomic rename.
            replace(key, Files.readString(second.privateKeyPem()));
            replace(chain, Files.readString(second.certificateChainPem()));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!servedCertificate(at).equals(second.certificate())) {
                assertTrue(System.nanoTime() < deadline, "the new certificate was not served within 10 s");
                Thread.sleep(100);
            }
            assertEquals(200, get(open));
        }
    }

    private void replace(Path target, String content) throws Exception {
        Path tmp = Files.createTempFile(dir, "swap", ".tmp");
        Files.writeString(tmp, content);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static javax.net.ssl.SSLSocket openTls(InetSocketAddress at, String sni) throws Exception {
        javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) TestCertificates.clientSslContext().getSocketFactory()
                .createSocket(at.getAddress(), at.getPort());
        javax.net.ssl.SSLParameters params = socket.getSSLParameters();
        params.setServerNames(List.of(new javax.net.ssl.SNIHostName(sni)));
        socket.setSSLParameters(params);
        socket.setSoTimeout(10_000);
        socket.startHandshake();
        return socket;
    }

    private static java.security.cert.Certificate servedCertificate(InetSocketAddress at) throws Exception {
        try (javax.net.ssl.SSLSocket s = openTls(at, "reload.test")) {
            return s.getSession().getPeerCertificates()[0];
        }
    }

    /** GET / on a kept-alive connection; the status. */
    private static int get(javax.net.ssl.SSLSocket socket) throws Exception {
        socket.getOutputStream().write("GET /small HTTP/1.1\r\nHost: reload.test\r\n\r\n".getBytes());
        dev.relay.testing.RawHttpConnection.Response r = null;
        InputStream in = socket.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            assertNotEquals(-1, c, "connection closed: " + head);
            head.append((char) c);
        }
        String h = head.toString();
        int length = 0;
        for (String line : h.split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        in.readNBytes(length);
        return Integer.parseInt(h.substring(9, 12));
    }
}
