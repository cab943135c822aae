package dev.relay.filters.redis;

import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * The answer of a shared rate limit for one request.
 *
 * @param allowed whether the request may go on
 * @param limit the limit of the window (requests per period)
 * @param remaining how many more requests the key may make now, as far as this instance knows (0 when denied;
 *        the limit itself when Redis could not be asked, see {@link Basis#REDIS_UNAVAILABLE})
 * @param resetAfter until the current fixed window ends (the IETF {@code RateLimit} field's {@code t})
 * @param retryAfter when denied, how long until a request would be allowed if no other came meanwhile
 *        ({@code Retry-After}); zero when allowed
 * @param basis what the decision rests on
 */
public record RateLimitDecision(boolean allowed, long limit, long remaining, Duration resetAfter, Duration retryAfter,
        Basis basis) {

    /** What a decision rests on. */
    public enum Basis {
        /** This instance's estimate: the last count Redis gave plus what this instance allowed since. No round trip. */
        LOCAL,
        /** A round trip: the script counted the request in Redis and decided on the global count. */
        REDIS,
        /** Redis could not be asked (disconnected, timed out, full queue): the configured failure policy decided. */
        REDIS_UNAVAILABLE
    }

    /** Checks the values. */
    public RateLimitDecision {
        requireNonNull(resetAfter, "resetAfter");
        requireNonNull(retryAfter, "retryAfter");
        requireNonNull(basis, "basis");
        if (remaining < 0 || remaining > limit) {
            throw new IllegalArgumentException("remaining: " + remaining + " (expected: 0 to " + limit + ")");
        }
    }
}
