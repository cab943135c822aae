package dev.relay.server.internal.config;

import dev.relay.transport.TlsCertificate;

import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * Reads the PEM files a configuration names (a CA file, a client certificate and its key) at
 * validation time, so that a missing, unreadable or malformed file fails {@code -t} and a reload
 * with the file, line and key rather than the first connection that needs it. The reading is the
 * listeners' ({@link TlsCertificate}): the same key encodings, the same key-to-certificate check.
 */
final class PemFiles {
    private PemFiles() {}

    /** The certificates of the PEM file {@code node} names: at least one. */
    static List<X509Certificate> certificates(ConfigNode node) {
        Path path = node.readableFile("a PEM file of certificates");
        try {
            return TlsCertificate.readCertificates(path);
        } catch (TlsCertificate.FileException e) {
            throw node.problem("'" + path + "': " + e.problem());
        }
    }

    /**
     * The private key in the PEM file {@code node} names, which must belong to {@code certificate}
     * (a key and certificate that do not match would only fail at the first handshake).
     */
    static PrivateKey privateKey(ConfigNode node, X509Certificate certificate) {
        Path path = node.readableFile("an unencrypted PEM key");
        PrivateKey key;
        try {
            key = TlsCertificate.readPrivateKey(path);
        } catch (TlsCertificate.FileException e) {
            throw node.problem("'" + path + "': " + e.problem());
        }
        try {
            return TlsCertificate.of(key, List.of(certificate)).privateKey();
        } catch (IllegalArgumentException e) {
            throw node.problem("the key in '" + path + "' does not belong to the certificate "
                    + certificate.getSubjectX500Principal().getName() + " (expected: the certificate's private key)");
        }
    }
}
