package dev.relay.core.cache;

import java.time.Duration;
import java.util.Objects;

/**
 * What the cache assumes where a response says nothing (Pingora's {@code CacheMetaDefaults}).
 *
 * @param heuristicFreshness   whether a response without explicit freshness but with {@code Last-Modified}
 *                             and a heuristically cacheable status is fresh for a tenth of its age
 *                             (RFC 9111 §4.2.2); off by default, as nginx
 * @param maxHeuristic         the cap of a heuristic freshness lifetime
 * @param staleWhileRevalidate the stale-while-revalidate window when the response gives none
 * @param staleIfError         the stale-if-error window when the response gives none
 */
public record CacheDefaults(boolean heuristicFreshness, Duration maxHeuristic, Duration staleWhileRevalidate,
                            Duration staleIfError) {
    /** Explicit freshness only; no stale serving the response does not allow. */
    public static final CacheDefaults RFC9111 = new CacheDefaults(false, Duration.ofDays(1), Duration.ZERO, Duration.ZERO);

    public CacheDefaults {
        Objects.requireNonNull(maxHeuristic, "maxHeuristic");
        Objects.requireNonNull(staleWhileRevalidate, "staleWhileRevalidate");
        Objects.requireNonNull(staleIfError, "staleIfError");
    }
}
