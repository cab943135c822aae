package dev.relay.transport;

import dev.relay.core.Alpn;
import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.testing.NginxOrigin;
import dev.relay.testing.OpensslKeys;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The proxy's HTTP/2 upstream against a real nginx ({@code listen ... ssl http2} with an openssl
 * certificate, and {@code listen ... http2} in clear text): HTTP/1.1 clients get nginx's files whole,
 * and nginx sees HTTP/2 over TLS (h2 and h2-or-h1) and with prior knowledge.
 */
@Timeout(60)
class NginxH2UpstreamTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    @TempDir
    static Path dir;
    private static NginxOrigin nginx;
    private static X509Certificate certificate;
    private static byte[] file;

    @BeforeAll
    static void startNginx() throws Exception {
        OpensslKeys.Pair pair = OpensslKeys.selfSigned(dir, "localhost", OpensslKeys.Kind.EC_PKCS8);
        try (InputStream in = Files.newInputStream(pair.chain())) {
            certificate = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        nginx = NginxOrigin.start(dir, pair);
        file = new byte[2 * 1024 * 1024 + 3];
        new Random(7).nextBytes(file);
        Files.write(nginx.root().resolve("file.bin"), file);
    }

    @AfterAll
    static void stopNginx() {
        if (nginx != null) {
            nginx.close();
        }
    }

    private PeerOptions options(Alpn alpn) {
        return PeerOptions.builder().alpn(alpn).trustedCertificates(List.of(certificate)).build();
    }

    private static HttpResponse<byte[]> get(ProxyFixture fixture, String path) throws Exception {
        return fixture.client.send(HttpRequest.newBuilder(fixture.uri(path)).timeout(WAIT).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void tlsWithAlpnH2() throws Exception {
        var proxy = new ProxyFixture.SimpleProxy(s -> HttpPeer.tls(nginx.tlsAddress(), "localhost")
                .withOptions(options(Alpn.H2)));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            assertEquals("HTTP/2.0 https\n", new String(get(fixture, "/protocol").body()));
            HttpResponse<byte[]> response = get(fixture, "/file.bin");
            assertEquals(200, response.statusCode());
            assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(file),
                    MessageDigest.getInstance("SHA-256").digest(response.body()));
            assertEquals(1, fixture.server.upstreamH2ConnectionsOpened());
        }
    }

    @Test
    void h2OrH1OverTlsChoosesH2() throws Exception {
        var proxy = new ProxyFixture.SimpleProxy(s -> HttpPeer.tls(nginx.tlsAddress(), "localhost")
                .withOptions(options(Alpn.H2_OR_H1)));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            assertEquals("HTTP/2.0 https\n", new String(get(fixture, "/protocol").body()));
        }
    }

    @Test
    void h2cWithPriorKnowledge() throws Exception {
        var proxy = new ProxyFixture.SimpleProxy(s -> HttpPeer.plain(nginx.h2cAddress()).withOptions(options(Alpn.H2)));
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            assertEquals("HTTP/2.0 http\n", new String(get(fixture, "/protocol").body()));
            assertEquals(file.length, get(fixture, "/file.bin").body().length);
        }
    }
}
