package dev.relay.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class PeerOptionsTest {

    private static void assertRejected(String expectedMessage, Runnable setter) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, setter::run);
        assertEquals(expectedMessage, e.getMessage());
    }

    /** The four timers that must be positive when set. */
    private static final List<String> POSITIVE_TIMERS =
            List.of("connectTimeout", "totalConnectionTimeout", "readTimeout", "writeTimeout");

    private static BiConsumer<PeerOptions.Builder, Duration> timer(String name) {
        return switch (name) {
            case "connectTimeout" -> PeerOptions.Builder::connectTimeout;
            case "totalConnectionTimeout" -> PeerOptions.Builder::totalConnectionTimeout;
            case "readTimeout" -> PeerOptions.Builder::readTimeout;
            case "writeTimeout" -> PeerOptions.Builder::writeTimeout;
            default -> throw new AssertionError(name);
        };
    }

    @Test
    void defaultsFollowPingora() {
        PeerOptions d = PeerOptions.defaults();

        assertNull(d.connectTimeout());
        assertNull(d.totalConnectionTimeout());
        assertNull(d.readTimeout());
        assertNull(d.writeTimeout());
        assertNull(d.idleTimeout());
        assertTrue(d.verifyCert());
        assertTrue(d.verifyHostname());
        assertEquals(Alpn.H1, d.alpn());
        assertFalse(d.tcpKeepAlive());
        assertEquals(List.of(), d.trustedCertificates());
        assertEquals(0, d.maxIdleConnections());
        assertEquals(d, PeerOptions.builder().build());
    }

    @Test
    void rejectsNegativeReadTimeout() {
        assertRejected("readTimeout: PT-1S (expected: > 0, or null for none)",
                () -> PeerOptions.builder().readTimeout(Duration.ofSeconds(-1)));
    }

    @Test
    void rejectsZeroOrNegativeValuesForEveryTimer() {
        for (String name : POSITIVE_TIMERS) {
            assertRejected(name + ": PT0S (expected: > 0, or null for none)",
                    () -> timer(name).accept(PeerOptions.builder(), Duration.ZERO));
            assertRejected(name + ": PT-0.001S (expected: > 0, or null for none)",
                    () -> timer(name).accept(PeerOptions.builder(), Duration.ofMillis(-1)));
        }
    }

    @Test
    void acceptsAPositiveTimerAndNullForNone() {
        PeerOptions.Builder b = PeerOptions.builder();
        for (String name : POSITIVE_TIMERS) {
            timer(name).accept(b, Duration.ofMillis(1));
        }
        PeerOptions set = b.build();
        assertEquals(Duration.ofMillis(1), set.connectTimeout());
        assertEquals(Duration.ofMillis(1), set.totalConnectionTimeout());
        assertEquals(Duration.ofMillis(1), set.readTimeout());
        assertEquals(Duration.ofMillis(1), set.writeTimeout());

        PeerOptions.Builder cleared = set.toBuilder();
        for (String name : POSITIVE_TIMERS) {
            timer(name).accept(cleared, null);
        }
        assertEquals(PeerOptions.defaults(), cleared.build());
    }

    @Test
    void idleTimeoutOfZeroDisablesPoolingAndANegativeOneIsRejected() {
        assertEquals(Duration.ZERO, PeerOptions.builder().idleTimeout(Duration.ZERO).build().idleTimeout());
        assertNull(PeerOptions.builder().idleTimeout(null).build().idleTimeout());
        assertRejected("idleTimeout: PT-1S (expected: >= 0)",
                () -> PeerOptions.builder().idleTimeout(Duration.ofSeconds(-1)));
    }

    @Test
    void rejectsNegativeMaxIdleConnections() {
        assertEquals(0, PeerOptions.builder().maxIdleConnections(0).build().maxIdleConnections());
        assertRejected("maxIdleConnections: -1 (expected: >= 0)",
                () -> PeerOptions.builder().maxIdleConnections(-1));
    }

    @Test
    void rejectsNullAlpnAndNullRoots() {
        assertThrows(NullPointerException.class, () -> PeerOptions.builder().alpn(null));
        assertThrows(NullPointerException.class, () -> PeerOptions.builder().trustedCertificates(null));
    }

    @Test
    void aRejectedValueLeavesTheBuilderAsItWas() {
        PeerOptions.Builder b = PeerOptions.builder().readTimeout(Duration.ofSeconds(2));

        assertThrows(IllegalArgumentException.class, () -> b.readTimeout(Duration.ZERO));

        assertEquals(Duration.ofSeconds(2), b.build().readTimeout());
    }

    @Test
    void trustedCertificatesAreCopied() {
        List<X509Certificate> roots = new ArrayList<>(List.of(HttpPeerTest.root("a")));

        PeerOptions options = PeerOptions.builder().trustedCertificates(roots).build();
        roots.add(HttpPeerTest.root("b"));

        assertEquals(1, options.trustedCertificates().size());
        assertThrows(UnsupportedOperationException.class, () -> options.trustedCertificates().clear());
    }

    @Test
    void hostnameVerificationIsOffWhenCertificatesAreNotVerified() {
        PeerOptions options = PeerOptions.builder().verifyCert(false).verifyHostname(true).build();

        assertFalse(options.verifyCert());
        assertFalse(options.verifyHostname());
        PeerOptions alsoUnchecked = PeerOptions.builder().verifyCert(false).verifyHostname(false).build();
        assertEquals(options, alsoUnchecked);
        assertEquals(options.hashCode(), alsoUnchecked.hashCode());
        assertEquals(options.toString(), alsoUnchecked.toString());
    }

    @Test
    void reenablingCertificateVerificationOnACopyRestoresHostnameVerification() {
        PeerOptions insecure = PeerOptions.builder().verifyCert(false).build();

        PeerOptions secure = insecure.toBuilder().verifyCert(true).build();

        assertTrue(secure.verifyCert());
        assertTrue(secure.verifyHostname(), "the default hostname check must come back");
        assertEquals(PeerOptions.defaults(), secure);
    }

    @Test
    void aHostnameCheckTurnedOffStaysOffWhenCertificateVerificationComesBack() {
        PeerOptions options = PeerOptions.builder().verifyHostname(false).verifyCert(false).build();

        assertFalse(options.toBuilder().verifyCert(true).build().verifyHostname());
    }

    @Test
    void toBuilderCopiesEverySetting() {
        PeerOptions all = PeerOptions.builder()
                .connectTimeout(Duration.ofSeconds(1))
                .totalConnectionTimeout(Duration.ofSeconds(2))
                .readTimeout(Duration.ofSeconds(3))
                .writeTimeout(Duration.ofSeconds(4))
                .idleTimeout(Duration.ofSeconds(5))
                .verifyHostname(false)
                .alpn(Alpn.H2_OR_H1)
                .tcpKeepAlive(true)
                .trustedCertificates(List.of(HttpPeerTest.root("a")))
                .maxIdleConnections(16)
                .build();

        PeerOptions copy = all.toBuilder().build();

        assertEquals(all, copy);
        assertEquals(all.hashCode(), copy.hashCode());
        assertEquals(all.toString(), copy.toString());
    }

    @Test
    void toBuilderDoesNotChangeTheOriginal() {
        PeerOptions original = PeerOptions.builder().readTimeout(Duration.ofSeconds(1)).build();

        PeerOptions changed = original.toBuilder().readTimeout(Duration.ofSeconds(9)).build();

        assertEquals(Duration.ofSeconds(1), original.readTimeout());
        assertEquals(Duration.ofSeconds(9), changed.readTimeout());
    }

    @Test
    void everySettingTakesPartInEquality() {
        PeerOptions base = PeerOptions.defaults();
        List<PeerOptions> variants = List.of(
                PeerOptions.builder().connectTimeout(Duration.ofSeconds(1)).build(),
                PeerOptions.builder().totalConnectionTimeout(Duration.ofSeconds(1)).build(),
                PeerOptions.builder().readTimeout(Duration.ofSeconds(1)).build(),
                PeerOptions.builder().writeTimeout(Duration.ofSeconds(1)).build(),
                PeerOptions.builder().idleTimeout(Duration.ofSeconds(1)).build(),
                PeerOptions.builder().verifyCert(false).build(),
                PeerOptions.builder().verifyHostname(false).build(),
                PeerOptions.builder().alpn(Alpn.H2).build(),
                PeerOptions.builder().tcpKeepAlive(true).build(),
                PeerOptions.builder().trustedCertificates(List.of(HttpPeerTest.root("a"))).build(),
                PeerOptions.builder().maxIdleConnections(1).build());

        for (PeerOptions variant : variants) {
            assertNotEquals(base, variant, variant.toString());
        }
    }

    @Test
    void anAlternativeNameIsPartOfThePoolKeyAndMustBeAHostName() {
        PeerOptions plain = PeerOptions.defaults();
        PeerOptions alternative = plain.toBuilder().alternativeName("other.internal").build();

        assertEquals("other.internal", alternative.alternativeName());
        assertEquals(alternative, alternative.toBuilder().build());
        HttpPeer a = HttpPeer.tls("127.0.0.1:8443", "backend.example");
        org.junit.jupiter.api.Assertions.assertNotEquals(a.withOptions(plain).reuseKey(), a.withOptions(alternative).reuseKey(),
                "a connection verified for one name only is not reused for a peer that accepts two");
        assertRejected("alternativeName: 'a b' (expected: a host name, or null)",
                () -> PeerOptions.builder().alternativeName("a b"));
        assertEquals(null, alternative.toBuilder().alternativeName(null).build().alternativeName());
    }

    @Test
    void aClientCertificateNeedsAChain() throws Exception {
        java.security.PrivateKey key = java.security.KeyPairGenerator.getInstance("EC").generateKeyPair().getPrivate();
        assertRejected("chain: [] (expected: the client certificate first)",
                () -> PeerOptions.builder().clientCertificate(key, List.of()));
        assertEquals(null, PeerOptions.defaults().clientKey());
        assertEquals(List.of(), PeerOptions.defaults().clientCertificateChain());
    }
}
