package dev.relay.filters.limits;

import dev.relay.filters.redis.RateLimitDecision.Basis;
import dev.relay.filters.redis.RedisRateLimiter.DecisionSink;
import org.jspecify.annotations.Nullable;

/**
 * One request's answer from a {@link LimitStore}: admitted or refused, and the numbers for the
 * {@code RateLimit} and {@code Retry-After} fields. Mutable, written by the store, then read on the
 * request's event loop (a store answering from another thread publishes it by completing its stage).
 *
 * <p>It is also where a shared limit on Redis writes its decision ({@link DecisionSink}), so that a
 * decision the local estimate makes allocates nothing.
 */
class LimitVerdict implements DecisionSink {
    /** The verdict's status: admitted. */
    static final int ADMITTED = 0;

    /**
     * 0 when admitted; otherwise the status to answer with: 429 over the rate, 503 over the in-flight
     * limit or, with {@link #retryAfterSeconds}, when the shared store cannot decide and fails closed.
     */
    int status;
    /** Requests (tokens) left in the quota after this one; -1 when no rate limit applies or nobody knows. */
    long remaining = -1;
    /** Seconds until the quota is reset (window end, bucket full); with a refusal, until a retry may succeed. */
    long resetSeconds;
    /** With a 429, or a 503 of a store that cannot decide: seconds until a retry may succeed (at least 1); else 0. */
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

    /** Admitted, with {@code left} requests left in a quota reset in {@code resetNanos}. */
    void admit(long left, long resetNanos) {
        remaining = left;
        resetSeconds = LocalLimitStore.ceilSeconds(resetNanos);
    }

    /** Refused with 429: over the rate, a retry may succeed in {@code waitNanos}. */
    void refuse(long waitNanos) {
        status = 429;
        remaining = 0;
        retryAfterSeconds = LocalLimitStore.ceilSeconds(waitNanos);
        resetSeconds = retryAfterSeconds;
    }

    /** Gives back the in-flight slot, if any (once: a permit releases once). */
    void releaseInFlight() {
        Inflight.Permit permit = inFlight;
        if (permit != null) {
            permit.release();
        }
    }

    /**
     * A shared limit's decision. When Redis could not be asked, an admission carries no numbers (how much is
     * left is unknown, so the {@code RateLimit} fields are left off) and a refusal is a 503 with
     * {@code Retry-After}: the limit is not known to be exceeded, the proxy cannot decide, so 429 would tell
     * the client something false.
     */
    @Override
    public void decided(boolean allowed, long left, long resetAfterNanos, long retryAfterNanos, Basis basis) {
        if (basis == Basis.REDIS_UNAVAILABLE) {
            remaining = -1;
            if (!allowed) {
                status = 503;
                retryAfterSeconds = LocalLimitStore.ceilSeconds(retryAfterNanos);
            }
        } else if (allowed) {
            admit(left, resetAfterNanos);
        } else {
            refuse(retryAfterNanos);
        }
    }
}
