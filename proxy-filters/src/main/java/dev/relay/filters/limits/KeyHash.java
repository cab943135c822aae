package dev.relay.filters.limits;

import java.util.concurrent.ThreadLocalRandom;

/**
 * How the sketches find a key's counters, without allocating: a key is hashed once to 64 bits with a
 * random per-instance seed, and each row of a sketch derives its own slot from that hash.
 *
 * <p>The seed is random so that nobody outside the process can compute which keys share counters
 * (an attacker choosing keys that collide with a victim's would make the victim look busier). The
 * mixing is not cryptographic: it is the finalizer of MurmurHash3 over an FNV-1a style accumulation,
 * chosen for speed on short keys (addresses, header values).
 */
final class KeyHash {
    private static final long MULTIPLIER = 0x100000001b3L;
    /** One odd constant per row, so that the rows of a sketch pick independent slots from one hash. */
    private static final long[] ROW_SALTS = {
        0x9e3779b97f4a7c15L, 0xc2b2ae3d27d4eb4fL, 0x165667b19e3779f9L, 0xd6e8feb86659fd93L,
        0xff51afd7ed558ccdL, 0xc4ceb9fe1a85ec53L, 0x27d4eb2f165667c5L, 0x85ebca77c2b2ae63L,
    };

    /** The most rows a sketch may have. */
    static final int MAX_ROWS = ROW_SALTS.length;

    private final long seed;

    KeyHash() {
        this(ThreadLocalRandom.current().nextLong());
    }

    KeyHash(long seed) {
        this.seed = seed;
    }

    long hash(long key) {
        return mix(key ^ seed);
    }

    long hash(CharSequence key) {
        long h = seed;
        for (int i = 0, n = key.length(); i < n; i++) {
            h = (h ^ key.charAt(i)) * MULTIPLIER;
        }
        return mix(h ^ key.length());
    }

    long hash(byte[] key) {
        long h = seed;
        for (byte b : key) {
            h = (h ^ (b & 0xff)) * MULTIPLIER;
        }
        return mix(h ^ key.length);
    }

    /** The index, in a sketch's flat array of {@code rows x (mask + 1)} cells, of {@code hash}'s cell in {@code row}. */
    static int cell(long hash, int row, int mask) {
        return row * (mask + 1) + (int) (mix(hash ^ ROW_SALTS[row]) & mask);
    }

    /** MurmurHash3's 64-bit finalizer: every input bit affects every output bit. */
    private static long mix(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    /** Checks a sketch's shape and returns the slot mask (slots rounded up to a power of two, minus one). */
    static int slotMask(int hashes, int slots) {
        if (hashes < 1 || hashes > MAX_ROWS) {
            throw new IllegalArgumentException("hashes: " + hashes + " (expected: 1 to " + MAX_ROWS + ")");
        }
        if (slots < 1 || slots > 1 << 24) {
            throw new IllegalArgumentException("slots: " + slots + " (expected: 1 to " + (1 << 24) + ")");
        }
        int rounded = Integer.highestOneBit(slots);
        if (rounded < slots) {
            rounded <<= 1;
        }
        return rounded - 1;
    }
}
