package dev.relay.server.internal.config;

import dev.relay.core.PeerOptions;
import dev.relay.server.internal.FilterRegistry;
import dev.relay.testing.OpensslKeys;
import dev.relay.testing.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A group's ca-file, client-cert / client-key and verify-name-alternative, from files next to the configuration. */
class UpstreamTlsConfigTest {
    private final ConfigLoader loader = new ConfigLoader(FilterRegistry.load(getClass().getClassLoader()));

    @TempDir
    Path dir;

    private Path conf(String group) throws IOException {
        return Files.writeString(dir.resolve("relay.conf"), """
                proxy.listeners = [ "127.0.0.1:6188" ]
                proxy.upstreams.secure {
                  backends = [ "127.0.0.1:8443" ]
                  %s
                }
                """.formatted(group));
    }

    private String problem(String group) throws IOException {
        Path file = conf(group);
        return assertThrows(ConfigProblem.class, () -> loader.load(file)).getMessage();
    }

    @Test
    void readsTheCaTheClientCertificateAndTheAlternativeNameRelativeToTheFile() throws IOException {
        TestCertificates.Client client = TestCertificates.client("relay-client");
        Files.copy(TestCertificates.caCertificatePem(), dir.resolve("ca.pem"));
        Files.copy(client.certificateChainPem(), dir.resolve("client.pem"));
        Files.copy(client.privateKeyPem(), dir.resolve("client.key"));

        PeerOptions options = loader.load(conf("""
                tls = true
                ca-file = "ca.pem"
                client-cert = "client.pem"
                client-key = "client.key"
                verify-name-alternative = "other.internal"
                """)).upstreams().get("secure").options();

        assertEquals(List.of(TestCertificates.caCertificate()), options.trustedCertificates());
        assertEquals(client.certificateChain(), options.clientCertificateChain());
        assertEquals(client.privateKey(), options.clientKey());
        assertEquals("other.internal", options.alternativeName());
    }

    @Test
    void withoutTheKeysNothingChanges() throws IOException {
        PeerOptions options = loader.load(conf("tls = true")).upstreams().get("secure").options();
        assertEquals(List.of(), options.trustedCertificates());
        assertNull(options.clientKey());
        assertNull(options.alternativeName());
    }

    @Test
    void aMissingCaFileNamesFileLineAndKey() throws IOException {
        String message = problem("tls = true\n  ca-file = \"nowhere.pem\"");
        assertTrue(message.matches(".*relay\\.conf:5: key 'proxy\\.upstreams\\.secure\\.ca-file': cannot read '.*nowhere\\.pem': "
                + "no such file \\(expected: a PEM file of certificates\\)"), message);
    }

    @Test
    void aFileWithoutCertificatesIsRefused() throws IOException {
        Files.writeString(dir.resolve("empty.pem"), "not a certificate\n");
        String message = problem("tls = true\n  ca-file = \"empty.pem\"");
        assertTrue(message.contains("key 'proxy.upstreams.secure.ca-file'"), message);
    }

    @Test
    void aKeyOfAnotherCertificateIsRefused() throws IOException {
        TestCertificates.Client client = TestCertificates.client("relay-client");
        String message = problem("""
                tls = true
                  client-cert = "%s"
                  client-key = "%s"
                """.formatted(client.certificateChainPem(), TestCertificates.localhost().privateKeyPem()));
        assertTrue(message.contains("key 'proxy.upstreams.secure.client-key': the key in")
                && message.contains("does not belong to the certificate"), message);
    }

    @Test
    void aClientKeyMayBeInTheTraditionalEncodingsOpensslWrites() throws Exception {
        for (OpensslKeys.Kind kind : List.of(OpensslKeys.Kind.RSA_PKCS1, OpensslKeys.Kind.EC_SEC1)) {
            OpensslKeys.Pair pair = OpensslKeys.selfSigned(dir, "relay-client", kind);
            PeerOptions options = loader.load(conf("""
                    tls = true
                    client-cert = "%s"
                    client-key = "%s"
                    """.formatted(pair.chain(), pair.key()))).upstreams().get("secure").options();
            assertEquals(kind == OpensslKeys.Kind.RSA_PKCS1 ? "RSA" : "EC", options.clientKey().getAlgorithm(), kind.name());
        }
    }

    @Test
    void anEncryptedClientKeyNamesFileLineAndKey() throws Exception {
        OpensslKeys.Pair pair = OpensslKeys.selfSigned(dir, "relay-client", OpensslKeys.Kind.EC_ENCRYPTED);
        String message = problem("""
                tls = true
                  client-cert = "%s"
                  client-key = "%s"
                """.formatted(pair.chain(), pair.key()));
        assertTrue(message.contains("relay.conf:6: key 'proxy.upstreams.secure.client-key': '" + pair.key()
                + "': the private key is encrypted"), message);
    }

    @Test
    void aClientCertificateNeedsItsKey() throws IOException {
        String message = problem("tls = true\n  client-cert = \"" + TestCertificates.client("relay-client").certificateChainPem() + "\"");
        assertTrue(message.contains("key 'proxy.upstreams.secure.client-key': missing (expected: client-cert and client-key together)"),
                message);
    }

    @Test
    void theKeysNeedTlsAndVerification() throws IOException {
        assertTrue(problem("ca-file = \"" + TestCertificates.caCertificatePem() + "\"")
                .contains("key 'proxy.upstreams.secure.ca-file': is set but tls = false"));
        assertTrue(problem("tls = true\n  verify = false\n  verify-name-alternative = other.internal")
                .contains("key 'proxy.upstreams.secure.verify-name-alternative': is set but verify = false"));
    }
}
