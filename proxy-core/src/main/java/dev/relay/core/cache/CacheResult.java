package dev.relay.core.cache;

/**
 * What the cache did for one request, for logs, metrics and the {@code Cache-Status} field
 * (RFC 9211). Reported by {@link SessionCache#result()}; settles when the response header is written.
 */
public enum CacheResult {
    /** Caching was not enabled for the request. */
    DISABLED,
    /** Enabled, but the request cannot use the cache (its method, a range of an absent object ...): it went upstream as it was. */
    BYPASS,
    /** Not in the cache: fetched from the origin (and stored, when the response allowed it). */
    MISS,
    /** Another request was fetching the same object: this one waited and was served from that fetch. */
    COLLAPSED,
    /** Served from the cache, fresh. */
    HIT,
    /** Served stale from the cache: while it is revalidated in the background, or because the origin failed. */
    STALE,
    /** Stored but stale (or the client asked for a check): the origin confirmed it with a 304, and it was served from the cache. */
    REVALIDATED,
    /** Stored but stale: the origin's revalidation answer brought a new response, which replaced it. */
    EXPIRED,
    /** A purge request. */
    PURGE
}
