package dev.relay.core.cache;

/**
 * A snapshot of one storage tier, for metrics and the admin listener.
 *
 * @param tier      the tier's name ({@code memory}, {@code disk})
 * @param entries   objects stored
 * @param bytes     bytes stored (bodies and metadata as weighed)
 * @param maxBytes  the tier's size cap
 * @param evictions objects evicted by the size policy since start (not purges, not expiries)
 */
public record CacheTierStats(String tier, long entries, long bytes, long maxBytes, long evictions) {}
