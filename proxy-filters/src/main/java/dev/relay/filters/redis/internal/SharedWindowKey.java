package dev.relay.filters.redis.internal;

import dev.relay.filters.redis.RateLimitDecision.Basis;
import dev.relay.filters.redis.RedisRateLimiter.DecisionSink;

/**
 * One instance's view of one key of a shared sliding-window limit: the last count Redis reported, and what
 * this instance has allowed since without asking. Decides locally when that is safe, and says when to
 * report its local count to Redis.
 *
 * <p>The window is Redis' own: two fixed windows of {@code period}, the previous one weighted by the part of
 * it the sliding window still covers ({@code previous * (period - elapsed) / period + current}). Without new
 * requests that estimate only falls with time (at a window's end the current count becomes the previous one
 * at full weight, then fades), so an old estimate is an upper bound of the key's count as far as this
 * instance's knowledge goes: deciding on it never lets more through than a fresh one would; it only makes
 * this instance ask Redis sooner.
 *
 * <p>The local allowance: this instance lets through, without a round trip, at most
 * {@code min(syncEvery, (limit - known) / 2)} requests that Redis has not acknowledged. Half of what was left
 * leaves the other half to the other instances, and the cap bounds how far all instances together can go over
 * the limit between two reports (about {@code instances * syncEvery}). A key close to its limit therefore goes
 * to Redis on every request, and a key far from it almost never.
 *
 * <p>Thread-safe: every method holds the object's lock for a few arithmetic operations.
 */
public final class SharedWindowKey {
    /** What the script reported: the fixed windows' counts and how far into the current one Redis' clock is. */
    public record Counts(boolean allowed, long current, long previous, long elapsedMillis) {}

    private final long limit;
    private final long periodMillis;
    private final int syncEvery;
    private final long syncIntervalNanos;

    private boolean known;
    private double estimate;
    private long inFlight;
    private long unsynced;
    private long lastReplyNanos;
    private long windowEndNanos;
    private long deniedUntilNanos;
    private boolean reportInFlight;

    /** A key nobody has asked Redis about yet: its first decision is a round trip. */
    public SharedWindowKey(long limit, long periodMillis, int syncEvery, long syncIntervalNanos) {
        this.limit = limit;
        this.periodMillis = periodMillis;
        this.syncEvery = syncEvery;
        this.syncIntervalNanos = syncIntervalNanos;
    }

    /** The numbers of a decision Redis answered. */
    public record Local(boolean allowed, long remaining, long resetAfterNanos, long retryAfterNanos) {}

    /**
     * Decides locally when it can: denied while a denial Redis gave still holds; allowed while this instance's
     * unacknowledged requests stay within its allowance (then counted as unsynced). The decision goes to
     * {@code sink} (with {@link Basis#LOCAL}), called under this key's lock: it must only store the numbers.
     *
     * @return whether it decided; false when Redis must be asked (then {@code sink} was not called)
     */
    public synchronized boolean tryLocally(long now, DecisionSink sink) {
        if (!known) {
            return false;
        }
        if (now - deniedUntilNanos < 0) {
            sink.decided(false, 0, Math.max(0, windowEndNanos - now), deniedUntilNanos - now, Basis.LOCAL);
            return true;
        }
        long pending = inFlight + unsynced;
        long allowance = Math.min(syncEvery, (long) Math.floor((limit - estimate) / 2));
        if (pending + 1 > allowance) {
            return false;
        }
        unsynced++;
        long remaining = (long) Math.floor(limit - estimate - pending - 1);
        sink.decided(true, Math.max(0, Math.min(limit, remaining)), Math.max(0, windowEndNanos - now), 0, Basis.LOCAL);
        return true;
    }

    /**
     * Whether to report the unsynced count to Redis now, in the background: when half the allowance is used
     * (so the next report's answer comes before this instance has to wait for one) or the count is older than
     * the sync interval. At most one report is in flight per key; true reserves it.
     */
    public synchronized boolean startReport(long now) {
        if (reportInFlight || unsynced == 0) {
            return false;
        }
        if (unsynced >= Math.max(1, syncEvery / 2) || now - lastReplyNanos >= syncIntervalNanos) {
            reportInFlight = true;
            return true;
        }
        return false;
    }

    /** Moves the unsynced count into flight and returns it: the delta a script call carries. */
    public synchronized long takeUnsynced() {
        long delta = unsynced;
        unsynced = 0;
        inFlight += delta;
        return delta;
    }

    /**
     * Takes in what the script reported for a call that carried {@code delta}; a denial it gave holds locally
     * until a request would be allowed again.
     *
     * @return the decision's numbers: remaining and reset, and retry-after when denied
     */
    public synchronized Local replied(long delta, boolean report, Counts counts, long now) {
        inFlight -= delta;
        if (report) {
            reportInFlight = false;
        }
        known = true;
        estimate = estimate(counts.previous(), counts.current(), counts.elapsedMillis(), periodMillis);
        lastReplyNanos = now;
        long untilWindowEnd = (periodMillis - counts.elapsedMillis()) * 1_000_000;
        windowEndNanos = now + untilWindowEnd;
        long remaining = Math.max(0, Math.min(limit, (long) Math.floor(limit - estimate - inFlight - unsynced)));
        if (counts.allowed() || report) {
            return new Local(true, remaining, untilWindowEnd, 0);
        }
        long retryAfter = retryAfterMillis(limit, counts.previous(), counts.current(), counts.elapsedMillis(), periodMillis)
                * 1_000_000;
        deniedUntilNanos = now + retryAfter;
        return new Local(false, 0, untilWindowEnd, retryAfter);
    }

    /**
     * A call that carried {@code delta} failed: forget everything, so the next decision asks Redis (and meets
     * the failure policy at once while Redis is down) instead of deciding on a count that may be gone.
     */
    public synchronized void failed(long delta, boolean report) {
        inFlight -= delta;
        if (report) {
            reportInFlight = false;
        }
        known = false;
        unsynced = 0;
        deniedUntilNanos = 0;
    }

    /** The sliding-window count: the previous window weighted by how much of it the window still covers. */
    static double estimate(long previous, long current, long elapsedMillis, long periodMillis) {
        return previous * (double) (periodMillis - elapsedMillis) / periodMillis + current;
    }

    /**
     * How long, without new requests, until one more request fits: while the current count alone leaves room,
     * the previous window's weight has to fade enough; otherwise the current window has to end and then fade.
     */
    static long retryAfterMillis(long limit, long previous, long current, long elapsedMillis, long periodMillis) {
        long untilWindowEnd = periodMillis - elapsedMillis;
        if (current + 1 <= limit) {
            if (previous == 0) {
                return 0;
            }
            double wait = untilWindowEnd - (double) (limit - 1 - current) * periodMillis / previous;
            return Math.max(0, (long) Math.ceil(wait));
        }
        double fade = periodMillis - (double) (limit - 1) * periodMillis / current;
        return untilWindowEnd + Math.max(0, (long) Math.ceil(fade));
    }
}
