package dev.relay.core;

import org.jspecify.annotations.Nullable;

import java.net.InetSocketAddress;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * One server that a load balancer may pick: an address, a weight and opaque metadata.
 *
 * <p>Identity ({@code equals}/{@code hashCode}) is the address and the weight; the metadata
 * (for example a per-backend SNI) is carried along but ignored, like Pingora's {@code ext}.
 * Immutable.
 */
public final class Backend {
    private final InetSocketAddress address;
    private final int weight;
    private final Map<String, Object> metadata;

    private Backend(InetSocketAddress address, int weight, Map<String, Object> metadata) {
        this.address = requireNonNull(address, "address");
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
     * Parses {@code host:port} (or {@code [v6]:port}) into a backend of weight 1, without resolving
     * the host: a literal IP stays literal, a name stays unresolved until connect time.
     *
     * @throws IllegalArgumentException when the text is not {@code host:port}
     */
    public static Backend parse(String hostAndPort) {
        return of(Addresses.parseHostPort(hostAndPort));
    }

    /** The address to connect to. */
    public InetSocketAddress address() {
        return address;
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

    /** {@code host:port} as written in configuration, the literal IP when there is one. */
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
