package dev.relay.testing;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

import static java.util.Objects.requireNonNull;

/**
 * A throw-away PKI for TLS tests: one self-signed root CA per JVM and server certificates it issues for
 * the DNS names a test asks for (always with the IP address {@code 127.0.0.1} as well). Keys are EC P-256,
 * generated with Netty's {@code CertificateBuilder}; nothing is read from or trusted by the system.
 *
 * <pre>{@code
 * TestCertificates.Server cert = TestCertificates.server("localhost", "origin.test");
 * TestOrigin origin = TestOrigin.builder().name("a").tls(cert).build().start();
 *
 * // a JDK client that trusts the test CA
 * HttpClient client = HttpClient.newBuilder().sslContext(TestCertificates.clientSslContext()).build();
 * // a Netty client that trusts it
 * SslContext netty = TestCertificates.nettyClientContext();
 * // curl --cacert
 * Path caFile = TestCertificates.caCertificatePem();
 * }</pre>
 *
 * <p>Thread-safe. The CA and every server certificate are created once per JVM and cached.
 */
public final class TestCertificates {

    private static final Duration VALIDITY = Duration.ofDays(30);
    private static final Instant NOT_BEFORE = Instant.now().minus(Duration.ofDays(1));
    private static final ConcurrentMap<List<String>, Server> SERVERS = new ConcurrentHashMap<>();
    private static final ConcurrentMap<List<String>, Server> RSA_SERVERS = new ConcurrentHashMap<>();
    private static final ConcurrentMap<String, Client> CLIENTS = new ConcurrentHashMap<>();
    private static final AtomicInteger SERIAL = new AtomicInteger(1);

    private TestCertificates() {
    }

    /** Initialised on first use: the root CA and where its PEM lives. */
    private static final class Root {
        static final X509Bundle CA = newRootCa();
        static final Path DIRECTORY = newDirectory();
        static final Path CA_PEM = write("relay-test-ca.pem", CA.getCertificatePEM());

        private static X509Bundle newRootCa() {
            return newRootCa("CN=Relay Test Root CA, O=Relay tests");
        }

        static X509Bundle newRootCa(String subject) {
            try {
                return new CertificateBuilder()
                        .subject(subject)
                        .serial(java.math.BigInteger.valueOf(SERIAL.getAndIncrement()))
                        .notBefore(NOT_BEFORE)
                        .notAfter(NOT_BEFORE.plus(VALIDITY))
                        .ecp256()
                        .setIsCertificateAuthority(true)
                        .setKeyUsage(true, CertificateBuilder.KeyUsage.keyCertSign,
                                CertificateBuilder.KeyUsage.cRLSign)
                        .buildSelfSigned();
            } catch (Exception e) {
                throw new IllegalStateException("cannot create the test root CA", e);
            }
        }

        private static Path newDirectory() {
            try {
                Path dir = Files.createTempDirectory("relay-test-pki-");
                // Registered first so it is deleted last, after the files in it.
                dir.toFile().deleteOnExit();
                return dir;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a directory for test PEM files", e);
            }
        }
    }

    /** The root CA certificate that issued every {@link Server} certificate. */
    public static X509Certificate caCertificate() {
        return Root.CA.getCertificate();
    }

    /** A PEM file holding {@link #caCertificate()}, for tools such as {@code curl --cacert}. */
    public static Path caCertificatePem() {
        return Root.CA_PEM;
    }

    /** A new trust manager factory that trusts only the test CA. */
    public static TrustManagerFactory trustManagerFactory() {
        return Root.CA.toTrustManagerFactory();
    }

    /**
     * A new JDK {@link SSLContext} that trusts only the test CA, for {@code java.net.http.HttpClient}
     * or {@code HttpsURLConnection}.
     */
    public static SSLContext clientSslContext() {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trustManagerFactory().getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot create a client SSLContext trusting the test CA", e);
        }
    }

    /** A new Netty client context builder that trusts only the test CA; add ALPN or a provider as needed. */
    public static SslContextBuilder nettyClientContextBuilder() {
        return SslContextBuilder.forClient().trustManager(caCertificate());
    }

    /** A new Netty client {@link SslContext} that trusts only the test CA. */
    public static SslContext nettyClientContext() {
        try {
            return nettyClientContextBuilder().build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot create a Netty client SslContext trusting the test CA", e);
        }
    }

    /** The server certificate for {@code localhost} (and {@code 127.0.0.1}). */
    public static Server localhost() {
        return server("localhost");
    }

    /**
     * The server certificate for {@code dnsNames} (and {@code 127.0.0.1}), issued by the test CA; the same
     * instance for the same names in the same order.
     *
     * @param dnsNames the subject alternative names; the first is also the subject's common name
     */
    public static Server server(String... dnsNames) {
        requireNonNull(dnsNames, "dnsNames");
        if (dnsNames.length == 0) {
            throw new IllegalArgumentException("dnsNames: [] (expected: at least one DNS name)");
        }
        List<String> names = List.copyOf(Arrays.asList(dnsNames));
        return SERVERS.computeIfAbsent(names, n -> new Server(n, false));
    }

    /** Like {@link #server(String...)}, with an RSA 2048 key instead of EC P-256. */
    public static Server rsaServer(String... dnsNames) {
        requireNonNull(dnsNames, "dnsNames");
        if (dnsNames.length == 0) {
            throw new IllegalArgumentException("dnsNames: [] (expected: at least one DNS name)");
        }
        return RSA_SERVERS.computeIfAbsent(List.copyOf(Arrays.asList(dnsNames)), n -> new Server(n, true));
    }

    /**
     * A client certificate (mutual TLS) for {@code commonName}, issued by the test CA, with the
     * SAN {@code DNS:<commonName>} and the clientAuth extended key usage; EC P-256.
     */
    public static Client client(String commonName) {
        return CLIENTS.computeIfAbsent(commonName, cn -> new Client(cn, Root.CA, "client-"));
    }

    /**
     * A client certificate for {@code commonName} issued by a CA that nothing trusts (one per JVM,
     * made on first use): what a client presents that the proxy must not verify.
     */
    public static Client untrustedClient(String commonName) {
        return CLIENTS.computeIfAbsent("untrusted:" + commonName,
                cn -> new Client(commonName, Untrusted.CA, "untrusted-client-"));
    }

    /** A second root CA, trusted by nobody. */
    private static final class Untrusted {
        static final X509Bundle CA = Root.newRootCa("CN=Relay Untrusted CA, O=Relay tests");
    }

    /** A client certificate with its key in PEM files, for {@code curl --cert --key}. Immutable. */
    public static final class Client {
        private final X509Bundle bundle;
        private final Path certificatePem;
        private final Path keyPem;

        private Client(String commonName, X509Bundle issuer, String prefix) {
            try {
                this.bundle = new CertificateBuilder()
                        .subject("CN=" + commonName + ", O=Relay tests")
                        .serial(java.math.BigInteger.valueOf(SERIAL.getAndIncrement()))
                        .notBefore(NOT_BEFORE)
                        .notAfter(NOT_BEFORE.plus(VALIDITY))
                        .ecp256()
                        .setKeyUsage(true, CertificateBuilder.KeyUsage.digitalSignature)
                        .addExtendedKeyUsageClientAuth()
                        .addSanDnsName(commonName)
                        .buildIssuedBy(issuer);
            } catch (Exception e) {
                throw new IllegalStateException("cannot issue a test client certificate for " + commonName, e);
            }
            String base = "relay-test-" + prefix + commonName.replaceAll("[^A-Za-z0-9.-]", "_");
            this.certificatePem = write(base + "-cert.pem", bundle.getCertificatePEM());
            this.keyPem = write(base + "-key.pem", bundle.getPrivateKeyPEM());
        }

        /** The client's certificate. */
        public X509Certificate certificate() {
            return bundle.getCertificate();
        }

        /** A PEM file with {@link #certificate()}. */
        public Path certificatePem() {
            return certificatePem;
        }

        /** The chain to present: the client certificate alone (the test CA issues it directly). */
        public List<X509Certificate> certificateChain() {
            return List.of(certificate());
        }

        /** A PEM file with {@link #certificateChain()}: the same file as {@link #certificatePem()}. */
        public Path certificateChainPem() {
            return certificatePem;
        }

        /** The private key of {@link #certificate()}. */
        public PrivateKey privateKey() {
            return bundle.getKeyPair().getPrivate();
        }

        /** A PEM file (PKCS#8, unencrypted) with the private key. */
        public Path privateKeyPem() {
            return keyPem;
        }
    }

    private static Path write(String fileName, String pem) {
        Path file = Root.DIRECTORY.resolve(fileName);
        try {
            Files.writeString(file, pem, StandardCharsets.US_ASCII);
            if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        file.toFile().deleteOnExit();
        return file;
    }

    /**
     * A server certificate issued by the test CA, with its private key. Immutable.
     *
     * <pre>{@code
     * SslContext server = TestCertificates.localhost().nettyServerContext();
     * }</pre>
     */
    public static final class Server {
        private final List<String> dnsNames;
        private final X509Bundle bundle;
        private final Path chainPem;
        private final Path keyPem;

        private Server(List<String> dnsNames, boolean rsa) {
            for (String name : dnsNames) {
                if (requireNonNull(name, "dnsName").isEmpty()) {
                    throw new IllegalArgumentException("dnsName: \"\" (expected: a DNS name)");
                }
            }
            this.dnsNames = dnsNames;
            try {
                CertificateBuilder builder = new CertificateBuilder()
                        .subject("CN=" + dnsNames.get(0) + ", O=Relay tests")
                        .serial(java.math.BigInteger.valueOf(SERIAL.getAndIncrement()))
                        .notBefore(NOT_BEFORE)
                        .notAfter(NOT_BEFORE.plus(VALIDITY))
                        .setKeyUsage(true, CertificateBuilder.KeyUsage.digitalSignature)
                        .addSanIpAddress("127.0.0.1");
                builder.addExtendedKeyUsageServerAuth();
                for (String name : dnsNames) {
                    builder.addSanDnsName(name);
                }
                if (rsa) {
                    builder.rsa2048();
                } else {
                    builder.ecp256();
                }
                this.bundle = builder.buildIssuedBy(Root.CA);
            } catch (Exception e) {
                throw new IllegalStateException("cannot issue a test server certificate for " + dnsNames, e);
            }
            String base = "relay-test-server-" + (rsa ? "rsa-" : "") + dnsNames.get(0).replaceAll("[^A-Za-z0-9.-]", "_")
                    + '-' + Integer.toHexString(dnsNames.hashCode());
            this.chainPem = write(base + "-chain.pem", bundle.getCertificatePathPEM());
            this.keyPem = write(base + "-key.pem", bundle.getPrivateKeyPEM());
        }

        /** The DNS names in the certificate, as requested. */
        public List<String> dnsNames() {
            return dnsNames;
        }

        /** The server's own certificate. */
        public X509Certificate certificate() {
            return bundle.getCertificate();
        }

        /** The chain to present: the server certificate first, without the root. */
        public List<X509Certificate> certificateChain() {
            return List.of(bundle.getCertificatePath());
        }

        /** The private key of {@link #certificate()}. */
        public PrivateKey privateKey() {
            return bundle.getKeyPair().getPrivate();
        }

        /** A PEM file with {@link #certificateChain()}. */
        public Path certificateChainPem() {
            return chainPem;
        }

        /** A PEM file (PKCS#8, unencrypted) with {@link #privateKey()}. */
        public Path privateKeyPem() {
            return keyPem;
        }

        /** A new Netty server context builder for this certificate; add ALPN or a provider as needed. */
        public SslContextBuilder nettyServerContextBuilder() {
            return SslContextBuilder.forServer(privateKey(), certificateChain());
        }

        /** A new Netty server {@link SslContext} for this certificate. */
        public SslContext nettyServerContext() {
            try {
                return nettyServerContextBuilder().build();
            } catch (SSLException e) {
                throw new IllegalStateException("cannot create a Netty server SslContext for " + dnsNames, e);
            }
        }

        /**
         * A Netty server {@link SslContext} on the JDK provider, which keeps a test server independent of
         * the native libraries on the classpath; with {@code requireClientCertificate}, clients must
         * present a certificate of {@link #caCertificate()}.
         */
        public SslContext jdkServerContext(boolean requireClientCertificate) {
            try {
                SslContextBuilder builder = nettyServerContextBuilder().sslProvider(io.netty.handler.ssl.SslProvider.JDK);
                if (requireClientCertificate) {
                    builder.clientAuth(io.netty.handler.ssl.ClientAuth.REQUIRE).trustManager(caCertificate());
                }
                return builder.build();
            } catch (SSLException e) {
                throw new IllegalStateException("cannot create a JDK server SslContext for " + dnsNames, e);
            }
        }

        @Override
        public String toString() {
            return "TestCertificates.Server" + dnsNames;
        }
    }
}
