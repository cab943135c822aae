package dev.relay.lb.internal;

import java.nio.charset.StandardCharsets;

/**
 * The hash functions of the hashing selectors, all allocation-free and stable across processes and
 * versions (proxies that share a backend list must agree on every pick).
 */
public final class Hashing {
    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;
    private static final int[] CRC_TABLE = crcTable();

    private Hashing() {}

    /** FNV-1a, 64 bits, over all of {@code data}. */
    public static long fnv1a64(byte[] data) {
        long h = FNV_OFFSET;
        for (byte b : data) {
            h ^= b & 0xff;
            h *= FNV_PRIME;
        }
        return h;
    }

    /** FNV-1a, 64 bits, over the UTF-8 bytes of {@code text} (build time only: it allocates). */
    public static long fnv1a64(String text) {
        return fnv1a64(text.getBytes(StandardCharsets.UTF_8));
    }

    /** A strong 64-bit finaliser (the SplitMix64 / MurmurHash3 fmix64 mixer): every input bit affects every output bit. */
    public static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** The standard CRC-32 (IEEE 802.3, as zlib and nginx's {@code ngx_crc32_long}) of {@code data}. */
    public static int crc32(byte[] data) {
        return ~crc32Update(~0, data, 0, data.length);
    }

    /**
     * Continues a CRC-32 whose running (not yet finalised, that is not inverted) register is
     * {@code crc} over {@code data[from, to)}; start from {@code ~0} and invert at the end.
     */
    public static int crc32Update(int crc, byte[] data, int from, int to) {
        int c = crc;
        for (int i = from; i < to; i++) {
            c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
        }
        return c;
    }

    private static int[] crcTable() {
        int[] table = new int[256];
        for (int n = 0; n < 256; n++) {
            int c = n;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) != 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
            }
            table[n] = c;
        }
        return table;
    }
}
