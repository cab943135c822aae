package dev.relay.transport;

import dev.relay.core.ClientCertificate;
import dev.relay.core.HttpPeer;
import dev.relay.core.Session;
import dev.relay.core.TlsInfo;
import dev.relay.testing.ExternalTool;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.TestOrigin;
import io.netty.handler.ssl.OpenSsl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Under {@code client-auth = optional}, a client certificate that failed verification must still
 * show as failed when the client resumes its TLS session: the resumed handshake checks no
 * certificate, so the verdict must not come from the check alone (openssl s_client, TLS 1.2 and 1.3).
 */
@Timeout(60)
class TlsClientVerifyResumptionTest {
    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private TestOrigin origin;
    private ProxyFixture fixture;
    private final BlockingQueue<Optional<TlsInfo>> seen = new LinkedBlockingQueue<>();

    @BeforeEach
    void start() {
        origin = TestOrigin.builder().name("resumption-origin").build().start();
        fixture = new ProxyFixture(new ProxyFixture.SimpleProxy(session -> HttpPeer.plain(origin.address())) {
            @Override
            public CompletionStage<Boolean> requestFilter(Session session, Object ctx) {
                seen.add(Optional.ofNullable(session.downstreamTls()));
                return CompletableFuture.completedFuture(false);
            }
        });
    }

    @AfterEach
    void stop() {
        fixture.close();
        origin.close();
    }

    private TlsInfo nextTls() throws InterruptedException {
        Optional<TlsInfo> next = seen.poll(5, TimeUnit.SECONDS);
        assertNotNull(next, "no request reached requestFilter within 5 s");
        return next.orElseThrow(() -> new AssertionError("the session had no TLS info"));
    }

    private static ExternalTool.Result sClient(InetSocketAddress at, String... extra) throws Exception {
        List<String> args = ExternalTool.args("openssl", "s_client", "-connect", "127.0.0.1:" + at.getPort(),
                "-ign_eof", "-CAfile", TestCertificates.caCertificatePem().toString(), "-servername", "mtls.test");
        args.addAll(List.of(extra));
        return ExternalTool.runWithInput(TOOL_TIMEOUT,
                "GET / HTTP/1.1\r\nHost: mtls.test\r\nConnection: close\r\n\r\n", args.toArray(new String[0]));
    }

    @Test
    void aResumedSessionKeepsTheFailedVerdictOfItsUntrustedCertificate() throws Exception {
        TestCertificates.Server server = TestCertificates.server("mtls.test");
        InetSocketAddress at = fixture.server.bind("127.0.0.1:0", ListenerOptions.builder().tls(TlsSettings.builder()
                .certificate(server.certificateChainPem(), server.privateKeyPem())
                .clientAuth(TlsSettings.ClientAuth.OPTIONAL)
                .clientCa(TestCertificates.caCertificatePem())
                .forwardClientCertificate(true)
                .build()).build());
        TestCertificates.Client mallory = TestCertificates.untrustedClient("mallory.test");
        for (String version : List.of("-tls1_2", "-tls1_3")) {
            Path session = dir.resolve("session" + version + ".pem");
            ExternalTool.Result first = sClient(at, version, "-sess_out", session.toString(),
                    "-cert", mallory.certificatePem().toString(), "-key", mallory.privateKeyPem().toString());
            assertTrue(first.stdout().contains("HTTP/1.1 200"), first.stdout());
            assertEquals(ClientCertificate.Verification.FAILED, nextTls().clientVerification(), version);

            ExternalTool.Result second = sClient(at, version, "-sess_in", session.toString());
            assertTrue(second.stdout().contains("HTTP/1.1 200"), second.stdout());
            TlsInfo resumed = nextTls();
            if (!second.stdout().contains("Reused,")) {
                // The JDK's TLS does not resume this session: a new handshake without a certificate.
                assertFalse(OpenSsl.isAvailable(), version + ": BoringSSL did not resume: " + second.stdout());
                assertEquals(ClientCertificate.Verification.NONE, resumed.clientVerification(), version);
                continue;
            }
            assertEquals("FAILED:unable to get local issuer certificate", resumed.clientVerify(), version);
        }
    }
}
