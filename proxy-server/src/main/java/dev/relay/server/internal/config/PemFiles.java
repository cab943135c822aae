package dev.relay.server.internal.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Reads the PEM files a configuration names (a CA file, a client certificate and its key) at
 * validation time, so that a missing, unreadable or malformed file fails {@code -t} and a reload
 * with the file, line and key rather than the first connection that needs it.
 */
final class PemFiles {
    private static final String KEY_BEGIN = "-----BEGIN PRIVATE KEY-----";
    private static final String KEY_END = "-----END PRIVATE KEY-----";

    private PemFiles() {}

    /** The certificates of the PEM file {@code node} names: at least one. */
    static List<X509Certificate> certificates(ConfigNode node) {
        Path path = node.readableFile("a PEM file of certificates");
        List<X509Certificate> out = new ArrayList<>();
        try (InputStream in = Files.newInputStream(path)) {
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                out.add((X509Certificate) c);
            }
        } catch (IOException | CertificateException e) {
            throw node.problem("cannot read the certificates in '" + path + "': " + e.getMessage()
                    + " (expected: PEM, -----BEGIN CERTIFICATE-----)");
        }
        if (out.isEmpty()) {
            throw node.problem("no certificate in '" + path + "' (expected: PEM, -----BEGIN CERTIFICATE-----)");
        }
        return List.copyOf(out);
    }

    /**
     * The private key in the PEM file {@code node} names, which must belong to {@code certificate}
     * (a key and certificate that do not match would only fail at the first handshake).
     */
    static PrivateKey privateKey(ConfigNode node, X509Certificate certificate) {
        Path path = node.readableFile("an unencrypted PKCS#8 PEM key");
        String text;
        try {
            text = Files.readString(path, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw node.problem("cannot read '" + path + "': " + e.getMessage());
        }
        int begin = text.indexOf(KEY_BEGIN);
        int end = text.indexOf(KEY_END);
        if (begin < 0 || end < begin) {
            throw node.problem("no unencrypted PKCS#8 key in '" + path + "' (expected: " + KEY_BEGIN
                    + "; convert with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8)");
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(text.substring(begin + KEY_BEGIN.length(), end));
        } catch (IllegalArgumentException e) {
            throw node.problem("bad base64 in '" + path + "': " + e.getMessage());
        }
        PublicKey publicKey = certificate.getPublicKey();
        PrivateKey key;
        try {
            key = KeyFactory.getInstance(publicKey.getAlgorithm()).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw node.problem("cannot read the key in '" + path + "' as a " + publicKey.getAlgorithm()
                    + " key like the certificate's: " + e.getMessage());
        }
        if (!matches(key, publicKey)) {
            throw node.problem("the key in '" + path + "' does not belong to the certificate "
                    + certificate.getSubjectX500Principal().getName() + " (expected: the certificate's private key)");
        }
        return key;
    }

    /** Whether {@code key} signs what {@code publicKey} verifies. */
    private static boolean matches(PrivateKey key, PublicKey publicKey) {
        String algorithm = switch (publicKey.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            case "Ed448" -> "Ed448";
            default -> null;
        };
        if (algorithm == null) {
            // An algorithm we cannot test here: the handshake will tell.
            return true;
        }
        try {
            byte[] probe = "relay key check".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
