package dev.relay.filters.limits;

import org.jspecify.annotations.Nullable;

/**
 * One request's answer from a {@link LimitStore}: admitted or refused, and the numbers for the
 * {@code RateLimit} and {@code Retry-After} fields. Mutable, written by the store, then read on the
 * request's event loop (a store answering from another thread publishes it by completing its stage).
 */
class LimitVerdict {
    /** The verdict's status: admitted. */
    static final int ADMITTED = 0;

    /** 0 when admitted; otherwise the status to answer with (429 over the rate, 503 over the in-flight limit). */
    int status;
    /** Requests (tokens) left in the quota after this one; -1 when no rate limit applies. */
    long remaining = -1;
    /** Seconds until the quota is reset (window end, bucket full); with a refusal, until a retry may succeed. */
    long resetSeconds;
    /** With a 429: seconds until a retry may succeed (at least 1). */
    long retryAfterSeconds;
    /** The in-flight slot this request holds (the local store's), released once when the request ends. */
    Inflight.@Nullable Permit inFlight;

    void clear() {
        status = ADMITTED;
        remaining = -1;
        resetSeconds = 0;
        retryAfterSeconds = 0;
        inFlight = null;
    }
}
