package dev.relay.core;

import org.jspecify.annotations.Nullable;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

import static java.util.Objects.requireNonNull;

/**
 * How to connect to and talk with an upstream: timeouts, TLS verification, ALPN, pooling.
 * Immutable; build with {@link #builder()} or copy with {@link #toBuilder()}.
 *
 * <p>Defaults follow Pingora: no timer unless set (the operating system's connect timeout, no read
 * or write deadline), certificate and hostname verification on, HTTP/1.1. A {@code null} duration
 * means "no timer"; {@link #idleTimeout()} of zero disables pooling for the peer.
 */
public final class PeerOptions {
    private static final PeerOptions DEFAULTS = new Builder().build();

    private final @Nullable Duration connectTimeout;
    private final @Nullable Duration totalConnectionTimeout;
    private final @Nullable Duration readTimeout;
    private final @Nullable Duration writeTimeout;
    private final @Nullable Duration idleTimeout;
    private final boolean verifyCert;
    /** As requested; {@link #verifyHostname()} is only true together with {@link #verifyCert}. */
    private final boolean verifyHostname;
    private final Alpn alpn;
    private final boolean tcpKeepAlive;
    private final List<X509Certificate> trustedCertificates;
    private final int maxIdleConnections;
    private final ProxyProtocol sendProxyProtocol;
    private final List<X509Certificate> clientCertificateChain;
    private final @Nullable PrivateKey clientKey;
    private final @Nullable String alternativeName;
    private final int maxH2Streams;
    private final @Nullable Duration h2PingInterval;

    private PeerOptions(Builder b) {
        this.maxH2Streams = b.maxH2Streams;
        this.h2PingInterval = b.h2PingInterval;
        this.sendProxyProtocol = b.sendProxyProtocol;
        this.clientCertificateChain = b.clientCertificateChain;
        this.clientKey = b.clientKey;
        this.alternativeName = b.alternativeName;
        this.maxIdleConnections = b.maxIdleConnections;
        this.trustedCertificates = b.trustedCertificates;
        this.connectTimeout = b.connectTimeout;
        this.totalConnectionTimeout = b.totalConnectionTimeout;
        this.readTimeout = b.readTimeout;
        this.writeTimeout = b.writeTimeout;
        this.idleTimeout = b.idleTimeout;
        this.verifyCert = b.verifyCert;
        this.verifyHostname = b.verifyHostname;
        this.alpn = b.alpn;
        this.tcpKeepAlive = b.tcpKeepAlive;
    }

    /** The defaults described in the class comment. */
    public static PeerOptions defaults() {
        return DEFAULTS;
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these options. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.connectTimeout = connectTimeout;
        b.totalConnectionTimeout = totalConnectionTimeout;
        b.readTimeout = readTimeout;
        b.writeTimeout = writeTimeout;
        b.idleTimeout = idleTimeout;
        b.verifyCert = verifyCert;
        b.verifyHostname = verifyHostname;
        b.alpn = alpn;
        b.tcpKeepAlive = tcpKeepAlive;
        b.trustedCertificates = trustedCertificates;
        b.maxIdleConnections = maxIdleConnections;
        b.sendProxyProtocol = sendProxyProtocol;
        b.clientCertificateChain = clientCertificateChain;
        b.clientKey = clientKey;
        b.alternativeName = alternativeName;
        b.maxH2Streams = maxH2Streams;
        b.h2PingInterval = h2PingInterval;
        return b;
    }

    /** TCP connect timeout; nullable (no timer: the operating system decides). */
    public @Nullable Duration connectTimeout() {
        return connectTimeout;
    }

    /** TCP connect plus TLS handshake; nullable (no timer). */
    public @Nullable Duration totalConnectionTimeout() {
        return totalConnectionTimeout;
    }

    /** Longest wait for each read from the upstream, reset on every read; nullable (no timer). */
    public @Nullable Duration readTimeout() {
        return readTimeout;
    }

    /** Longest wait for each write to the upstream to be flushed; nullable (no timer). */
    public @Nullable Duration writeTimeout() {
        return writeTimeout;
    }

    /**
     * How long an idle pooled connection waits to be reused; nullable (kept until the upstream or
     * the pool's global idle cap closes it); zero disables pooling.
     */
    public @Nullable Duration idleTimeout() {
        return idleTimeout;
    }

    /** Whether the upstream certificate chain must verify against the trusted roots. */
    public boolean verifyCert() {
        return verifyCert;
    }

    /**
     * Whether the certificate must name the SNI host (or the address's host when SNI is empty). Always
     * false when {@link #verifyCert()} is: a hostname check means nothing on a certificate that is not
     * verified. {@link #toBuilder()} keeps the requested value, so turning certificate verification
     * back on in a copy turns the hostname check back on too.
     */
    public boolean verifyHostname() {
        return verifyHostname && verifyCert;
    }

    /** Which HTTP versions to offer over TLS. */
    public Alpn alpn() {
        return alpn;
    }

    /** Whether to enable TCP keep-alive probes on upstream sockets. */
    public boolean tcpKeepAlive() {
        return tcpKeepAlive;
    }

    /**
     * The roots that upstream certificates must chain to; empty means the JDK's default trust store.
     * Pingora's {@code ca}.
     */
    public List<X509Certificate> trustedCertificates() {
        return trustedCertificates;
    }

    /**
     * The most idle connections to keep for this peer per event loop (nginx's {@code keepalive N} per
     * worker); 0 means no limit but the process-wide cap. Default 0.
     */
    public int maxIdleConnections() {
        return maxIdleConnections;
    }

    /**
     * The PROXY protocol header written as the first bytes of every new connection to this peer
     * (before TLS), carrying the client address and the proxy's local address of the client's
     * connection. Default {@link ProxyProtocol#NONE}. Such a connection describes one client
     * connection, so it is pooled only for later requests of that same client connection (see
     * {@code docs/architecture.md}).
     */
    public ProxyProtocol sendProxyProtocol() {
        return sendProxyProtocol;
    }

    /**
     * The certificate chain presented to upstreams that ask for one (mutual TLS), the client's own
     * certificate first; empty for none. Set together with {@link #clientKey()}.
     */
    public List<X509Certificate> clientCertificateChain() {
        return clientCertificateChain;
    }

    /** The private key of the first certificate of {@link #clientCertificateChain()}; null for none. */
    public @Nullable PrivateKey clientKey() {
        return clientKey;
    }

    /**
     * A second name the upstream's certificate may carry instead of the SNI host (Pingora's
     * {@code alternative_cn}): with hostname verification on, a certificate naming either is
     * accepted. Null for none.
     */
    public @Nullable String alternativeName() {
        return alternativeName;
    }

    /**
     * The most streams this proxy opens at once on one HTTP/2 connection to the peer (Pingora's
     * {@code max_h2_streams}); the peer's own {@code SETTINGS_MAX_CONCURRENT_STREAMS} lowers it further.
     * When every connection is full, another one opens. Default 100 (the smallest limit RFC 9113
     * recommends a server allow). Meaningless under {@link Alpn#H1}.
     */
    public int maxH2Streams() {
        return maxH2Streams;
    }

    /**
     * How often to send a PING on an HTTP/2 connection to the peer, idle or busy (Pingora's
     * {@code h2_ping_interval}); a connection whose PING is not acknowledged by the time the next one
     * is due is dropped. Nullable: no PING (Pingora's default).
     */
    public @Nullable Duration h2PingInterval() {
        return h2PingInterval;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof PeerOptions other
                && verifyCert == other.verifyCert
                && verifyHostname() == other.verifyHostname()
                && tcpKeepAlive == other.tcpKeepAlive
                && alpn == other.alpn
                && trustedCertificates.equals(other.trustedCertificates)
                && maxIdleConnections == other.maxIdleConnections
                && sendProxyProtocol == other.sendProxyProtocol
                && clientCertificateChain.equals(other.clientCertificateChain)
                && Objects.equals(clientKey, other.clientKey)
                && Objects.equals(alternativeName, other.alternativeName)
                && maxH2Streams == other.maxH2Streams
                && Objects.equals(h2PingInterval, other.h2PingInterval)
                && Objects.equals(connectTimeout, other.connectTimeout)
                && Objects.equals(totalConnectionTimeout, other.totalConnectionTimeout)
                && Objects.equals(readTimeout, other.readTimeout)
                && Objects.equals(writeTimeout, other.writeTimeout)
                && Objects.equals(idleTimeout, other.idleTimeout);
    }

    @Override
    public int hashCode() {
        return Objects.hash(connectTimeout, totalConnectionTimeout, readTimeout, writeTimeout, idleTimeout,
                verifyCert, verifyHostname(), alpn, tcpKeepAlive, trustedCertificates, maxIdleConnections,
                sendProxyProtocol, clientCertificateChain, alternativeName, maxH2Streams, h2PingInterval);
    }

    @Override
    public String toString() {
        return "PeerOptions{connectTimeout=" + connectTimeout + ", totalConnectionTimeout=" + totalConnectionTimeout
                + ", readTimeout=" + readTimeout + ", writeTimeout=" + writeTimeout + ", idleTimeout=" + idleTimeout
                + ", verifyCert=" + verifyCert + ", verifyHostname=" + verifyHostname() + ", alpn=" + alpn
                + ", tcpKeepAlive=" + tcpKeepAlive + ", sendProxyProtocol=" + sendProxyProtocol
                + (alpn != Alpn.H1 ? ", maxH2Streams=" + maxH2Streams + ", h2PingInterval=" + h2PingInterval : "")
                + (clientKey != null ? ", clientCertificate=" + clientCertificateChain.get(0).getSubjectX500Principal() : "")
                + (alternativeName != null ? ", alternativeName=" + alternativeName : "") + '}';
    }

    /** Builds {@link PeerOptions}. Not thread-safe. */
    public static final class Builder {
        private @Nullable Duration connectTimeout;
        private @Nullable Duration totalConnectionTimeout;
        private @Nullable Duration readTimeout;
        private @Nullable Duration writeTimeout;
        private @Nullable Duration idleTimeout;
        private boolean verifyCert = true;
        private boolean verifyHostname = true;
        private Alpn alpn = Alpn.H1;
        private boolean tcpKeepAlive;
        private List<X509Certificate> trustedCertificates = List.of();
        private int maxIdleConnections;
        private ProxyProtocol sendProxyProtocol = ProxyProtocol.NONE;
        private List<X509Certificate> clientCertificateChain = List.of();
        private @Nullable PrivateKey clientKey;
        private @Nullable String alternativeName;
        private int maxH2Streams = 100;
        private @Nullable Duration h2PingInterval;

        private Builder() {}

        /** See {@link PeerOptions#maxH2Streams()}; at least 1. */
        public Builder maxH2Streams(int streams) {
            if (streams < 1) {
                throw new IllegalArgumentException("maxH2Streams: " + streams + " (expected: >= 1)");
            }
            this.maxH2Streams = streams;
            return this;
        }

        /** See {@link PeerOptions#h2PingInterval()}; null for no PING. */
        public Builder h2PingInterval(@Nullable Duration interval) {
            this.h2PingInterval = positiveOrNull("h2PingInterval", interval);
            return this;
        }

        /** See {@link PeerOptions#sendProxyProtocol()}. */
        public Builder sendProxyProtocol(ProxyProtocol version) {
            this.sendProxyProtocol = requireNonNull(version, "version");
            return this;
        }

        /**
         * See {@link PeerOptions#clientCertificateChain()}: present {@code chain} (own certificate
         * first) with its {@code key} to upstreams that request a client certificate.
         *
         * <pre>{@code
         * PeerOptions.builder().clientCertificate(key, List.of(cert, intermediate)).build();
         * }</pre>
         */
        public Builder clientCertificate(PrivateKey key, List<X509Certificate> chain) {
            requireNonNull(key, "key");
            List<X509Certificate> copy = List.copyOf(requireNonNull(chain, "chain"));
            if (copy.isEmpty()) {
                throw new IllegalArgumentException("chain: [] (expected: the client certificate first)");
            }
            this.clientKey = key;
            this.clientCertificateChain = copy;
            return this;
        }

        /** Removes the client certificate set by {@link #clientCertificate}. */
        public Builder noClientCertificate() {
            this.clientKey = null;
            this.clientCertificateChain = List.of();
            return this;
        }

        /** See {@link PeerOptions#alternativeName()}; null for none. */
        public Builder alternativeName(@Nullable String name) {
            if (name != null && (name.isEmpty() || name.chars().anyMatch(c -> c <= ' ' || c == 0x7f))) {
                throw new IllegalArgumentException("alternativeName: '" + name + "' (expected: a host name, or null)");
            }
            this.alternativeName = name;
            return this;
        }

        /** See {@link PeerOptions#maxIdleConnections()}; 0 for no per-peer limit. */
        public Builder maxIdleConnections(int connections) {
            if (connections < 0) {
                throw new IllegalArgumentException("maxIdleConnections: " + connections + " (expected: >= 0)");
            }
            this.maxIdleConnections = connections;
            return this;
        }

        /** See {@link PeerOptions#trustedCertificates()}; empty for the JDK's default roots. */
        public Builder trustedCertificates(List<X509Certificate> roots) {
            this.trustedCertificates = List.copyOf(requireNonNull(roots, "roots"));
            return this;
        }

        /** See {@link PeerOptions#connectTimeout()}; null for none. */
        public Builder connectTimeout(@Nullable Duration timeout) {
            this.connectTimeout = positiveOrNull("connectTimeout", timeout);
            return this;
        }

        /** See {@link PeerOptions#totalConnectionTimeout()}; null for none. */
        public Builder totalConnectionTimeout(@Nullable Duration timeout) {
            this.totalConnectionTimeout = positiveOrNull("totalConnectionTimeout", timeout);
            return this;
        }

        /** See {@link PeerOptions#readTimeout()}; null for none. */
        public Builder readTimeout(@Nullable Duration timeout) {
            this.readTimeout = positiveOrNull("readTimeout", timeout);
            return this;
        }

        /** See {@link PeerOptions#writeTimeout()}; null for none. */
        public Builder writeTimeout(@Nullable Duration timeout) {
            this.writeTimeout = positiveOrNull("writeTimeout", timeout);
            return this;
        }

        /** See {@link PeerOptions#idleTimeout()}; null for none, zero to disable pooling. */
        public Builder idleTimeout(@Nullable Duration timeout) {
            if (timeout != null && timeout.isNegative()) {
                throw new IllegalArgumentException("idleTimeout: " + timeout + " (expected: >= 0)");
            }
            this.idleTimeout = timeout;
            return this;
        }

        /** See {@link PeerOptions#verifyCert()}. */
        public Builder verifyCert(boolean verify) {
            this.verifyCert = verify;
            return this;
        }

        /** See {@link PeerOptions#verifyHostname()}. */
        public Builder verifyHostname(boolean verify) {
            this.verifyHostname = verify;
            return this;
        }

        /** See {@link PeerOptions#alpn()}. */
        public Builder alpn(Alpn alpn) {
            this.alpn = requireNonNull(alpn, "alpn");
            return this;
        }

        /** See {@link PeerOptions#tcpKeepAlive()}. */
        public Builder tcpKeepAlive(boolean enabled) {
            this.tcpKeepAlive = enabled;
            return this;
        }

        /** The options. */
        public PeerOptions build() {
            return new PeerOptions(this);
        }

        private static @Nullable Duration positiveOrNull(String name, @Nullable Duration value) {
            if (value != null && (value.isNegative() || value.isZero())) {
                throw new IllegalArgumentException(name + ": " + value + " (expected: > 0, or null for none)");
            }
            return value;
        }
    }
}
