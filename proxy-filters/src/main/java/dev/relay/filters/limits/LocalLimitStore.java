package dev.relay.filters.limits;

import dev.relay.core.Stages;
import dev.relay.filters.internal.SlidingWindow;
import org.jspecify.annotations.Nullable;

import java.util.concurrent.CompletionStage;

/**
 * The {@link LimitStore} of one filter instance in this process: a sliding window over a {@link Rate}
 * or a {@link TokenBucket} for the rate, an {@link Inflight} for the concurrency. Answers at once, on
 * the caller's thread, without allocating (but the in-flight permit).
 *
 * <p>The in-flight limit is checked first, so a request refused with 503 spends no rate quota; a
 * request refused with 429 gives its in-flight slot back at once.
 */
final class LocalLimitStore implements LimitStore {
    private static final double NANOS_PER_SECOND = 1e9;

    private final @Nullable Rate window;
    private final long limit;
    private final @Nullable TokenBucket bucket;
    private final @Nullable Inflight inflight;
    private final long maxInFlight;

    /**
     * @param window the sliding window's counters (then {@code limit} per its period), or null
     * @param bucket the token buckets, or null (at most one of {@code window} and {@code bucket})
     * @param inflight the in-flight counters (then at most {@code maxInFlight} per key), or null
     */
    LocalLimitStore(@Nullable Rate window, long limit, @Nullable TokenBucket bucket,
                    @Nullable Inflight inflight, long maxInFlight) {
        this.window = window;
        this.limit = limit;
        this.bucket = bucket;
        this.inflight = inflight;
        this.maxInFlight = maxInFlight;
    }

    @Override
    public CompletionStage<Void> acquire(String key, LimitVerdict verdict) {
        verdict.clear();
        if (inflight != null) {
            Inflight.Permit permit = inflight.acquire(key);
            if (permit.count() > maxInFlight) {
                permit.release();
                verdict.status = 503;
                return Stages.done();
            }
            verdict.inFlight = permit;
        }
        if (window != null) {
            admitSliding(window, key, verdict);
        } else if (bucket != null) {
            admitBucket(bucket, key, verdict);
        }
        if (verdict.status != LimitVerdict.ADMITTED) {
            release(verdict);
        }
        return Stages.done();
    }

    @Override
    public void release(LimitVerdict verdict) {
        verdict.releaseInFlight();
    }

    /**
     * The sliding window: the request counts into the current window, and is refused (and its count
     * taken back) when the {@link SlidingWindow#estimate} exceeds the limit; the refusal says how long until
     * one more request fits, if no other comes ({@link SlidingWindow#retryAfter}).
     */
    private void admitSliding(Rate rate, String key, LimitVerdict verdict) {
        long keyHash = rate.keyHash().hash(key);
        long elapsed = rate.rollWindows();
        long windowStart = rate.windowStartNanos();
        int slot = rate.currentSlot();
        Estimator current = rate.window(slot);
        long counted = current.incrHashed(keyHash, 1);
        long previous = Math.max(0, rate.window(slot ^ 1).getHashed(keyHash));
        long period = rate.periodNanos();
        double estimate = SlidingWindow.estimate(previous, counted, elapsed, period);
        if (estimate <= limit) {
            verdict.admit((long) Math.floor(limit - estimate), period - elapsed);
            return;
        }
        // Undo in the same estimator, so a window that started meanwhile is not charged; not at all when one
        // started, since its roll may have cleared this estimator (Rate.uncount).
        rate.uncount(keyHash, slot, windowStart);
        long admitted = Math.max(0, counted - 1);
        verdict.refuse(SlidingWindow.retryAfter(limit, previous, admitted, elapsed, period));
    }

    private static void admitBucket(TokenBucket buckets, String key, LimitVerdict verdict) {
        long now = buckets.now();
        long result = buckets.acquireHashed(buckets.keyHash().hash(key), 1, now);
        if (result > 0) {
            verdict.admit(buckets.tokensAt(result, now), result - now);
        } else {
            verdict.refuse(-result);
        }
    }

    /** Whole seconds, rounded up, at least 1 (a {@code Retry-After: 0} would invite an immediate retry). */
    static long ceilSeconds(long nanos) {
        return Math.max(1, (long) Math.ceil(nanos / NANOS_PER_SECOND));
    }

    @Override
    public String toString() {
        return "LocalLimitStore(" + (window != null ? limit + " per " + window.period() : bucket != null ? bucket : "no rate")
                + (inflight != null ? ", " + maxInFlight + " in flight" : "") + ")";
    }
}
