package dev.relay.transport;

import org.jspecify.annotations.Nullable;

import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * TLS termination on a listener (Pingora's {@code add_tls_with_settings}): the certificates to serve,
 * chosen per handshake by SNI, client certificate authentication (mutual TLS), the lowest protocol
 * version and the handshake limits. Set on a listener with {@link ListenerOptions.Builder#tls}.
 *
 * <pre>{@code
 * TlsSettings tls = TlsSettings.builder()
 *         .certificate(Path.of("/etc/relay/example.com.pem"), Path.of("/etc/relay/example.com.key"))
 *         .certificate(Path.of("/etc/relay/wildcard.pem"), Path.of("/etc/relay/wildcard.key"))
 *         .clientAuth(TlsSettings.ClientAuth.OPTIONAL)
 *         .clientCa(Path.of("/etc/relay/clients.pem"))
 *         .build();
 * server.bind("0.0.0.0:443", ListenerOptions.builder().tls(tls).build());
 * }</pre>
 *
 * <p>Certificates given as files are read at {@link Builder#build()} (so a bad file fails there) and
 * then watched: a new chain or key on disk serves new handshakes within about
 * {@link #certificateCheckInterval()}, without a restart; a broken new file keeps the old pair
 * (logged at WARN) until the next change. Immutable and thread-safe; identity equality.
 */
public final class TlsSettings {
    /** How long a client may take over the handshake unless set. */
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    /** How often session-ticket keys are replaced unless set. */
    public static final Duration DEFAULT_TICKET_KEY_ROTATION = Duration.ofHours(1);
    /** How often certificate files are checked for changes unless set. */
    public static final Duration DEFAULT_CERTIFICATE_CHECK_INTERVAL = Duration.ofSeconds(1);

    /** Whether clients must present a certificate. */
    public enum ClientAuth {
        /** No client certificate is asked for. */
        NONE,
        /**
         * A certificate is asked for; without one, or with one that does not verify against the client
         * CA, the handshake still completes and the phases see the outcome
         * ({@code dev.relay.core.TlsInfo#clientVerification()}).
         */
        OPTIONAL,
        /** A certificate that verifies against the client CA is required; otherwise the handshake fails. */
        REQUIRE
    }

    /** The lowest TLS version a client may negotiate. */
    public enum Version {
        /** TLS 1.2 and 1.3. */
        TLS_1_2("TLSv1.2"),
        /** TLS 1.3 only. */
        TLS_1_3("TLSv1.3");

        private final String protocolName;

        Version(String protocolName) {
            this.protocolName = protocolName;
        }

        /** The JSSE name, {@code TLSv1.2}. */
        public String protocolName() {
            return protocolName;
        }
    }

    /**
     * One certificate of a listener.
     *
     * @param certificate the chain and key as read
     * @param chainFile   the PEM chain it was read from, watched for changes; null when given in memory
     * @param keyFile     the PEM key it was read from, watched for changes; null when given in memory
     */
    public record CertificateEntry(TlsCertificate certificate, @Nullable Path chainFile, @Nullable Path keyFile) {
        /** Checks the components: both files or neither. */
        public CertificateEntry {
            requireNonNull(certificate, "certificate");
            if ((chainFile == null) != (keyFile == null)) {
                throw new IllegalArgumentException("chainFile/keyFile: " + chainFile + "/" + keyFile
                        + " (expected: both files or neither)");
            }
        }
    }

    private final List<CertificateEntry> certificates;
    private final @Nullable TlsAccept certificateSelector;
    private final ClientAuth clientAuth;
    private final List<X509Certificate> clientCa;
    private final Version minVersion;
    private final Duration handshakeTimeout;
    private final Duration ticketKeyRotation;
    private final Duration certificateCheckInterval;
    private final boolean forwardClientCertificate;

    private TlsSettings(Builder b, List<CertificateEntry> certificates, List<X509Certificate> clientCa) {
        this.certificates = certificates;
        this.certificateSelector = b.certificateSelector;
        this.clientAuth = b.clientAuth;
        this.clientCa = clientCa;
        this.minVersion = b.minVersion;
        this.handshakeTimeout = b.handshakeTimeout;
        this.ticketKeyRotation = b.ticketKeyRotation;
        this.certificateCheckInterval = b.certificateCheckInterval;
        this.forwardClientCertificate = b.forwardClientCertificate;
    }

    /** A builder with the defaults: no certificate yet, no client auth, TLS 1.2 and up, 10 s handshakes. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The certificates, the first being the default when the SNI name matches none or the client
     * sends none.
     */
    public List<CertificateEntry> certificates() {
        return certificates;
    }

    /** The per-handshake certificate callback; null when the configured certificates decide alone. */
    public @Nullable TlsAccept certificateSelector() {
        return certificateSelector;
    }

    /** Whether clients must present a certificate. */
    public ClientAuth clientAuth() {
        return clientAuth;
    }

    /** The CA certificates client certificates must chain to; empty with {@link ClientAuth#NONE}. */
    public List<X509Certificate> clientCa() {
        return clientCa;
    }

    /** The lowest TLS version accepted. */
    public Version minVersion() {
        return minVersion;
    }

    /** From accept to the end of the handshake; then the connection is closed. */
    public Duration handshakeTimeout() {
        return handshakeTimeout;
    }

    /**
     * How often a new session-ticket key is made (the previous one still decrypts tickets for one
     * more period, so resumption survives a rotation).
     */
    public Duration ticketKeyRotation() {
        return ticketKeyRotation;
    }

    /** How often the certificate files are checked for a change. */
    public Duration certificateCheckInterval() {
        return certificateCheckInterval;
    }

    /**
     * Whether the client certificate is sent to the origin as {@code X-Client-Cert-Subject},
     * {@code X-Client-Cert-Fingerprint}, {@code X-Client-Cert-Verify} and {@code X-Client-Cert-SAN}
     * request headers; when true, such headers sent by the client are removed first (they would be
     * forged).
     */
    public boolean forwardClientCertificate() {
        return forwardClientCertificate;
    }

    @Override
    public String toString() {
        List<Object> names = new ArrayList<>();
        for (CertificateEntry e : certificates) {
            names.add(e.chainFile() != null ? e.chainFile() : e.certificate());
        }
        return "TlsSettings{certificates=" + names + ", clientAuth=" + clientAuth + ", minVersion="
                + minVersion.protocolName() + ", handshakeTimeout=" + handshakeTimeout + '}';
    }

    /** Builds {@link TlsSettings}. Not thread-safe. */
    public static final class Builder {
        private final List<Object> certificates = new ArrayList<>();
        private @Nullable TlsAccept certificateSelector;
        private ClientAuth clientAuth = ClientAuth.NONE;
        private @Nullable Path clientCaFile;
        private @Nullable List<X509Certificate> clientCaCertificates;
        private Version minVersion = Version.TLS_1_2;
        private Duration handshakeTimeout = DEFAULT_HANDSHAKE_TIMEOUT;
        private Duration ticketKeyRotation = DEFAULT_TICKET_KEY_ROTATION;
        private Duration certificateCheckInterval = DEFAULT_CERTIFICATE_CHECK_INTERVAL;
        private boolean forwardClientCertificate;

        private Builder() {}

        /**
         * Adds a certificate from PEM files (read at {@link #build()}, then watched for changes); the
         * first added is the default.
         */
        public Builder certificate(Path chainFile, Path keyFile) {
            certificates.add(new Path[] {requireNonNull(chainFile, "chainFile"), requireNonNull(keyFile, "keyFile")});
            return this;
        }

        /** Adds a certificate held in memory; the first added is the default. */
        public Builder certificate(TlsCertificate certificate) {
            certificates.add(requireNonNull(certificate, "certificate"));
            return this;
        }

        /** Adds a certificate held in memory: {@code chain} is the leaf first, then intermediates. */
        public Builder certificate(PrivateKey privateKey, List<X509Certificate> chain) {
            return certificate(TlsCertificate.of(privateKey, chain));
        }

        /** A callback that may pick each handshake's certificate itself; see {@link TlsAccept}. */
        public Builder certificateSelector(@Nullable TlsAccept selector) {
            this.certificateSelector = selector;
            return this;
        }

        /** See {@link TlsSettings#clientAuth()}; OPTIONAL and REQUIRE need a {@link #clientCa}. */
        public Builder clientAuth(ClientAuth clientAuth) {
            this.clientAuth = requireNonNull(clientAuth, "clientAuth");
            return this;
        }

        /** The PEM bundle of CA certificates that client certificates must chain to (read at build). */
        public Builder clientCa(Path caFile) {
            this.clientCaFile = requireNonNull(caFile, "caFile");
            this.clientCaCertificates = null;
            return this;
        }

        /** The CA certificates that client certificates must chain to. */
        public Builder clientCa(List<X509Certificate> caCertificates) {
            this.clientCaCertificates = List.copyOf(caCertificates);
            this.clientCaFile = null;
            return this;
        }

        /** See {@link TlsSettings#minVersion()}. */
        public Builder minVersion(Version minVersion) {
            this.minVersion = requireNonNull(minVersion, "minVersion");
            return this;
        }

        /** See {@link TlsSettings#handshakeTimeout()}; {@code > 0}. */
        public Builder handshakeTimeout(Duration timeout) {
            this.handshakeTimeout = requireNonNull(timeout, "timeout");
            return this;
        }

        /** See {@link TlsSettings#ticketKeyRotation()}; at least a second. */
        public Builder ticketKeyRotation(Duration period) {
            this.ticketKeyRotation = requireNonNull(period, "period");
            return this;
        }

        /** See {@link TlsSettings#certificateCheckInterval()}; {@code > 0}. */
        public Builder certificateCheckInterval(Duration interval) {
            this.certificateCheckInterval = requireNonNull(interval, "interval");
            return this;
        }

        /** See {@link TlsSettings#forwardClientCertificate()}. */
        public Builder forwardClientCertificate(boolean forward) {
            this.forwardClientCertificate = forward;
            return this;
        }

        /**
         * Reads the certificate and CA files and checks the settings.
         *
         * @throws TlsCertificate.FileException naming a file that cannot be used
         * @throws IllegalArgumentException     naming the first setting out of range, as
         *                                      {@code name: value (expected: ...)}
         */
        public TlsSettings build() {
            if (certificates.isEmpty() && certificateSelector == null) {
                throw new IllegalArgumentException("certificates: [] (expected: at least one certificate, "
                        + "or a certificateSelector)");
            }
            positive("handshakeTimeout", handshakeTimeout);
            positive("certificateCheckInterval", certificateCheckInterval);
            if (ticketKeyRotation.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("ticketKeyRotation: " + ticketKeyRotation + " (expected: >= 1s)");
            }
            List<X509Certificate> ca = clientCaCertificates != null ? clientCaCertificates
                    : clientCaFile != null ? TlsCertificate.readCertificates(clientCaFile) : List.of();
            if (clientAuth != ClientAuth.NONE && ca.isEmpty()) {
                throw new IllegalArgumentException("clientCa: none (expected: the CA certificates of the clients "
                        + "when clientAuth is " + clientAuth + ")");
            }
            if (clientAuth == ClientAuth.NONE && forwardClientCertificate) {
                throw new IllegalArgumentException("forwardClientCertificate: true (expected: clientAuth OPTIONAL "
                        + "or REQUIRE; with NONE there is no client certificate to forward)");
            }
            List<CertificateEntry> entries = new ArrayList<>();
            for (Object c : certificates) {
                if (c instanceof Path[] files) {
                    entries.add(new CertificateEntry(TlsCertificate.fromPemFiles(files[0], files[1]), files[0], files[1]));
                } else {
                    entries.add(new CertificateEntry((TlsCertificate) c, null, null));
                }
            }
            return new TlsSettings(this, List.copyOf(entries), clientAuth == ClientAuth.NONE ? List.of() : ca);
        }

        private static void positive(String name, Duration value) {
            if (value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
            }
        }
    }
}
