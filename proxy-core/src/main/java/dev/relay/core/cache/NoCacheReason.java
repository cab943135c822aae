package dev.relay.core.cache;

/** Why a response was not stored (Pingora's {@code NoCacheReason}); shown in logs and metrics. */
public enum NoCacheReason {
    /** The request's method is not GET (HEAD is answered from a stored GET, never stored itself). */
    METHOD,
    /** {@code no-store} in the request or the response. */
    NO_STORE,
    /** {@code private}: a shared cache must not store it. */
    PRIVATE,
    /** The request had {@code Authorization} and the response does not allow a shared cache to reuse it. */
    AUTHORIZATION,
    /** {@code Vary: *}: no later request can match it. */
    VARY_STAR,
    /** The response sets a cookie (as nginx, a shared cache does not hand one client's cookie to others). */
    SET_COOKIE,
    /** A status the cache does not store (a partial response, or one it does not understand). */
    STATUS,
    /** No explicit freshness, a validator to revalidate with neither, and heuristic freshness is off. */
    NO_FRESHNESS,
    /** Larger than the storage's maximum object size: it streamed through. */
    RESPONSE_TOO_LARGE,
    /** The origin failed or the exchange broke before the body was complete. */
    UPSTREAM_ERROR,
    /** The wait for another request's fill of this key timed out. */
    LOCK_TIMEOUT,
    /** A filter ({@code responseCacheFilter}) declined it. */
    DECLINED,
    /** The storage could not keep it. */
    STORAGE_ERROR
}
