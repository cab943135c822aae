package dev.relay.transport;

import dev.relay.testing.OpensslKeys;
import dev.relay.testing.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PEM certificates and keys as operators have them, read by {@link TlsCertificate}. */
@Timeout(60)
class TlsCertificateTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(value = OpensslKeys.Kind.class, names = {"RSA_PKCS8", "RSA_PKCS1", "EC_PKCS8", "EC_SEC1"})
    void readsEveryUnencryptedKeyEncodingOpensslWrites(OpensslKeys.Kind kind) throws Exception {
        OpensslKeys.Pair pair = OpensslKeys.selfSigned(dir, "site.test", kind);

        TlsCertificate cert = TlsCertificate.fromPemFiles(pair.chain(), pair.key());

        assertEquals(List.of("site.test"), cert.names());
        assertEquals(kind.name().startsWith("RSA") ? "RSA" : "EC", cert.privateKey().getAlgorithm());
    }

    @Test
    void refusesAnEncryptedKeyNamingTheFile() throws Exception {
        OpensslKeys.Pair pair = OpensslKeys.selfSigned(dir, "site.test", OpensslKeys.Kind.EC_ENCRYPTED);

        TlsCertificate.FileException e = assertThrows(TlsCertificate.FileException.class,
                () -> TlsCertificate.fromPemFiles(pair.chain(), pair.key()));
        assertEquals(pair.key(), e.file());
        assertTrue(e.getMessage().startsWith(pair.key() + ": the private key is encrypted"), e.getMessage());
    }

    @Test
    void refusesAKeyOfAnotherCertificateAndAFileWithoutCertificate() throws Exception {
        TestCertificates.Server a = TestCertificates.server("a.test");
        TestCertificates.Server b = TestCertificates.rsaServer("b.test");

        TlsCertificate.FileException mismatch = assertThrows(TlsCertificate.FileException.class,
                () -> TlsCertificate.fromPemFiles(a.certificateChainPem(), b.privateKeyPem()));
        assertEquals(b.privateKeyPem(), mismatch.file());
        assertTrue(mismatch.problem().contains("does not match"), mismatch.problem());

        Path empty = Files.writeString(dir.resolve("empty.pem"), "nothing here\n");
        TlsCertificate.FileException noCert = assertThrows(TlsCertificate.FileException.class,
                () -> TlsCertificate.fromPemFiles(empty, a.privateKeyPem()));
        assertEquals(empty, noCert.file());
        assertTrue(noCert.problem().startsWith("no certificate"), noCert.problem());

        TlsCertificate.FileException missing = assertThrows(TlsCertificate.FileException.class,
                () -> TlsCertificate.fromPemFiles(dir.resolve("gone.pem"), a.privateKeyPem()));
        assertEquals("no such file", missing.problem());
    }

    @Test
    void namesComeFromDnsSansAndWildcardsCoverOneLabel() throws Exception {
        OpensslKeys.Pair wild = OpensslKeys.selfSigned(dir, "*.example.test", OpensslKeys.Kind.EC_PKCS8);
        TlsCertificate cert = TlsCertificate.fromPemFiles(wild.chain(), wild.key());

        assertTrue(cert.matches("a.example.test"));
        assertTrue(cert.matches("A.Example.Test."));
        assertFalse(cert.matches("example.test"));
        assertFalse(cert.matches("a.b.example.test"));
        TlsCertificate server = TlsCertificate.of(TestCertificates.localhost().privateKey(),
                TestCertificates.localhost().certificateChain());
        assertEquals(List.of("localhost"), server.names());
    }

    @Test
    void settingsRejectClientAuthWithoutCaAndForwardingWithoutClientAuth() {
        TestCertificates.Server a = TestCertificates.server("a.test");
        IllegalArgumentException noCa = assertThrows(IllegalArgumentException.class, () -> TlsSettings.builder()
                .certificate(a.certificateChainPem(), a.privateKeyPem())
                .clientAuth(TlsSettings.ClientAuth.REQUIRE).build());
        assertTrue(noCa.getMessage().startsWith("clientCa: none"), noCa.getMessage());
        IllegalArgumentException forward = assertThrows(IllegalArgumentException.class, () -> TlsSettings.builder()
                .certificate(a.certificateChainPem(), a.privateKeyPem())
                .forwardClientCertificate(true).build());
        assertTrue(forward.getMessage().startsWith("forwardClientCertificate"), forward.getMessage());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> TlsSettings.builder().build());
        assertTrue(none.getMessage().startsWith("certificates: []"), none.getMessage());
    }
}
