package dev.relay.core;

import org.jspecify.annotations.Nullable;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.Objects;

import static java.util.Objects.requireNonNull;

/**
 * Where and how to send one request upstream: the address, plain or TLS, the SNI to present and
 * the {@link PeerOptions}. Immutable. {@link ProxyHttp#upstreamPeer} returns one per attempt.
 *
 * <pre>{@code
 * HttpPeer web = HttpPeer.plain(backend);                                  // http://
 * HttpPeer api = HttpPeer.tls(backend, "api.example.com");                 // https://, SNI api.example.com
 * HttpPeer seed = HttpPeer.of(backend, true, "one.one.one.one");           // Pingora's HttpPeer::new
 * HttpPeer tuned = api.withOptions(PeerOptions.builder().readTimeout(Duration.ofSeconds(5)).build());
 * HttpPeer local = HttpPeer.unix(Path.of("/run/app.sock"));              // http:// over a Unix socket
 * }</pre>
 *
 * <p>A Unix-domain socket peer ({@link #unix(Path)}, or {@code "unix:/run/app.sock"} wherever an
 * address string is taken) has no host: the request keeps the client's {@code Host} header (or
 * {@code localhost} when the client sent none), and TLS over it presents only the SNI given.
 *
 * <p>{@link #plain} and {@link #tls} say what they make; the {@code of(address, tls, sni)} factories
 * mirror Pingora's {@code HttpPeer::new(addr, tls, sni)} argument for argument, for code ported from
 * Pingora and for a TLS flag that comes from configuration.
 *
 * <p>Two peers whose {@link #reuseKey()} are equal may share pooled connections; nothing else may.
 */
public final class HttpPeer {
    /** An {@link InetSocketAddress} or a {@link UnixDomainSocketAddress}. */
    private final SocketAddress address;
    private final boolean tls;
    private final String sni;
    private final long groupKey;
    private final PeerOptions options;
    private final PoolKey reuseKey;
    private final @Nullable Backend backend;

    private HttpPeer(SocketAddress address, boolean tls, String sni, long groupKey, PeerOptions options,
                     @Nullable Backend backend) {
        this.backend = backend;
        this.address = requireNonNull(address, "address");
        this.tls = tls;
        this.sni = requireNonNull(sni, "sni");
        this.groupKey = groupKey;
        this.options = requireNonNull(options, "options");
        this.reuseKey = new PoolKey(Addresses.format(address), tls, sni, groupKey,
                options.verifyCert(), options.verifyHostname(), options.alpn(),
                options.trustedCertificates(), options.clientCertificateChain(), options.alternativeName(),
                // HTTP/1.1 connections do not use the HTTP/2 settings: they must not split their pool.
                options.alpn() == Alpn.H1 ? 0 : options.maxH2Streams(),
                options.alpn() == Alpn.H1 ? null : options.h2PingInterval());
    }

    /**
     * Pingora's {@code HttpPeer::new(addr, tls, sni)}, kept with its shape so that Pingora code ports
     * as is: {@code address} is {@code host:port} (or {@code unix:/path}); {@code sni} is the TLS server name (empty for none;
     * ignored without TLS). Where the flag is a constant, {@link #plain(String)} or
     * {@link #tls(String, String)} read better.
     *
     * @throws IllegalArgumentException when {@code address} is neither {@code host:port} nor {@code unix:/path}
     */
    public static HttpPeer of(String address, boolean tls, String sni) {
        return new HttpPeer(Addresses.parse(address), tls, sni, 0, PeerOptions.defaults(), null);
    }

    /**
     * Pingora's {@code HttpPeer::new} for the address of {@code backend}, which the peer remembers
     * ({@link #backend()}); see {@link #of(String, boolean, String)}.
     */
    public static HttpPeer of(Backend backend, boolean tls, String sni) {
        return new HttpPeer(backend.socketAddress(), tls, sni, 0, PeerOptions.defaults(), backend);
    }

    /** Pingora's {@code HttpPeer::new} for {@code address}; see {@link #of(String, boolean, String)}. */
    public static HttpPeer of(InetSocketAddress address, boolean tls, String sni) {
        return new HttpPeer(address, tls, sni, 0, PeerOptions.defaults(), null);
    }

    /**
     * A plain-text (no TLS) peer at {@code address}, {@code host:port} or {@code unix:/path}.
     *
     * @throws IllegalArgumentException when {@code address} is neither {@code host:port} nor {@code unix:/path}
     */
    public static HttpPeer plain(String address) {
        return of(address, false, "");
    }

    /** A plain-text (no TLS) peer at {@code address}. */
    public static HttpPeer plain(InetSocketAddress address) {
        return of(address, false, "");
    }

    /**
     * A plain-text (no TLS) peer listening on the Unix-domain socket at {@code path}; pooled apart
     * from every other path.
     */
    public static HttpPeer unix(Path path) {
        return new HttpPeer(UnixDomainSocketAddress.of(requireNonNull(path, "path")), false, "", 0,
                PeerOptions.defaults(), null);
    }

    /** A plain-text (no TLS) peer at the address of {@code backend}, which it remembers ({@link #backend()}). */
    public static HttpPeer plain(Backend backend) {
        return of(backend, false, "");
    }

    /**
     * A TLS peer at {@code address}, {@code host:port}, presenting {@code sni} as the server name
     * (empty for none); the certificate is verified as {@link PeerOptions} says (by default against
     * {@code sni}, or the address's host when it is empty).
     *
     * @throws IllegalArgumentException when {@code address} is not {@code host:port}
     */
    public static HttpPeer tls(String address, String sni) {
        return of(address, true, sni);
    }

    /** A TLS peer at {@code address} presenting {@code sni}; see {@link #tls(String, String)}. */
    public static HttpPeer tls(InetSocketAddress address, String sni) {
        return of(address, true, sni);
    }

    /**
     * A TLS peer at the address of {@code backend}, which it remembers ({@link #backend()}), presenting
     * {@code sni}; see {@link #tls(String, String)}.
     */
    public static HttpPeer tls(Backend backend, String sni) {
        return of(backend, true, sni);
    }

    /**
     * The TCP address to connect to (unresolved when it names a host: resolved at connect time).
     *
     * @throws IllegalStateException for a Unix-domain socket peer ({@link #isUnix()}): use
     *                               {@link #socketAddress()}
     */
    public InetSocketAddress address() {
        if (address instanceof InetSocketAddress inet) {
            return inet;
        }
        throw new IllegalStateException("peer " + this + " is a unix socket (expected: socketAddress())");
    }

    /** The address to connect to: an {@link InetSocketAddress} or a {@link UnixDomainSocketAddress}. */
    public SocketAddress socketAddress() {
        return address;
    }

    /** Whether this peer is a Unix-domain socket rather than {@code host:port}. */
    public boolean isUnix() {
        return address instanceof UnixDomainSocketAddress;
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
     * The backend this peer was made from ({@link #plain(Backend)}, {@link #tls(Backend, String)},
     * {@link #of(Backend, boolean, String)}), so that load
     * balancers can attribute attempt outcomes to it; nullable. Not part of equality.
     */
    public @Nullable Backend backend() {
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

    /** {@code host:port} of {@link #address()}, or {@code unix:/path} of a Unix-domain socket peer. */
    public String hostAndPort() {
        return reuseKey.address();
    }

    @Override
    public boolean equals(@Nullable Object o) {
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
     * @param address {@code host:port}, or {@code unix:/path}
     * @param tls whether the connection speaks TLS
     * @param sni the server name presented (meaningful with TLS)
     * @param groupKey the user's pool group
     * @param verifyCert whether the certificate was verified
     * @param verifyHostname whether the hostname was verified
     * @param alpn the protocols offered
     * @param trustedCertificates the roots the certificate was verified against (empty: the JDK's)
     * @param clientCertificates the client certificate chain presented (empty: none)
     * @param alternativeName the second name the certificate was allowed to carry; null: none
     * @param maxH2Streams the cap of streams per HTTP/2 connection (0 under {@link Alpn#H1})
     * @param h2PingInterval the PING interval of HTTP/2 connections; null: none (always under {@link Alpn#H1})
     */
    public record PoolKey(String address, boolean tls, String sni, long groupKey,
                          boolean verifyCert, boolean verifyHostname, Alpn alpn,
                          java.util.List<java.security.cert.X509Certificate> trustedCertificates,
                          java.util.List<java.security.cert.X509Certificate> clientCertificates,
                          @Nullable String alternativeName, int maxH2Streams,
                          java.time.@Nullable Duration h2PingInterval) {}
}
