package dev.relay.lb.internal;

import dev.relay.core.Backend;

import java.util.Arrays;
import java.util.List;

/**
 * Maglev consistent hashing (Eisenbud et al., NSDI 2016) over one snapshot: a lookup table of
 * prime size {@code M} filled by letting the backends take turns, each claiming the next free slot
 * of its own permutation {@code (offset + j × skip) mod M}, where offset and skip come from a hash
 * of its {@code host:port}. A key's pick is one table read, so selection is O(1) whatever the set
 * size, and a change of the set moves little more than the share of the backend added or removed.
 *
 * <p>Weights: a backend takes turns in proportion to its weight (the backend whose next turn is
 * due earliest, {@code (turns + 1) / weight}, goes next; ties by list order), so its share of the
 * table is its share of the total weight. With equal weights this is the paper's round-robin fill.
 *
 * <p>{@code M} is the smallest prime at or above {@code 100 × n}, at least 65,537 and at most
 * about 2^24: within 1% of the ideal share per backend for sets of up to 167,000 backends. The
 * table costs 4 bytes per slot. Fallback picks are deterministic per key: the key's hash re-mixed
 * with the attempt number, skipping the previous pick.
 */
public final class MaglevSelector extends AbstractSelector {
    /** The smallest table. */
    public static final int MIN_TABLE_SIZE = 65_537;
    /** The largest table size asked for (the prime found may be a little larger). */
    public static final int MAX_TABLE_SIZE = 1 << 24;

    private static final long GOLDEN_64 = 0x9E3779B97F4A7C15L;
    private static final long OFFSET_SEED = 0x6a09e667f3bcc908L;
    private static final long SKIP_SEED = 0xbb67ae8584caa73bL;
    private static final int WALK_LIMIT = 64;

    private final int[] table;

    /** The table of {@code backends}. */
    public MaglevSelector(List<Backend> backends) {
        super(backends);
        this.table = size == 0 ? new int[0] : fill();
    }

    /** The table size {@code M} for {@code n} backends. */
    public static int tableSize(int n) {
        long wanted = Math.max(MIN_TABLE_SIZE, Math.min((long) n * 100, MAX_TABLE_SIZE));
        return nextPrime((int) Math.max(wanted, (long) n * 2 + 1));
    }

    /** The number of table slots. */
    public int tableSize() {
        return table.length;
    }

    private int[] fill() {
        int m = tableSize(size);
        int[] slots = new int[m];
        Arrays.fill(slots, -1);
        int[] position = new int[size];
        int[] skip = new int[size];
        int[] weight = weights.weights();
        for (int i = 0; i < size; i++) {
            long h = Hashing.fnv1a64(backends[i].hostAndPort());
            position[i] = (int) Long.remainderUnsigned(Hashing.mix64(h ^ OFFSET_SEED), m);
            skip[i] = (int) Long.remainderUnsigned(Hashing.mix64(h ^ SKIP_SEED), m - 1) + 1;
        }
        // A min-heap of backends ordered by when their next turn is due: (turns + 1) / weight.
        long[] turns = new long[size];
        int[] heap = new int[size];
        for (int i = 0; i < size; i++) {
            heap[i] = i;
        }
        for (int k = size / 2 - 1; k >= 0; k--) {
            siftDown(heap, k, turns, weight);
        }
        for (int filled = 0; filled < m; filled++) {
            int b = heap[0];
            int c = position[b];
            while (slots[c] >= 0) {
                c += skip[b];
                if (c >= m) {
                    c -= m;
                }
            }
            slots[c] = b;
            c += skip[b];
            position[b] = c >= m ? c - m : c;
            turns[b]++;
            siftDown(heap, 0, turns, weight);
        }
        return slots;
    }

    // a before b when a's next turn is due earlier, or at the same time and a is listed first.
    private static boolean before(int a, int b, long[] turns, int[] weight) {
        long x = (turns[a] + 1) * weight[b];
        long y = (turns[b] + 1) * weight[a];
        return x < y || (x == y && a < b);
    }

    private static void siftDown(int[] heap, int k, long[] turns, int[] weight) {
        int n = heap.length;
        int item = heap[k];
        for (;;) {
            int child = 2 * k + 1;
            if (child >= n) {
                break;
            }
            if (child + 1 < n && before(heap[child + 1], heap[child], turns, weight)) {
                child++;
            }
            if (!before(heap[child], item, turns, weight)) {
                break;
            }
            heap[k] = heap[child];
            k = child;
        }
        heap[k] = item;
    }

    static int nextPrime(int n) {
        int c = Math.max(2, n);
        while (!isPrime(c)) {
            c++;
        }
        return c;
    }

    private static boolean isPrime(int c) {
        if (c < 4) {
            return c >= 2;
        }
        if (c % 2 == 0) {
            return false;
        }
        for (int d = 3; (long) d * d <= c; d += 2) {
            if (c % d == 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int first(byte[] key) {
        if (size <= 1) {
            return size - 1;
        }
        return table[(int) Long.remainderUnsigned(Hashing.mix64(Hashing.fnv1a64(key)), table.length)];
    }

    @Override
    int nextOther(byte[] key, int previous, int attempt) {
        long h = Hashing.mix64(Hashing.fnv1a64(key) + attempt * GOLDEN_64);
        int m = table.length;
        int slot = (int) Long.remainderUnsigned(h, m);
        for (int i = 0; i < WALK_LIMIT; i++) {
            int candidate = table[slot];
            if (candidate != previous) {
                return candidate;
            }
            slot = slot + 1 == m ? 0 : slot + 1;
        }
        // previous owns a long run of the table (a dominant weight): a weighted pick among the others.
        int others = weights.total() - weights.weight(previous);
        return weights.indexAtExcluding(previous, (int) Long.remainderUnsigned(h, others));
    }
}
