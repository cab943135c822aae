package dev.relay.filters.limits;

import dev.relay.core.Stages;
import dev.relay.filters.redis.RedisRateLimiter;
import org.jspecify.annotations.Nullable;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The {@link LimitStore} of a rate limit that several proxies share through Redis: the rate is a
 * {@link RedisRateLimiter}'s (one script per round trip, a local estimate in front), the in-flight limit
 * stays this process's ({@link LocalLimitStore}): requests in flight are a property of one instance, and a
 * count of them in Redis would leak the slots of an instance that died with requests open.
 *
 * <p>The limiter writes its decision straight into the request's verdict ({@link LimitVerdict#decided}):
 * 429 over the limit; when Redis cannot be asked, admitted without numbers (fail open) or 503 with
 * {@code Retry-After} (fail closed). A decision of the local estimate, or of the policy while Redis is
 * disconnected, is made on the caller's stack and returns the shared {@link Stages#done()}; a round trip
 * completes on the Redis client's I/O thread, and the module continues on the request's event loop.
 */
final class RedisLimitStore implements LimitStore {
    private final RedisRateLimiter limiter;
    private final @Nullable LocalLimitStore inFlight;
    private final Runnable onClose;
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * @param limiter the shared rate
     * @param inFlight the local in-flight limit, or null
     * @param onClose what {@link #close()} lets go of (the hold on a shared Redis client), run once
     */
    RedisLimitStore(RedisRateLimiter limiter, @Nullable LocalLimitStore inFlight, Runnable onClose) {
        this.limiter = limiter;
        this.inFlight = inFlight;
        this.onClose = onClose;
    }

    @Override
    public CompletionStage<Void> acquire(String key, LimitVerdict verdict) {
        if (inFlight != null) {
            inFlight.acquire(key, verdict);
            if (verdict.status != LimitVerdict.ADMITTED) {
                return Stages.done();
            }
        } else {
            verdict.clear();
        }
        CompletionStage<Void> decided = limiter.decideInto(key, verdict);
        if (decided == Stages.done()) {
            releaseIfRefused(verdict);
            return decided;
        }
        return decided.thenRun(() -> releaseIfRefused(verdict));
    }

    /** A request the rate refused gives its in-flight slot back at once. */
    private static void releaseIfRefused(LimitVerdict verdict) {
        if (verdict.status != LimitVerdict.ADMITTED) {
            verdict.releaseInFlight();
        }
    }

    @Override
    public void release(LimitVerdict verdict) {
        verdict.releaseInFlight();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            onClose.run();
        }
    }

    @Override
    public String toString() {
        return "redis(" + limiter.limit() + " per " + limiter.period() + ", when unavailable "
                + limiter.whenUnavailable() + (inFlight != null ? ", " + inFlight : "") + ")";
    }
}
