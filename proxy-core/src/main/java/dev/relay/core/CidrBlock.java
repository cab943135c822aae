package dev.relay.core;

import org.jspecify.annotations.Nullable;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

import static java.util.Objects.requireNonNull;

/**
 * A block of IP addresses in CIDR notation, IPv4 ({@code 10.0.0.0/8}) or IPv6 ({@code 2001:db8::/32});
 * a bare address is a block of one. Immutable.
 *
 * <pre>{@code
 * CidrBlock lan = CidrBlock.parse("10.0.0.0/8");
 * lan.contains(InetAddress.getByName("10.1.2.3"));   // true
 * }</pre>
 *
 * <p>An IPv4-mapped IPv6 address ({@code ::ffff:10.1.2.3}, what a dual-stack socket reports for an
 * IPv4 client) is matched as the IPv4 address it carries, so an IPv4 block covers it.
 */
public final class CidrBlock {
    private final byte[] network;
    private final int prefixLength;
    /** For an IPv4 block, the network as 32 big-endian bits and the prefix as a mask: one AND per check. */
    private final int ipv4Network;
    private final int ipv4Mask;

    private CidrBlock(byte[] network, int prefixLength) {
        this.network = network;
        this.prefixLength = prefixLength;
        boolean ipv4 = network.length == 4;
        // -1 << 32 is -1 in Java (the shift distance is taken mod 32), so /0 needs its own mask.
        this.ipv4Mask = ipv4 && prefixLength > 0 ? -1 << (32 - prefixLength) : 0;
        this.ipv4Network = ipv4 ? Ipv4Bits.fromBytes(network, 0) : 0;
    }

    /**
     * Parses {@code address/prefix} or a bare address (an IP literal, never a host name: no DNS).
     * Host bits set below the prefix ({@code 10.1.2.3/8}) are rejected: such a block usually hides a
     * typo, and nginx refuses it too ("low address bits are meaningless").
     *
     * @throws IllegalArgumentException naming the text and what was expected
     */
    public static CidrBlock parse(String text) {
        requireNonNull(text, "text");
        String value = text.trim();
        int slash = value.indexOf('/');
        String host = slash < 0 ? value : value.substring(0, slash);
        byte[] bytes = literal(host, text);
        int max = bytes.length * 8;
        int prefix = max;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(value.substring(slash + 1));
            } catch (NumberFormatException e) {
                prefix = -1;
            }
            if (prefix < 0 || prefix > max) {
                throw new IllegalArgumentException("CIDR: '" + text + "' (expected: a prefix length in 0.." + max + ")");
            }
        }
        for (int bit = prefix; bit < max; bit++) {
            if ((bytes[bit / 8] & (0x80 >>> (bit % 8))) != 0) {
                throw new IllegalArgumentException("CIDR: '" + text + "' (expected: no address bits after the /"
                        + prefix + " prefix)");
            }
        }
        return new CidrBlock(bytes, prefix);
    }

    private static byte[] literal(String host, String text) {
        boolean ipv6 = host.indexOf(':') >= 0;
        if (host.isEmpty() || (!ipv6 && !Addresses.isIpLiteral(host)) || host.indexOf('%') >= 0) {
            throw new IllegalArgumentException("CIDR: '" + text + "' (expected: an IP address/prefix, "
                    + "as 10.0.0.0/8 or 2001:db8::/32)");
        }
        try {
            // An IP literal never causes a lookup.
            return unmapped(InetAddress.getByName(host)).getAddress();
        } catch (UnknownHostException | RuntimeException e) {
            throw new IllegalArgumentException("CIDR: '" + text + "' (expected: an IP address/prefix, "
                    + "as 10.0.0.0/8 or 2001:db8::/32)");
        }
    }

    /**
     * Whether {@code address} lies in this block (an IPv4 block never holds an IPv6 address). An
     * {@link Inet4Address} is checked without allocating, for checks on every request.
     */
    public boolean contains(InetAddress address) {
        if (requireNonNull(address, "address") instanceof Inet4Address v4) {
            return containsIpv4(Ipv4Bits.of(v4));
        }
        byte[] bytes = address.getAddress();
        if (isIpv4Mapped(bytes)) {
            return containsIpv4(Ipv4Bits.fromBytes(bytes, 12));
        }
        if (bytes.length != network.length) {
            return false;
        }
        int whole = prefixLength / 8;
        for (int i = 0; i < whole; i++) {
            if (bytes[i] != network[i]) {
                return false;
            }
        }
        int rest = prefixLength % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xff << (8 - rest)) & 0xff;
        return (bytes[whole] & mask) == (network[whole] & mask);
    }

    /** Whether {@code address} is an IP socket address in this block (a unix-socket one never is). */
    public boolean contains(@Nullable SocketAddress address) {
        return address instanceof InetSocketAddress inet && inet.getAddress() != null && contains(inet.getAddress());
    }

    /** Whether this is an IPv4 block (a {@code /0..32} of 4-byte addresses). */
    public boolean isIpv4() {
        return network.length == 4;
    }

    /**
     * Whether the IPv4 address whose 32 bits are {@code address} (big-endian: {@code 10.1.2.3} is
     * {@code 0x0A010203}) lies in this block; false for an IPv6 block. Allocates nothing, for checks on
     * every request.
     */
    public boolean containsIpv4(int address) {
        return network.length == 4 && (address & ipv4Mask) == ipv4Network;
    }

    /** The prefix length, {@code 0..32} or {@code 0..128}. */
    public int prefixLength() {
        return prefixLength;
    }

    private static InetAddress unmapped(InetAddress address) {
        if (address instanceof Inet6Address) {
            byte[] b = address.getAddress();
            if (isIpv4Mapped(b)) {
                try {
                    return Inet4Address.getByAddress(Arrays.copyOfRange(b, 12, 16));
                } catch (UnknownHostException e) {
                    throw new AssertionError(e);
                }
            }
        }
        return address;
    }

    /** Whether {@code b} is an IPv4-mapped IPv6 address, {@code ::ffff:a.b.c.d}. */
    private static boolean isIpv4Mapped(byte[] b) {
        boolean mapped = b.length == 16 && b[10] == (byte) 0xff && b[11] == (byte) 0xff;
        for (int i = 0; i < 10 && mapped; i++) {
            mapped = b[i] == 0;
        }
        return mapped;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof CidrBlock other && prefixLength == other.prefixLength && Arrays.equals(network, other.network);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(network) + prefixLength;
    }

    /** {@code address/prefix}, as parsed. */
    @Override
    public String toString() {
        try {
            String host = InetAddress.getByAddress(network).getHostAddress();
            return host + "/" + prefixLength;
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** The 32 bits of an IPv4 address without the array {@link InetAddress#getAddress()} allocates. */
    static final class Ipv4Bits {
        /**
         * Whether {@code hashCode()} is the address: it is in OpenJDK ({@code Inet4Address.hashCode}
         * returns the holder's address) and in every JDK we know of, but it is not specified, so it
         * is checked once and {@link InetAddress#getAddress()} used otherwise.
         */
        private static final boolean HASH_IS_ADDRESS = probe();

        private Ipv4Bits() {}

        static int of(Inet4Address address) {
            return HASH_IS_ADDRESS ? address.hashCode() : fromBytes(address.getAddress(), 0);
        }

        /** The four bytes of {@code b} from {@code offset} as big-endian bits. */
        static int fromBytes(byte[] b, int offset) {
            return (b[offset] & 0xff) << 24 | (b[offset + 1] & 0xff) << 16 | (b[offset + 2] & 0xff) << 8
                    | (b[offset + 3] & 0xff);
        }

        private static boolean probe() {
            try {
                for (byte[] sample : new byte[][] {{10, 1, 2, 3}, {(byte) 192, (byte) 168, (byte) 255, 1}, {(byte) 255, 0, 0, (byte) 254}}) {
                    if (InetAddress.getByAddress(sample).hashCode() != fromBytes(sample, 0)) {
                        return false;
                    }
                }
                return true;
            } catch (UnknownHostException e) {
                return false;
            }
        }
    }
}
