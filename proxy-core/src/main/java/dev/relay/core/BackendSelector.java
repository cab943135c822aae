package dev.relay.core;

/**
 * Maps a key to backend indexes in the snapshot it was built for. Thread-safe and, on the hot path,
 * allocation-free: a selection is a first pick plus further picks when the caller rejects one
 * (unhealthy, or just failed).
 */
public interface BackendSelector {

    /** The number of backends in the snapshot. */
    int size();

    /** The backend at {@code index} of the snapshot. */
    Backend backend(int index);

    /** The first choice for {@code key} (ignored by key-less algorithms); -1 when there are no backends. */
    int first(byte[] key);

    /**
     * The next choice after {@code previous} was rejected, on the {@code attempt}-th pick (1 for the
     * second pick); -1 when the algorithm has nothing more to offer.
     */
    int next(byte[] key, int previous, int attempt);
}
