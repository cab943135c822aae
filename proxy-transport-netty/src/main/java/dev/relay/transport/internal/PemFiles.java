package dev.relay.transport.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads PEM files: certificate chains (leaf first, intermediates after) and unencrypted private
 * keys in the three encodings tools write: PKCS#8 ({@code BEGIN PRIVATE KEY}), PKCS#1
 * ({@code BEGIN RSA PRIVATE KEY}) and SEC1 ({@code BEGIN EC PRIVATE KEY}). PKCS#1 and SEC1 keys are
 * wrapped into PKCS#8 here (a few bytes of DER), because the JDK's key factories read only PKCS#8.
 * Encrypted keys are refused: a proxy that restarts unattended has nobody to type a passphrase.
 *
 * <p>Every failure is an {@link IllegalArgumentException} whose message says what is wrong with
 * the file, without the path (callers add it where they name the file).
 */
public final class PemFiles {
    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);
    private static final byte[] RSA_ALGORITHM = hex("300d06092a864886f70d0101010500");
    private static final byte[] EC_PUBLIC_KEY_OID = hex("06072a8648ce3d0201");

    private PemFiles() {}

    /** The certificates in {@code file}, in file order; at least one. */
    public static List<X509Certificate> readCertificates(Path file) {
        List<X509Certificate> out = new ArrayList<>();
        CertificateFactory factory;
        try {
            factory = CertificateFactory.getInstance("X.509");
        } catch (CertificateException e) {
            throw new IllegalStateException("the JDK has no X.509 certificate factory", e);
        }
        for (Block block : blocks(read(file))) {
            if (!block.type().equals("CERTIFICATE")) {
                continue;
            }
            try {
                out.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(block.der())));
            } catch (CertificateException e) {
                throw new IllegalArgumentException("certificate " + (out.size() + 1) + " is not a valid X.509 "
                        + "certificate (" + e.getMessage() + ")", e);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no certificate in the file (expected: PEM, -----BEGIN CERTIFICATE----- "
                    + "blocks)");
        }
        return List.copyOf(out);
    }

    /** The one private key in {@code file}. */
    public static PrivateKey readPrivateKey(Path file) {
        String text = read(file);
        for (Block block : blocks(text)) {
            switch (block.type()) {
                case "PRIVATE KEY":
                    return pkcs8(block.der());
                case "RSA PRIVATE KEY":
                case "EC PRIVATE KEY":
                    if (block.headers().contains("ENCRYPTED")) {
                        throw encrypted();
                    }
                    return pkcs8(block.type().startsWith("RSA") ? wrapPkcs1(block.der()) : wrapSec1(block.der()));
                case "ENCRYPTED PRIVATE KEY":
                    throw encrypted();
                default:
                    // EC PARAMETERS (openssl ecparam -genkey writes it first), certificates ...: not the key.
            }
        }
        throw new IllegalArgumentException("no private key in the file (expected: an unencrypted PEM key: "
                + "BEGIN PRIVATE KEY, BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY)");
    }

    private static IllegalArgumentException encrypted() {
        return new IllegalArgumentException("the private key is encrypted (expected: an unencrypted key; "
                + "decrypt it with: openssl pkey -in key.pem -out plain.pem)");
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no such file", e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the file (" + e + ")", e);
        }
    }

    private record Block(String type, String headers, byte[] der) {}

    private static List<Block> blocks(String text) {
        List<Block> out = new ArrayList<>();
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            String body = m.group(2);
            String headers = "";
            int blank = body.indexOf("\n\n");
            if (body.contains(":") && blank >= 0) {
                // RFC 1421 headers (Proc-Type: 4,ENCRYPTED ...) end at the first empty line.
                headers = body.substring(0, blank);
                body = body.substring(blank + 2);
            }
            byte[] der;
            try {
                der = Base64.getMimeDecoder().decode(body.replaceAll("\\s", ""));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the " + m.group(1) + " block is not valid base64", e);
            }
            out.add(new Block(m.group(1), headers.toUpperCase(Locale.ROOT), der));
        }
        return out;
    }

    private static PrivateKey pkcs8(byte[] der) {
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException | IllegalArgumentException notThisOne) {
                // The DER names its algorithm; trying the few a server or client certificate uses is
                // simpler than parsing the identifier, and a failure of all of them is the error below.
            }
        }
        throw new IllegalArgumentException("the private key is neither RSA, EC, Ed25519 nor Ed448, or is malformed");
    }

    /** PKCS#1 RSAPrivateKey inside a PKCS#8 PrivateKeyInfo with the rsaEncryption identifier. */
    private static byte[] wrapPkcs1(byte[] pkcs1) {
        return privateKeyInfo(RSA_ALGORITHM, pkcs1);
    }

    /**
     * SEC1 ECPrivateKey inside a PKCS#8 PrivateKeyInfo: the algorithm identifier needs the curve,
     * which the SEC1 structure carries in its {@code [0] parameters}.
     */
    private static byte[] wrapSec1(byte[] sec1) {
        Der seq = new Der(sec1, 0);
        if (seq.tag != 0x30) {
            throw new IllegalArgumentException("the EC private key is malformed (expected: a SEC1 ECPrivateKey)");
        }
        int pos = seq.contentStart;
        byte[] curve = null;
        while (pos < seq.end) {
            Der element = new Der(sec1, pos);
            if (element.tag == 0xa0) {
                Der oid = new Der(sec1, element.contentStart);
                curve = java.util.Arrays.copyOfRange(sec1, element.contentStart, oid.end);
            }
            pos = element.end;
        }
        if (curve == null) {
            throw new IllegalArgumentException("the EC private key does not name its curve (expected: a SEC1 key "
                    + "with parameters, as openssl writes it)");
        }
        ByteArrayOutputStream algorithm = new ByteArrayOutputStream();
        algorithm.writeBytes(EC_PUBLIC_KEY_OID);
        algorithm.writeBytes(curve);
        return privateKeyInfo(tlv(0x30, algorithm.toByteArray()), sec1);
    }

    private static byte[] privateKeyInfo(byte[] algorithmIdentifier, byte[] key) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {0x02, 0x01, 0x00}); // version 0
        body.writeBytes(algorithmIdentifier);
        body.writeBytes(tlv(0x04, key));
        return tlv(0x30, body.toByteArray());
    }

    private static byte[] tlv(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 6);
        out.write(tag);
        int n = content.length;
        if (n < 0x80) {
            out.write(n);
        } else if (n < 0x100) {
            out.write(0x81);
            out.write(n);
        } else if (n < 0x10000) {
            out.write(0x82);
            out.write(n >> 8);
            out.write(n);
        } else {
            out.write(0x83);
            out.write(n >> 16);
            out.write(n >> 8);
            out.write(n);
        }
        out.writeBytes(content);
        return out.toByteArray();
    }

    /** One DER element header: its tag, where its content starts and where it ends. */
    private static final class Der {
        final int tag;
        final int contentStart;
        final int end;

        Der(byte[] der, int offset) {
            if (offset + 2 > der.length) {
                throw malformed();
            }
            tag = der[offset] & 0xff;
            int first = der[offset + 1] & 0xff;
            int pos = offset + 2;
            int length;
            if (first < 0x80) {
                length = first;
            } else {
                int count = first & 0x7f;
                if (count == 0 || count > 3 || pos + count > der.length) {
                    throw malformed();
                }
                length = 0;
                for (int i = 0; i < count; i++) {
                    length = (length << 8) | (der[pos++] & 0xff);
                }
            }
            contentStart = pos;
            end = pos + length;
            if (end > der.length) {
                throw malformed();
            }
        }

        private static IllegalArgumentException malformed() {
            return new IllegalArgumentException("the private key is malformed (bad DER encoding)");
        }
    }

    private static byte[] hex(String hex) {
        return java.util.HexFormat.of().parseHex(hex);
    }
}
