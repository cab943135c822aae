package dev.relay.core;

/** Whether a failed attempt may be tried again, as Pingora's {@code RetryType}. */
public enum RetryType {
    /** Never retry. */
    NO,
    /** Retry: nothing that matters reached the upstream. */
    YES,
    /**
     * Retry only if the failed connection came from the pool and the request body can be replayed:
     * a reused connection that the upstream had already closed is the classic keep-alive race.
     * {@link ProxyHttp#errorWhileProxy}'s default turns this into {@link #YES} or {@link #NO}.
     */
    REUSED_ONLY
}
