package dev.relay.core.cache;

/** What {@link dev.relay.core.ProxyHttp#cacheHitFilter} may impose on a stored response it found. */
public enum ForcedFreshness {
    /** Treat it as absent: the request goes to the origin and its answer replaces the object. */
    FORCE_MISS,
    /** Treat it as stale: it is revalidated with the origin (or served stale where that is allowed). */
    FORCE_EXPIRED,
    /** Treat it as fresh, whatever its age. */
    FORCE_FRESH
}
