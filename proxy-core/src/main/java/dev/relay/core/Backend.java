package dev.relay.core;

import org.jspecify.annotations.Nullable;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * One server that a load balancer may pick: an address, a weight and opaque metadata. The address is
 * {@code host:port} (an {@link InetSocketAddress}) or a Unix-domain socket path
 * ({@link #unix(Path)}, {@code "unix:/run/app.sock"} to {@link #parse}).
 *
 * <p>Identity ({@code equals}/{@code hashCode}) is the address and the weight; the metadata
 * (for example a per-backend SNI) is carried along but ignored, like Pingora's {@code ext}.
 * Immutable.
 */
public final class Backend {
    /** An {@link InetSocketAddress} or a {@link UnixDomainSocketAddress}. */
    private final SocketAddress address;
    private final int weight;
    private final Map<String, Object> metadata;

    private Backend(SocketAddress address, int weight, Map<String, Object> metadata) {
        requireNonNull(address, "address");
        if (!(address instanceof InetSocketAddress) && !(address instanceof UnixDomainSocketAddress)) {
            throw new IllegalArgumentException("address: " + address
                    + " (expected: an InetSocketAddress or a UnixDomainSocketAddress)");
        }
        this.address = address;
        if (weight < 1) {
            throw new IllegalArgumentException("weight: " + weight + " (expected: >= 1)");
        }
        this.weight = weight;
        this.metadata = Map.copyOf(metadata);
    }

    /** A backend of weight 1 at {@code address}. */
    public static Backend of(InetSocketAddress address) {
        return new Backend(address, 1, Map.of());
    }

    /** A backend at {@code address} with {@code weight} (at least 1). */
    public static Backend of(InetSocketAddress address, int weight) {
        return new Backend(address, weight, Map.of());
    }

    /**
     * A backend at {@code address}, an {@link InetSocketAddress} or a {@link UnixDomainSocketAddress},
     * with {@code weight} (at least 1).
     *
     * @throws IllegalArgumentException for another kind of address
     */
    public static Backend of(SocketAddress address, int weight) {
        return new Backend(address, weight, Map.of());
    }

    /** A backend of weight 1 listening on the Unix-domain socket at {@code path}. */
    public static Backend unix(Path path) {
        return of(UnixDomainSocketAddress.of(requireNonNull(path, "path")), 1);
    }

    /**
     * Parses {@code host:port} (or {@code [v6]:port}) into a backend of weight 1, without resolving
     * the host: a literal IP stays literal, a name stays unresolved until connect time; or
     * {@code unix:/path/to.sock} into a Unix-domain socket backend.
     *
     * @throws IllegalArgumentException when the text is neither {@code host:port} nor {@code unix:/path}
     */
    public static Backend parse(String hostAndPort) {
        return of(Addresses.parse(hostAndPort), 1);
    }

    /**
     * The TCP address to connect to.
     *
     * @throws IllegalStateException for a Unix-domain socket backend ({@link #isUnix()}), which has
     *                               none: use {@link #socketAddress()}
     */
    public InetSocketAddress address() {
        if (address instanceof InetSocketAddress inet) {
            return inet;
        }
        throw new IllegalStateException("backend " + this + " is a unix socket (expected: socketAddress())");
    }

    /** The address to connect to: an {@link InetSocketAddress} or a {@link UnixDomainSocketAddress}. */
    public SocketAddress socketAddress() {
        return address;
    }

    /** Whether this backend is a Unix-domain socket rather than {@code host:port}. */
    public boolean isUnix() {
        return address instanceof UnixDomainSocketAddress;
    }

    /** The relative weight, at least 1. */
    public int weight() {
        return weight;
    }

    /** The opaque metadata, never null. */
    public Map<String, Object> metadata() {
        return metadata;
    }

    /** A copy with another weight. */
    public Backend withWeight(int weight) {
        return new Backend(address, weight, metadata);
    }

    /** A copy with the given metadata (ignored by equality). */
    public Backend withMetadata(Map<String, Object> metadata) {
        return new Backend(address, weight, requireNonNull(metadata, "metadata"));
    }

    /**
     * {@code host:port} as written in configuration, the literal IP when there is one;
     * {@code unix:/path} for a Unix-domain socket. Hash-based selection hashes this text.
     */
    public String hostAndPort() {
        return Addresses.format(address);
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof Backend other && weight == other.weight && address.equals(other.address);
    }

    @Override
    public int hashCode() {
        return 31 * address.hashCode() + weight;
    }

    @Override
    public String toString() {
        return weight == 1 ? hostAndPort() : hostAndPort() + " weight=" + weight;
    }
}
