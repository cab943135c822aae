package dev.relay.core;

import java.net.InetSocketAddress;
import java.util.Objects;

import static java.util.Objects.requireNonNull;

/**
 * Where and how to send one request upstream: the address, plain or TLS, the SNI to present and
 * the {@link PeerOptions}. Immutable. {@link ProxyHttp#upstreamPeer} returns one per attempt.
 *
 * <pre>{@code
 * HttpPeer peer = HttpPeer.of(backend, true, "one.one.one.one");
 * HttpPeer tuned = peer.withOptions(PeerOptions.builder().readTimeout(Duration.ofSeconds(5)).build());
 * }</pre>
 *
 * <p>Two peers whose {@link #reuseKey()} are equal may share pooled connections; nothing else may.
 */
public final class HttpPeer {
    private final InetSocketAddress address;
    private final boolean tls;
    private final String sni;
    private final long groupKey;
    private final PeerOptions options;
    private final PoolKey reuseKey;
    private final Backend backend;

    private HttpPeer(InetSocketAddress address, boolean tls, String sni, long groupKey, PeerOptions options,
                     Backend backend) {
        this.backend = backend;
        this.address = requireNonNull(address, "address");
        this.tls = tls;
        this.sni = requireNonNull(sni, "sni");
        this.groupKey = groupKey;
        this.options = requireNonNull(options, "options");
        this.reuseKey = new PoolKey(Addresses.format(address), tls, sni, groupKey,
                options.verifyCert(), options.verifyHostname(), options.alpn(),
                options.trustedCertificates());
    }

    /**
     * Pingora's {@code HttpPeer::new(addr, tls, sni)}: {@code address} is {@code host:port}; {@code sni}
     * is the TLS server name (empty for none; ignored without TLS).
     */
    public static HttpPeer of(String address, boolean tls, String sni) {
        return new HttpPeer(Addresses.parseHostPort(address), tls, sni, 0, PeerOptions.defaults(), null);
    }

    /** A peer for the address of {@code backend}. */
    public static HttpPeer of(Backend backend, boolean tls, String sni) {
        return new HttpPeer(backend.address(), tls, sni, 0, PeerOptions.defaults(), backend);
    }

    /** A peer for {@code address}. */
    public static HttpPeer of(InetSocketAddress address, boolean tls, String sni) {
        return new HttpPeer(address, tls, sni, 0, PeerOptions.defaults(), null);
    }

    /** The address to connect to (unresolved when it names a host: resolved at connect time). */
    public InetSocketAddress address() {
        return address;
    }

    /** Whether to speak TLS to the upstream. */
    public boolean isTls() {
        return tls;
    }

    /** The TLS server name to present; empty for none. */
    public String sni() {
        return sni;
    }

    /** A user-chosen number that keeps otherwise equal peers in separate connection pools. */
    public long groupKey() {
        return groupKey;
    }

    /** How to connect and talk. */
    public PeerOptions options() {
        return options;
    }

    /**
     * The backend this peer was made from ({@link #of(Backend, boolean, String)}), so that load
     * balancers can attribute attempt outcomes to it; nullable. Not part of equality.
     */
    public Backend backend() {
        return backend;
    }

    /** A copy with other options. */
    public HttpPeer withOptions(PeerOptions options) {
        return new HttpPeer(address, tls, sni, groupKey, options, backend);
    }

    /** A copy in a separate pool group. */
    public HttpPeer withGroupKey(long groupKey) {
        return new HttpPeer(address, tls, sni, groupKey, options, backend);
    }

    /** The connection-pool key: peers with equal keys may share an idle connection. */
    public PoolKey reuseKey() {
        return reuseKey;
    }

    /** {@code host:port} of {@link #address()}. */
    public String hostAndPort() {
        return reuseKey.address();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HttpPeer other && reuseKey.equals(other.reuseKey) && options.equals(other.options);
    }

    @Override
    public int hashCode() {
        return Objects.hash(reuseKey, options);
    }

    @Override
    public String toString() {
        return (tls ? "https://" : "http://") + hostAndPort() + (tls && !sni.isEmpty() ? " sni=" + sni : "");
    }

    /**
     * Everything that decides whether a pooled connection can carry a request for a peer: the same
     * address, the same TLS identity and verification, the same protocol offer and group.
     *
     * @param address {@code host:port}
     * @param tls whether the connection speaks TLS
     * @param sni the server name presented (meaningful with TLS)
     * @param groupKey the user's pool group
     * @param verifyCert whether the certificate was verified
     * @param verifyHostname whether the hostname was verified
     * @param alpn the protocols offered
     * @param trustedCertificates the roots the certificate was verified against (empty: the JDK's)
     */
    public record PoolKey(String address, boolean tls, String sni, long groupKey,
                          boolean verifyCert, boolean verifyHostname, Alpn alpn,
                          java.util.List<java.security.cert.X509Certificate> trustedCertificates) {}
}
