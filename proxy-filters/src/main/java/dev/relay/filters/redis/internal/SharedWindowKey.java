package dev.relay.filters.redis.internal;

import dev.relay.filters.internal.SlidingWindow;
import dev.relay.filters.redis.RateLimitDecision.Basis;
import dev.relay.filters.redis.RedisRateLimiter.DecisionSink;
import org.jspecify.annotations.Nullable;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One instance's view of one key of a shared sliding-window limit: the last count Redis reported, what this
 * instance has allowed since without asking, and the decisions waiting for Redis. Decides locally when that is
 * safe, says when to report its local count, and which script call to send next.
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
 * to Redis for its decisions, and a key far from it almost never.
 *
 * <p><b>A key seen for the first time</b> is decided by the same rule, on a count of zero: its first
 * {@code min(syncEvery, limit / 2)} requests are allowed without a round trip and reported like any others
 * (the sync interval running from its first request). A round trip per new key would let a client that
 * sends many distinct keys fill the Redis client's queue with scripts, and then every decision of every key
 * would meet the failure policy. Redis may already hold a count for the key (other instances, or this one
 * before the key left the cache), so this instance may go over by its allowance before the report's answer
 * tells it: the same bound as for a known key, whose allowance was also granted before the others' counts
 * arrived. A limit whose allowance is 0 ({@code syncEvery = 0}, {@code limit = 1}) still asks Redis first.
 *
 * <p><b>Coalescing.</b> When the allowance is used up while a script call for the key is in flight (a report
 * or a decision), a request does not send a call of its own: it waits, in a bounded queue, for that call's
 * answer ({@link #queueOrCall}). The answer refreshes the estimate and settles the waiters in order
 * ({@link #replied}): each allowed locally while the new allowance permits; the rest go to Redis together in
 * one call that asks for all of them ({@code want = n}, counted in Redis as far as they fit), while later
 * requests queue behind that one. A busy key therefore costs about one round trip per allowance, not one per
 * request, and the accuracy bound is unchanged: what Redis decides it counts at once, and what is decided
 * locally stays within the allowance. Invariant: waiters are queued only while a call is in flight, and each
 * answer (or failure) empties the queue, so no waiter is forgotten.
 *
 * <p>Thread-safe: every method holds the object's lock for a few arithmetic operations; sinks are called
 * under it, futures are completed by the caller after it is released.
 */
public final class SharedWindowKey {
    /**
     * How many decisions may wait for one key's call in flight. Beyond it a decision sends its own call (as
     * with nothing in flight): the bound caps the memory a flood of one key can hold, not its correctness.
     */
    static final int MAX_WAITERS = 256;

    /**
     * What the script reported: how many of the requests it was asked to decide it counted (the first ones;
     * 0 for a report), the fixed windows' counts (with them) and how far into the current window Redis' clock is.
     */
    public record Counts(long allowed, long current, long previous, long elapsedMillis) {}

    /** The numbers of a decision made locally (for tests that read {@link #tryLocally}'s sink). */
    public record Local(boolean allowed, long remaining, long resetAfterNanos, long retryAfterNanos) {}

    /** A decision that needs Redis: where its numbers go, and what completes once they went there. */
    public record Waiter(DecisionSink sink, CompletableFuture<Void> decided) {}

    /**
     * One script call of this key: the unreported requests it adds ({@code delta}), and the decisions it asks
     * Redis for ({@code deciders}, in order; {@code want} is their number, none for a background report).
     */
    public record Call(long delta, List<Waiter> deciders, boolean report) {
        /** How many requests the call asks Redis to count. */
        public int want() {
            return deciders.size();
        }
    }

    /**
     * What an answer settled: the waiters decided (their sinks called; the caller completes their futures),
     * and the call to send next, if any: one for the waiters the new allowance could not take, or a report.
     */
    public record Settled(List<Waiter> decided, @Nullable Call next) {}

    private final long limit;
    private final long periodMillis;
    private final int syncEvery;
    private final long syncIntervalNanos;

    /** Whether Redis has answered for this key: the estimate and the window's end are Redis'. */
    private boolean known;
    /**
     * A call failed and nothing Redis said since: decide nothing locally (the next decision asks Redis, and
     * meets the failure policy while Redis cannot answer) rather than start again from a count of zero.
     */
    private boolean lostTrack;
    private double estimate;
    /** Requests allowed locally and carried by a call in flight (reported, not yet acknowledged). */
    private long inFlight;
    /** Requests allowed locally and not reported yet. */
    private long unsynced;
    /** When Redis last answered; for a key it has not answered yet, when its first unreported request came. */
    private long lastReplyNanos;
    private long windowEndNanos;
    private long deniedUntilNanos;
    private boolean reportInFlight;
    /** Script calls of this key in flight (reports and decisions): what a waiter can wait for. */
    private int callsInFlight;
    /** Created on first need: most keys never wait. Non-empty only while a call is in flight. */
    private @Nullable ArrayDeque<Waiter> waiters;

    /** A key nobody has asked Redis about yet: decided locally on a count of zero while its allowance permits. */
    public SharedWindowKey(long limit, long periodMillis, int syncEvery, long syncIntervalNanos) {
        this.limit = limit;
        this.periodMillis = periodMillis;
        this.syncEvery = syncEvery;
        this.syncIntervalNanos = syncIntervalNanos;
    }

    /**
     * Decides locally when it can: denied while a denial Redis gave still holds; allowed while this instance's
     * unacknowledged requests stay within its allowance (then counted as unsynced) and no earlier request waits
     * for Redis. The decision goes to {@code sink} (with {@link Basis#LOCAL}), called under this key's lock: it
     * must only store the numbers. Allocates nothing.
     *
     * @return whether it decided; false when Redis must be asked ({@link #queueOrCall}; {@code sink} was not called)
     */
    public synchronized boolean tryLocally(long now, DecisionSink sink) {
        if (waiters != null && !waiters.isEmpty() && !deniedAt(now)) {
            return false; // first come, first served: the waiters are settled by the next answer
        }
        return decideLocally(now, sink);
    }

    private boolean decideLocally(long now, DecisionSink sink) {
        if (lostTrack) {
            return false;
        }
        if (deniedAt(now)) {
            sink.decided(false, 0, Math.max(0, windowEndNanos - now), deniedUntilNanos - now, Basis.LOCAL);
            return true;
        }
        // Before Redis' first answer the estimate is 0: the allowance is min(syncEvery, limit / 2).
        long pending = inFlight + unsynced;
        long allowance = Math.min(syncEvery, (long) Math.floor((limit - estimate) / 2));
        if (pending + 1 > allowance) {
            return false;
        }
        if (!known && pending == 0) {
            lastReplyNanos = now; // a new key's count is due for a report a sync interval after its first request
        }
        unsynced++;
        long remaining = (long) Math.floor(limit - estimate - pending - 1);
        // Where Redis' window ends is not known before its first answer: at most a period away.
        long resetAfter = known ? Math.max(0, windowEndNanos - now) : periodMillis * 1_000_000;
        sink.decided(true, Math.max(0, Math.min(limit, remaining)), resetAfter, 0, Basis.LOCAL);
        return true;
    }

    /** Whether a denial Redis gave still holds. */
    private boolean deniedAt(long now) {
        return known && now - deniedUntilNanos < 0;
    }

    /**
     * A decision {@link #tryLocally} could not make: it waits for the answer of the key's call in flight, or,
     * when none is (or too many wait already), it is the call to send, carrying the unsynced count with it.
     *
     * @return the call to send, or null when {@code waiter} is queued behind one in flight
     */
    public synchronized @Nullable Call queueOrCall(Waiter waiter) {
        if (callsInFlight > 0) {
            if (waiters == null) {
                waiters = new ArrayDeque<>();
            }
            if (waiters.size() < MAX_WAITERS) {
                waiters.add(waiter);
                return null;
            }
        }
        return newCall(List.of(waiter), false);
    }

    /**
     * A report to send now, in the background, or null: when half the allowance is used (so its answer comes
     * before this instance has to wait for one) or the count is older than the sync interval. At most one
     * report is in flight per key.
     */
    public synchronized @Nullable Call startReport(long now) {
        if (reportInFlight || unsynced == 0) {
            return null;
        }
        if (unsynced >= Math.max(1, syncEvery / 2) || now - lastReplyNanos >= syncIntervalNanos) {
            reportInFlight = true;
            return newCall(List.of(), true);
        }
        return null;
    }

    /** A call in flight from now on, carrying the unsynced count. */
    private Call newCall(List<Waiter> deciders, boolean report) {
        long delta = unsynced;
        unsynced = 0;
        inFlight += delta;
        callsInFlight++;
        return new Call(delta, deciders, report);
    }

    /**
     * Takes in the answer to {@code call}: refreshes the estimate, decides the call's deciders as Redis did
     * (the first {@code counts.allowed()} allowed, the rest denied, a denial then holding locally until a
     * request would be allowed again), then settles the queued waiters in order. Sinks are called here, under
     * the lock; the caller completes the returned waiters' futures and sends the returned call.
     *
     * @param mayReport false when background reports are being shed (the Redis client is busy): the returned
     *        call is then never a report; the unsynced count waits for a later one
     */
    public synchronized Settled replied(Call call, Counts counts, long now, boolean mayReport) {
        callFinished(call);
        known = true;
        lostTrack = false;
        estimate = SlidingWindow.estimate(counts.previous(), counts.current(), counts.elapsedMillis(), periodMillis);
        lastReplyNanos = now;
        long untilWindowEnd = (periodMillis - counts.elapsedMillis()) * 1_000_000;
        windowEndNanos = now + untilWindowEnd;
        List<Waiter> decided = new ArrayList<>(call.want() + (waiters == null ? 0 : waiters.size()));
        long allowed = Math.min(counts.allowed(), call.want());
        if (allowed < call.want()) {
            deniedUntilNanos = now + SlidingWindow.retryAfter(limit, counts.previous(), counts.current(),
                    counts.elapsedMillis(), periodMillis) * 1_000_000;
        }
        long left = (long) Math.floor(limit - estimate - inFlight - unsynced);
        for (int i = 0; i < call.want(); i++) {
            Waiter decider = call.deciders().get(i);
            if (i < allowed) {
                // The estimate counts all the allowed deciders: the i-th leaves room for the ones after it too.
                long remaining = Math.max(0, Math.min(limit, left + allowed - 1 - i));
                decider.sink().decided(true, remaining, untilWindowEnd, 0, Basis.REDIS);
            } else {
                decider.sink().decided(false, 0, untilWindowEnd, deniedUntilNanos - now, Basis.REDIS);
            }
            decided.add(decider);
        }
        return settleWaiters(now, decided, mayReport);
    }

    /**
     * Decides the queued waiters on the estimate just refreshed: locally while the allowance permits (or a
     * denial holds); the ones left become one call asking for all of them. Without waiters left, a report may
     * be due (the local decisions just made count towards it).
     */
    private Settled settleWaiters(long now, List<Waiter> decided, boolean mayReport) {
        while (waiters != null && !waiters.isEmpty() && decideLocally(now, waiters.peekFirst().sink())) {
            decided.add(waiters.pollFirst());
        }
        if (waiters == null || waiters.isEmpty()) {
            return new Settled(decided, mayReport ? startReport(now) : null);
        }
        List<Waiter> deciders = new ArrayList<>(waiters);
        waiters.clear();
        return new Settled(decided, newCall(deciders, false));
    }

    /**
     * {@code call} failed: forget everything, so the next decision asks Redis (and meets the failure policy at
     * once while Redis is down) instead of deciding on a count that may be gone.
     *
     * @return the call's deciders and every queued waiter, in order: all to be answered by the failure policy
     *         (their sinks have not been called)
     */
    public synchronized List<Waiter> failed(Call call) {
        callFinished(call);
        known = false;
        lostTrack = true;
        estimate = 0;
        unsynced = 0;
        deniedUntilNanos = 0;
        List<Waiter> unanswered = new ArrayList<>(call.deciders());
        if (waiters != null) {
            unanswered.addAll(waiters);
            waiters.clear();
        }
        return unanswered;
    }

    private void callFinished(Call call) {
        inFlight -= call.delta();
        callsInFlight--;
        if (call.report()) {
            reportInFlight = false;
        }
    }
}
