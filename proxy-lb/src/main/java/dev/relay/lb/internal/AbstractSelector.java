package dev.relay.lb.internal;

import dev.relay.core.Backend;
import dev.relay.core.BackendSelector;

import java.util.List;

/**
 * What the weighted selectors share: the snapshot's backends and weights, and the fallback rule
 * that guarantees coverage. Fallback picks {@code 1 .. size-1} are algorithm-specific (weighted,
 * never the previous pick); from pick {@code size} on, the selector walks the list in index order
 * from the previous pick, so a caller that dedups and allows {@code 2 × size} iterations sees
 * every backend.
 */
abstract class AbstractSelector implements BackendSelector {
    final Backend[] backends;
    final WeightTable weights;
    final int size;

    AbstractSelector(List<Backend> backends) {
        this.backends = backends.toArray(new Backend[0]);
        this.weights = WeightTable.of(backends);
        this.size = this.backends.length;
    }

    @Override
    public final int size() {
        return size;
    }

    @Override
    public final Backend backend(int index) {
        return backends[index];
    }

    @Override
    public final int next(byte[] key, int previous, int attempt) {
        if (size <= 1) {
            return -1;
        }
        if (previous < 0 || previous >= size) {
            return first(key);
        }
        if (attempt >= size) {
            return previous + 1 == size ? 0 : previous + 1;
        }
        return nextOther(key, previous, attempt);
    }

    /**
     * A pick other than {@code previous} (a valid index, and there are at least two backends) on
     * the {@code attempt}-th pick, {@code 1 <= attempt < size}.
     */
    abstract int nextOther(byte[] key, int previous, int attempt);
}
