package dev.relay.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Self-signed certificates and keys written by the openssl command line, in the key encodings a
 * server's files come in (PKCS#8, PKCS#1, SEC1, encrypted): what an operator's files look like,
 * rather than what a Java library writes. Tests using it are skipped without openssl.
 */
public final class OpensslKeys {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** The key type and how its file is encoded. */
    public enum Kind {
        /** RSA 2048, {@code BEGIN PRIVATE KEY}. */
        RSA_PKCS8,
        /** RSA 2048, {@code BEGIN RSA PRIVATE KEY}. */
        RSA_PKCS1,
        /** EC P-256, {@code BEGIN PRIVATE KEY}. */
        EC_PKCS8,
        /** EC P-256, {@code BEGIN EC PRIVATE KEY}. */
        EC_SEC1,
        /** EC P-256, {@code BEGIN ENCRYPTED PRIVATE KEY} (passphrase {@code secret}). */
        EC_ENCRYPTED
    }

    /** A certificate file and its key file. */
    public record Pair(Path chain, Path key) {}

    private OpensslKeys() {}

    /** A self-signed certificate for {@code dnsName} (SAN and CN) with a key of {@code kind}, in {@code dir}. */
    public static Pair selfSigned(Path dir, String dnsName, Kind kind) throws Exception {
        String base = dnsName.replace('*', '_') + "-" + kind.name().toLowerCase();
        Path chain = dir.resolve(base + ".pem");
        Path pkcs8 = dir.resolve(base + ".pkcs8.key");
        boolean rsa = kind.name().startsWith("RSA");
        ExternalTool.Result made = ExternalTool.run(TIMEOUT, "openssl", "req", "-x509", "-nodes",
                "-newkey", rsa ? "rsa:2048" : "ec", "-pkeyopt", rsa ? "rsa_keygen_bits:2048" : "ec_paramgen_curve:P-256",
                "-keyout", pkcs8.toString(), "-out", chain.toString(), "-days", "2",
                "-subj", "/CN=" + dnsName, "-addext", "subjectAltName=DNS:" + dnsName);
        assertEquals(0, made.exitCode(), made.stderr());
        Path key = switch (kind) {
            case RSA_PKCS8, EC_PKCS8 -> pkcs8;
            case RSA_PKCS1, EC_SEC1 -> convert(pkcs8, dir.resolve(base + ".key"), "-traditional");
            case EC_ENCRYPTED -> convert(pkcs8, dir.resolve(base + ".key"), "-aes256", "-passout", "pass:secret");
        };
        return new Pair(chain, key);
    }

    private static Path convert(Path from, Path to, String... options) throws Exception {
        java.util.List<String> args = ExternalTool.args("openssl", "pkey", "-in", from.toString(), "-out", to.toString());
        args.addAll(java.util.List.of(options));
        ExternalTool.Result r = ExternalTool.run(TIMEOUT, args.toArray(new String[0]));
        assertEquals(0, r.exitCode(), r.stderr());
        String pem = Files.readString(to);
        if (options[0].equals("-traditional") && !pem.contains("RSA PRIVATE KEY") && !pem.contains("EC PRIVATE KEY")) {
            throw new AssertionError("openssl did not write a traditional key: " + pem.lines().findFirst().orElse(""));
        }
        return to;
    }
}
