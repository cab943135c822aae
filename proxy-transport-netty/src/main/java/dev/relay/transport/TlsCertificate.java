package dev.relay.transport;

import dev.relay.transport.internal.PemFiles;
import org.jspecify.annotations.Nullable;

import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static java.util.Objects.requireNonNull;

/**
 * A server certificate chain with its private key, and the host names it serves: the SAN DNS names
 * of the leaf, or its subject CN when it has no SAN DNS name (wildcards such as
 * {@code *.example.com} match one label). Immutable; identity equality (two loads of the same files
 * are two certificates).
 *
 * <pre>{@code
 * TlsCertificate cert = TlsCertificate.fromPemFiles(Path.of("site.pem"), Path.of("site.key"));
 * }</pre>
 */
public final class TlsCertificate {
    private final PrivateKey privateKey;
    private final List<X509Certificate> chain;
    private final List<String> names;

    private TlsCertificate(PrivateKey privateKey, List<X509Certificate> chain) {
        this.privateKey = privateKey;
        this.chain = chain;
        this.names = namesOf(chain.get(0));
    }

    /**
     * The certificate in memory: {@code chain} is the leaf first, then intermediates.
     *
     * @throws IllegalArgumentException when the chain is empty or the key does not belong to its leaf
     */
    public static TlsCertificate of(PrivateKey privateKey, List<X509Certificate> chain) {
        requireNonNull(privateKey, "privateKey");
        List<X509Certificate> copy = List.copyOf(requireNonNull(chain, "chain"));
        if (copy.isEmpty()) {
            throw new IllegalArgumentException("chain: [] (expected: the server certificate, then intermediates)");
        }
        String mismatch = keyMismatch(privateKey, copy.get(0));
        if (mismatch != null) {
            throw new IllegalArgumentException("the private key does not match the certificate "
                    + copy.get(0).getSubjectX500Principal().getName() + " (" + mismatch + ")");
        }
        return new TlsCertificate(privateKey, copy);
    }

    /**
     * Reads a PEM chain (leaf first, intermediates after) and its unencrypted PEM key (PKCS#8,
     * PKCS#1 {@code RSA PRIVATE KEY} or SEC1 {@code EC PRIVATE KEY}).
     *
     * @throws FileException naming the file that is missing, unreadable, without certificate, with an
     *                       encrypted or malformed key, or whose key does not match the certificate
     *                       (then the key file)
     */
    public static TlsCertificate fromPemFiles(Path chainFile, Path keyFile) {
        requireNonNull(chainFile, "chainFile");
        requireNonNull(keyFile, "keyFile");
        List<X509Certificate> chain = readCertificates(chainFile);
        PrivateKey key = readPrivateKey(keyFile);
        try {
            return of(key, chain);
        } catch (IllegalArgumentException e) {
            throw new FileException(keyFile, e.getMessage() + " of " + chainFile, e);
        }
    }

    /**
     * Reads the PEM certificates of {@code file}, in file order: a chain, or a CA bundle.
     *
     * @throws FileException when the file is missing, unreadable or holds no certificate
     */
    public static List<X509Certificate> readCertificates(Path file) {
        try {
            return PemFiles.readCertificates(file);
        } catch (IllegalArgumentException e) {
            throw new FileException(file, e.getMessage(), e);
        }
    }

    /**
     * Reads the unencrypted PEM private key of {@code file} (PKCS#8, PKCS#1 {@code RSA PRIVATE KEY}
     * or SEC1 {@code EC PRIVATE KEY}), for a key that {@link #of} then pairs with its chain.
     *
     * @throws FileException when the file is missing, unreadable, holds no key, or an encrypted or
     *                       malformed one
     */
    public static PrivateKey readPrivateKey(Path file) {
        try {
            return PemFiles.readPrivateKey(file);
        } catch (IllegalArgumentException e) {
            throw new FileException(file, e.getMessage(), e);
        }
    }

    /** The private key of the leaf. */
    public PrivateKey privateKey() {
        return privateKey;
    }

    /** The chain: the leaf first, then intermediates. */
    public List<X509Certificate> chain() {
        return chain;
    }

    /** The host names this certificate serves, lower case, as written ({@code *.example.com} included). */
    public List<String> names() {
        return names;
    }

    /** Whether this certificate serves {@code host} (case-insensitive; a wildcard covers one label). */
    public boolean matches(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        for (String name : names) {
            if (name.equals(h)) {
                return true;
            }
            if (name.startsWith("*.")) {
                String suffix = name.substring(1);
                int dot = h.indexOf('.');
                if (dot > 0 && h.substring(dot).equals(suffix)) {
                    return true;
                }
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "TlsCertificate" + names;
    }

    private static List<String> namesOf(X509Certificate leaf) {
        List<String> out = new ArrayList<>();
        try {
            var sans = leaf.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (Integer.valueOf(2).equals(san.get(0)) && san.get(1) instanceof String dns) {
                        out.add(dns.toLowerCase(Locale.ROOT));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // An unreadable SAN extension serves no name; the CN rule below applies.
        }
        if (out.isEmpty()) {
            // RFC 6125: the CN counts only when there is no DNS SAN.
            try {
                for (Rdn rdn : new LdapName(leaf.getSubjectX500Principal().getName()).getRdns()) {
                    if (rdn.getType().equalsIgnoreCase("CN")) {
                        out.add(rdn.getValue().toString().toLowerCase(Locale.ROOT));
                    }
                }
            } catch (InvalidNameException e) {
                // No CN either: the certificate is only ever the default.
            }
        }
        return List.copyOf(out);
    }

    /** Why {@code key} is not the private half of {@code leaf}'s public key; null when it is. */
    private static @Nullable String keyMismatch(PrivateKey key, X509Certificate leaf) {
        PublicKey pub = leaf.getPublicKey();
        if (!key.getAlgorithm().equals(pub.getAlgorithm())) {
            return "a " + key.getAlgorithm() + " key for a " + pub.getAlgorithm() + " certificate";
        }
        if (key instanceof RSAPrivateCrtKey rsa && pub instanceof RSAPublicKey rsaPub) {
            return rsa.getModulus().equals(rsaPub.getModulus()) ? null : "different RSA modulus";
        }
        // Any other algorithm: sign with the key and verify with the certificate.
        String algorithm = switch (pub.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            default -> pub.getAlgorithm();
        };
        try {
            byte[] probe = "relay key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(pub);
            verifier.update(probe);
            return verifier.verify(signature) ? null : "a signature made with the key does not verify";
        } catch (GeneralSecurityException e) {
            return "cannot check the pair: " + e.getMessage();
        }
    }

    /**
     * A certificate or key file that cannot be used: missing, unreadable, without certificate,
     * encrypted, malformed, or a key that does not match its certificate. The message starts with
     * the file.
     */
    public static final class FileException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final transient Path file;
        private final String problem;

        FileException(Path file, String problem, Throwable cause) {
            super(file + ": " + problem, cause);
            this.file = file;
            this.problem = problem;
        }

        /** The file at fault. */
        public Path file() {
            return file;
        }

        /** What is wrong with it, without the path. */
        public String problem() {
            return problem;
        }
    }
}
