package dev.relay.lb.internal;

import dev.relay.core.Backend;

import java.util.List;

/**
 * Weighted FNV hashing over one snapshot: the FNV-1a (64-bit) hash of the key, reduced modulo the
 * total weight, picks a position in the {@link WeightTable}. The same key always picks the same
 * backend while the set stays the same (any change remaps most keys: use Ketama or Maglev for
 * consistency). Fallback picks are deterministic too: the hash re-mixed with the attempt number,
 * weighted among the backends other than the previous pick.
 */
public final class FnvHashSelector extends AbstractSelector {
    private static final long GOLDEN_64 = 0x9E3779B97F4A7C15L;

    /** A selector over {@code backends}. */
    public FnvHashSelector(List<Backend> backends) {
        super(backends);
    }

    @Override
    public int first(byte[] key) {
        if (size <= 1) {
            return size - 1;
        }
        long h = Hashing.fnv1a64(key);
        if (weights.isUniform()) {
            return (int) Long.remainderUnsigned(h, size);
        }
        return weights.indexAt((int) Long.remainderUnsigned(h, weights.total()));
    }

    @Override
    int nextOther(byte[] key, int previous, int attempt) {
        long h = Hashing.mix64(Hashing.fnv1a64(key) + attempt * GOLDEN_64);
        if (weights.isUniform()) {
            int k = (int) Long.remainderUnsigned(h, size - 1);
            return k >= previous ? k + 1 : k;
        }
        int others = weights.total() - weights.weight(previous);
        return weights.indexAtExcluding(previous, (int) Long.remainderUnsigned(h, others));
    }
}
