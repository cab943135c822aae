package dev.relay.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class HttpPeerTest {
    private static final HttpPeer TLS_PEER = HttpPeer.of("10.0.0.1:443", true, "api.example");

    /** Two self-signed roots ({@code CN=root-a}, {@code CN=root-b}) from the test resources. */
    static X509Certificate root(String name) {
        try (InputStream in = HttpPeerTest.class.getResourceAsStream("root-" + name + ".pem")) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        } catch (IOException | CertificateException e) {
            throw new AssertionError("cannot read root-" + name + ".pem", e);
        }
    }

    private static HttpPeer withOptions(HttpPeer peer, PeerOptions.Builder options) {
        return peer.withOptions(options.build());
    }

    private static void assertSharesConnections(HttpPeer a, HttpPeer b) {
        assertEquals(a.reuseKey(), b.reuseKey());
        assertEquals(a.reuseKey().hashCode(), b.reuseKey().hashCode());
    }

    private static void assertDoesNotShareConnections(HttpPeer a, HttpPeer b) {
        assertNotEquals(a.reuseKey(), b.reuseKey());
        assertNotEquals(a, b);
    }

    // ---- factories and accessors -----------------------------------------------------------------

    @Test
    void ofHostAndPortKeepsAnIpLiteralResolvedAndDefaultsEverythingElse() {
        HttpPeer peer = HttpPeer.of("127.0.0.1:8080", false, "");

        assertFalse(peer.address().isUnresolved());
        assertEquals(8080, peer.address().getPort());
        assertFalse(peer.isTls());
        assertEquals("", peer.sni());
        assertEquals(0, peer.groupKey());
        assertSame(PeerOptions.defaults(), peer.options());
        assertNull(peer.backend());
        assertEquals("127.0.0.1:8080", peer.hostAndPort());
    }

    @Test
    void ofHostAndPortLeavesAHostNameUnresolved() {
        HttpPeer peer = HttpPeer.of("origin.example:80", false, "");

        assertTrue(peer.address().isUnresolved());
        assertEquals("origin.example:80", peer.hostAndPort());
    }

    @Test
    void ofBackendRemembersTheBackendForLoadBalancers() {
        Backend backend = Backend.parse("10.0.0.2:8443").withWeight(3);

        HttpPeer peer = HttpPeer.of(backend, true, "b.example");

        assertSame(backend, peer.backend());
        assertEquals(backend.address(), peer.address());
        assertEquals("10.0.0.2:8443", peer.hostAndPort());
    }

    @Test
    void ofSocketAddressUsesTheAddressAsGiven() {
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", 9000);

        assertEquals(address, HttpPeer.of(address, false, "").address());
    }

    @Test
    void hostAndPortBracketsIpv6() {
        assertEquals("[0:0:0:0:0:0:0:1]:8080", HttpPeer.of("[::1]:8080", false, "").hostAndPort());
    }

    @Test
    void factoriesRejectMissingParts() {
        assertThrows(NullPointerException.class, () -> HttpPeer.of("127.0.0.1:80", true, null));
        assertThrows(NullPointerException.class, () -> HttpPeer.of((InetSocketAddress) null, false, ""));
        assertThrows(NullPointerException.class, () -> TLS_PEER.withOptions(null));
        assertThrows(IllegalArgumentException.class, () -> HttpPeer.of("no-port", false, ""));
    }

    @Test
    void toStringShowsSchemeAddressAndSniOnlyForTls() {
        assertEquals("https://10.0.0.1:443 sni=api.example", TLS_PEER.toString());
        assertEquals("http://10.0.0.1:80", HttpPeer.of("10.0.0.1:80", false, "ignored").toString());
        assertEquals("https://10.0.0.1:443", HttpPeer.of("10.0.0.1:443", true, "").toString());
    }

    @Test
    void copiesChangeOnlyWhatTheySay() {
        PeerOptions options = PeerOptions.builder().readTimeout(Duration.ofSeconds(5)).build();

        HttpPeer tuned = TLS_PEER.withOptions(options);
        HttpPeer grouped = TLS_PEER.withGroupKey(7);

        assertSame(options, tuned.options());
        assertEquals(TLS_PEER.address(), tuned.address());
        assertEquals("api.example", tuned.sni());
        assertTrue(tuned.isTls());
        assertEquals(7, grouped.groupKey());
        assertSame(TLS_PEER.options(), grouped.options());
        assertEquals(0, TLS_PEER.groupKey(), "the original is unchanged");
    }

    // ---- equality and the connection-pool key ----------------------------------------------------

    @Test
    void peersBuiltAlikeAreEqualAndShareConnections() {
        HttpPeer a = HttpPeer.of("10.0.0.1:443", true, "api.example");
        HttpPeer b = HttpPeer.of(new InetSocketAddress("10.0.0.1", 443), true, "api.example");

        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertSharesConnections(a, b);
    }

    @Test
    void theSameIpv6AddressWrittenTwoWaysSharesConnections() {
        assertSharesConnections(HttpPeer.of("[::1]:80", false, ""), HttpPeer.of("[0:0:0:0:0:0:0:1]:80", false, ""));
    }

    @Test
    void peersDifferingOnlyInAddressDoNotShareConnections() {
        assertDoesNotShareConnections(TLS_PEER, HttpPeer.of("10.0.0.2:443", true, "api.example"));
        assertDoesNotShareConnections(TLS_PEER, HttpPeer.of("10.0.0.1:8443", true, "api.example"));
    }

    @Test
    void tlsAndPlainPeersDoNotShareConnections() {
        assertDoesNotShareConnections(HttpPeer.of("10.0.0.1:8080", true, ""), HttpPeer.of("10.0.0.1:8080", false, ""));
    }

    @Test
    void peersDifferingOnlyInSniDoNotShareConnections() {
        assertDoesNotShareConnections(TLS_PEER, HttpPeer.of("10.0.0.1:443", true, "www.example"));
        assertDoesNotShareConnections(TLS_PEER, HttpPeer.of("10.0.0.1:443", true, ""));
    }

    @Test
    void peersDifferingOnlyInCertificateVerificationDoNotShareConnections() {
        HttpPeer unverified = withOptions(TLS_PEER, PeerOptions.builder().verifyCert(false));

        assertDoesNotShareConnections(TLS_PEER, unverified);
    }

    @Test
    void peersDifferingOnlyInHostnameVerificationDoNotShareConnections() {
        HttpPeer noHostnameCheck = withOptions(TLS_PEER, PeerOptions.builder().verifyHostname(false));

        assertDoesNotShareConnections(TLS_PEER, noHostnameCheck);
    }

    @Test
    void peersDifferingOnlyInTrustedRootsDoNotShareConnections() {
        HttpPeer trustsA = withOptions(TLS_PEER, PeerOptions.builder().trustedCertificates(List.of(root("a"))));
        HttpPeer trustsB = withOptions(TLS_PEER, PeerOptions.builder().trustedCertificates(List.of(root("b"))));
        HttpPeer trustsAAgain = withOptions(TLS_PEER, PeerOptions.builder().trustedCertificates(List.of(root("a"))));

        assertDoesNotShareConnections(trustsA, trustsB);
        assertDoesNotShareConnections(TLS_PEER, trustsA);
        assertSharesConnections(trustsA, trustsAAgain);
        assertEquals(trustsA, trustsAAgain);
    }

    @Test
    void peersDifferingOnlyInAlpnDoNotShareConnections() {
        assertDoesNotShareConnections(TLS_PEER, withOptions(TLS_PEER, PeerOptions.builder().alpn(Alpn.H2)));
        assertDoesNotShareConnections(withOptions(TLS_PEER, PeerOptions.builder().alpn(Alpn.H2_OR_H1)),
                withOptions(TLS_PEER, PeerOptions.builder().alpn(Alpn.H2)));
    }

    @Test
    void peersInDifferentGroupsDoNotShareConnections() {
        assertDoesNotShareConnections(TLS_PEER, TLS_PEER.withGroupKey(1));
        assertSharesConnections(TLS_PEER.withGroupKey(1), HttpPeer.of("10.0.0.1:443", true, "api.example").withGroupKey(1));
    }

    @Test
    void timeoutsAndPoolLimitsDoNotSeparateConnectionsButDoMakePeersUnequal() {
        HttpPeer tuned = withOptions(TLS_PEER, PeerOptions.builder()
                .connectTimeout(Duration.ofSeconds(1))
                .totalConnectionTimeout(Duration.ofSeconds(2))
                .readTimeout(Duration.ofSeconds(3))
                .writeTimeout(Duration.ofSeconds(4))
                .idleTimeout(Duration.ofSeconds(5))
                .maxIdleConnections(8));

        assertSharesConnections(TLS_PEER, tuned);
        assertNotEquals(TLS_PEER, tuned);
    }

    @Test
    void theBackendAndItsWeightAndMetadataDoNotAffectEqualityOrPooling() {
        Backend plain = Backend.parse("10.0.0.1:443");
        Backend heavy = plain.withWeight(10).withMetadata(Map.of("zone", "b"));

        HttpPeer a = HttpPeer.of(plain, true, "api.example");
        HttpPeer b = HttpPeer.of(heavy, true, "api.example");

        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertSharesConnections(a, b);
        assertEquals(TLS_PEER, a);
    }

    @Test
    void isNotEqualToOtherTypes() {
        assertNotEquals(TLS_PEER, TLS_PEER.reuseKey());
        assertNotEquals(null, TLS_PEER);
    }

    @Test
    void http2SettingsSplitThePoolOnlyForPeersThatSpeakHttp2() {
        HttpPeer h1 = HttpPeer.plain("127.0.0.1:9000");
        HttpPeer h1OtherCap = h1.withOptions(PeerOptions.builder().maxH2Streams(10).h2PingInterval(Duration.ofSeconds(5)).build());
        // HTTP/1.1 connections do not use the HTTP/2 settings: same pool.
        assertEquals(h1.reuseKey(), h1OtherCap.reuseKey());

        HttpPeer h2 = h1.withOptions(PeerOptions.builder().alpn(Alpn.H2).build());
        HttpPeer h2OtherCap = h1.withOptions(PeerOptions.builder().alpn(Alpn.H2).maxH2Streams(10).build());
        HttpPeer h2WithPing = h1.withOptions(PeerOptions.builder().alpn(Alpn.H2).h2PingInterval(Duration.ofSeconds(5)).build());
        assertNotEquals(h1.reuseKey(), h2.reuseKey());
        assertNotEquals(h2.reuseKey(), h2OtherCap.reuseKey());
        assertNotEquals(h2.reuseKey(), h2WithPing.reuseKey());
        assertEquals(100, h2.reuseKey().maxH2Streams());
    }

    @Test
    void http2OptionsAreValidated() {
        assertEquals("maxH2Streams: 0 (expected: >= 1)", assertThrows(IllegalArgumentException.class,
                () -> PeerOptions.builder().maxH2Streams(0)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> PeerOptions.builder().h2PingInterval(Duration.ZERO));
        PeerOptions options = PeerOptions.builder().maxH2Streams(7).h2PingInterval(Duration.ofSeconds(3)).build();
        assertEquals(options, options.toBuilder().build());
        assertNull(PeerOptions.defaults().h2PingInterval());
        assertEquals(100, PeerOptions.defaults().maxH2Streams());
    }
}
