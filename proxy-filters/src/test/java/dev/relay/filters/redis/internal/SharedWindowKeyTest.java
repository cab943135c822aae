package dev.relay.filters.redis.internal;

import dev.relay.filters.redis.RateLimitDecision.Basis;
import dev.relay.filters.redis.RedisRateLimiter.DecisionSink;
import dev.relay.filters.redis.internal.SharedWindowKey.Call;
import dev.relay.filters.redis.internal.SharedWindowKey.Counts;
import dev.relay.filters.redis.internal.SharedWindowKey.Local;
import dev.relay.filters.redis.internal.SharedWindowKey.Settled;
import dev.relay.filters.redis.internal.SharedWindowKey.Waiter;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The local side of the shared limit, on a manual clock (nanoseconds). */
class SharedWindowKeyTest {
    private static final long MS = 1_000_000;

    /** {@code key.tryLocally(now, sink)} with its numbers as a {@link Local}; null when Redis must be asked. */
    private static @Nullable Local local(SharedWindowKey key, long now) {
        Recorded sink = new Recorded();
        boolean decided = key.tryLocally(now, sink);
        assertEquals(decided, sink.basis != null, "the sink is called exactly when the key decided");
        if (decided) {
            assertEquals(Basis.LOCAL, sink.basis);
        }
        return sink.local;
    }

    /** A decision's sink that keeps what it was told. */
    private static final class Recorded implements DecisionSink {
        @Nullable Local local;
        @Nullable Basis basis;

        @Override
        public void decided(boolean allowed, long remaining, long resetAfterNanos, long retryAfterNanos, Basis basis) {
            assertNull(this.basis, "decided twice");
            this.local = new Local(allowed, remaining, resetAfterNanos, retryAfterNanos);
            this.basis = basis;
        }
    }

    private static Waiter waiter() {
        return new Waiter(new Recorded(), new CompletableFuture<>());
    }

    private static Recorded sinkOf(Waiter waiter) {
        return (Recorded) waiter.sink();
    }

    /** The first decision of a key, answered by Redis with {@code counts}. */
    private static Waiter seed(SharedWindowKey key, Counts counts, long now) {
        Waiter first = waiter();
        Call call = key.queueOrCall(first);
        assertNotNull(call, "nothing in flight: the decision is a call of its own");
        assertEquals(1, call.want());
        Settled settled = key.replied(call, counts, now, true);
        assertEquals(List.of(first), settled.decided());
        return first;
    }

    @Test
    void aKeyNeverAskedIsDecidedLocallyWithinMinOfSyncEveryAndHalfTheLimit() {
        SharedWindowKey key = new SharedWindowKey(100, 1000, 10, 100 * MS);
        for (int i = 0; i < 10; i++) {
            // Where Redis' window ends is not known yet: a whole period at most.
            assertEquals(new Local(true, 100 - 1 - i, 1000 * MS, 0), local(key, i), "decision " + i);
        }
        assertNull(local(key, 10), "the allowance (sync-every) is used up: Redis decides the eleventh");

        SharedWindowKey small = new SharedWindowKey(6, 1000, 10, 100 * MS);
        for (int i = 0; i < 3; i++) {
            assertNotNull(local(small, i), "half of a limit of 6");
        }
        assertNull(local(small, 3));
        assertNull(local(new SharedWindowKey(1, 1000, 10, 100 * MS), 0), "a limit of 1 leaves no allowance");
        assertNull(local(new SharedWindowKey(100, 1000, 0, 100 * MS), 0), "sync-every 0: every decision is Redis'");
    }

    @Test
    void aNewKeyReportsHalfItsAllowanceOrASyncIntervalAfterItsFirstRequest() {
        SharedWindowKey key = new SharedWindowKey(1000, 1000, 10, 100 * MS);
        long first = 7_000 * MS;
        assertNotNull(local(key, first));
        assertNull(key.startReport(first + 99 * MS), "the interval runs from the first request, not from zero");
        Call report = key.startReport(first + 100 * MS);
        assertNotNull(report);
        assertEquals(1, report.delta());

        SharedWindowKey busy = new SharedWindowKey(1000, 1000, 10, 100 * MS);
        for (int i = 0; i < 4; i++) {
            assertNotNull(local(busy, first));
        }
        assertNull(busy.startReport(first));
        assertNotNull(local(busy, first));
        assertEquals(5, busy.startReport(first).delta(), "half of sync-every");
    }

    @Test
    void aReportSkippedUnderPressureLeavesTheCountForTheNextCall() {
        SharedWindowKey key = new SharedWindowKey(1000, 1000, 10, 100 * MS);
        Waiter first = waiter();
        Call call = key.queueOrCall(first);
        for (int i = 0; i < 6; i++) {
            assertNotNull(local(key, 1), "a new key within its allowance while its first call is out");
        }
        Settled settled = key.replied(call, new Counts(1, 1, 0, 0), 2, false);
        assertEquals(List.of(first), settled.decided());
        assertNull(settled.next(), "6 unreported, a report is due, but reports are shed");
        assertNotNull(local(key, 3));
        Call later = key.startReport(3);
        assertNotNull(later, "the next request that may report does");
        assertEquals(7, later.delta(), "nothing was lost");
    }

    @Test
    void decidesLocallyUpToSyncEveryFarFromTheLimit() {
        SharedWindowKey key = new SharedWindowKey(100, 1000, 10, 100 * MS);
        Waiter first = seed(key, new Counts(1, 1, 0, 400), 0);
        assertEquals(new Local(true, 99, 600 * MS, 0), sinkOf(first).local);
        assertEquals(Basis.REDIS, sinkOf(first).basis);
        for (int i = 0; i < 10; i++) {
            Local local = local(key, i);
            assertNotNull(local, "decision " + i);
            assertTrue(local.allowed());
            assertEquals(100 - 1 - (i + 1), local.remaining());
            assertEquals(600 * MS - i, local.resetAfterNanos());
        }
        assertNull(local(key, 10), "the eleventh unreported request must go to Redis");
    }

    @Test
    void takesAtMostHalfOfWhatIsLeftSoKeysNearTheLimitGoToRedis() {
        SharedWindowKey key = new SharedWindowKey(100, 1000, 10, 100 * MS);
        // previous 20 at weight 0.5 (elapsed 500 of 1000) + current 84 = 94: 6 left, this instance may take 3.
        seed(key, new Counts(1, 84, 20, 500), 0);
        for (int i = 0; i < 3; i++) {
            assertNotNull(local(key, 1));
        }
        assertNull(local(key, 1));
        SharedWindowKey nearlyFull = new SharedWindowKey(100, 1000, 10, 100 * MS);
        seed(nearlyFull, new Counts(1, 99, 0, 0), 0);
        assertNull(local(nearlyFull, 1), "1 left: every decision is Redis'");
    }

    @Test
    void syncEveryZeroDecidesEverythingInRedis() {
        SharedWindowKey key = new SharedWindowKey(100, 1000, 0, 100 * MS);
        seed(key, new Counts(1, 1, 0, 0), 0);
        assertNull(local(key, 1));
    }

    @Test
    void reportsAtHalfTheAllowanceOrAfterTheIntervalOneAtATime() {
        SharedWindowKey key = new SharedWindowKey(1000, 1000, 10, 100 * MS);
        seed(key, new Counts(1, 1, 0, 0), 0);
        assertNotNull(local(key, 1));
        assertNull(key.startReport(1), "1 of 10 used, interval not over");
        Call report = key.startReport(100 * MS);
        assertNotNull(report, "the interval is over");
        assertTrue(report.report());
        assertEquals(0, report.want(), "a report decides nothing");
        assertEquals(1, report.delta());
        assertNull(key.startReport(100 * MS), "a report is in flight");
        for (int i = 0; i < 5; i++) {
            assertNotNull(local(key, 101 * MS));
        }
        Settled settled = key.replied(report, new Counts(0, 2, 0, 101), 101 * MS, true);
        assertEquals(List.of(), settled.decided());
        assertNotNull(settled.next(), "5 unreported: half of syncEvery, reported as the answer comes");
        assertEquals(5, settled.next().delta());
    }

    @Test
    void requestsOverTheAllowanceWaitForTheCallInFlightAndItsAnswerDecidesThem() {
        SharedWindowKey key = new SharedWindowKey(1000, 1000, 10, 100 * MS);
        seed(key, new Counts(1, 1, 0, 0), 0);
        for (int i = 0; i < 5; i++) {
            assertNotNull(local(key, 1));
        }
        Call report = key.startReport(1);
        assertNotNull(report);
        for (int i = 0; i < 5; i++) {
            assertNotNull(local(key, 1), "within the allowance while the report is out");
        }
        List<Waiter> queued = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            assertNull(local(key, 1), "the allowance is used up");
            Waiter waiter = waiter();
            assertNull(key.queueOrCall(waiter), "a report is in flight: wait for its answer, no call of its own");
            queued.add(waiter);
        }
        // Redis has 1 + 5 now; 5 unsynced locally: the new allowance (10) takes 5 waiters, the last 2 go together.
        Settled settled = key.replied(report, new Counts(0, 6, 0, 100), 2, true);
        assertEquals(queued.subList(0, 5), settled.decided());
        for (int i = 0; i < 5; i++) {
            assertEquals(Basis.LOCAL, sinkOf(queued.get(i)).basis);
            assertTrue(sinkOf(queued.get(i)).local.allowed());
        }
        Call batch = settled.next();
        assertNotNull(batch);
        assertEquals(queued.subList(5, 7), batch.deciders(), "one call for the waiters left, in order");
        assertEquals(10, batch.delta(), "it carries every request allowed locally since the report");
        assertFalse(batch.report());
        assertNull(sinkOf(queued.get(5)).basis, "not decided before Redis answers");

        Waiter later = waiter();
        assertNull(local(key, 3), "the allowance is still used up");
        assertNull(key.queueOrCall(later), "it waits behind the batch");
        Settled answered = key.replied(batch, new Counts(2, 18, 0, 100), 4, true);
        assertEquals(List.of(queued.get(5), queued.get(6), later), answered.decided());
        assertEquals(new Local(true, 1000 - 18 + 1, 900 * MS, 0), sinkOf(queued.get(5)).local);
        assertEquals(new Local(true, 1000 - 18, 900 * MS, 0), sinkOf(queued.get(6)).local);
        assertEquals(Basis.REDIS, sinkOf(queued.get(6)).basis);
        assertEquals(Basis.LOCAL, sinkOf(later).basis, "the fresh allowance decides the later one");
        assertNull(answered.next(), "nothing waits, 1 unreported: no call");
    }

    @Test
    void aBatchIsAllowedAsFarAsItFitsAndTheRestIsDenied() {
        SharedWindowKey key = new SharedWindowKey(20, 1000, 10, 100 * MS);
        Waiter first = waiter();
        Call call = key.queueOrCall(first);
        assertNotNull(call);
        List<Waiter> queued = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Waiter waiter = waiter();
            assertNull(key.queueOrCall(waiter), "the key's first call is in flight");
            queued.add(waiter);
        }
        // 18 of 20: this instance may take 1 more alone; the other 3 ask Redis, which has room for one.
        Settled settled = key.replied(call, new Counts(1, 18, 0, 0), 0, true);
        assertEquals(List.of(first, queued.get(0)), settled.decided());
        assertEquals(Basis.LOCAL, sinkOf(queued.get(0)).basis);
        Call batch = settled.next();
        assertNotNull(batch);
        assertEquals(3, batch.want());
        assertEquals(1, batch.delta());
        // Redis: 18 + 1 reported + 1 of the 3 = 20, full. One more fits when the window ends (1000 ms) and its
        // weight fades to 19/20 (50 ms).
        Settled answered = key.replied(batch, new Counts(1, 20, 0, 0), 0, true);
        assertEquals(queued.subList(1, 4), answered.decided());
        assertTrue(sinkOf(queued.get(1)).local.allowed());
        assertEquals(new Local(false, 0, 1000 * MS, 1050 * MS), sinkOf(queued.get(2)).local);
        assertEquals(new Local(false, 0, 1000 * MS, 1050 * MS), sinkOf(queued.get(3)).local);
        assertEquals(Basis.REDIS, sinkOf(queued.get(3)).basis);
        Local again = local(key, 50 * MS);
        assertNotNull(again, "the denial holds locally");
        assertFalse(again.allowed());
        assertEquals(1000 * MS, again.retryAfterNanos());
    }

    @Test
    void beyondTheBoundADecisionSendsACallOfItsOwn() {
        SharedWindowKey key = new SharedWindowKey(100_000, 1000, 10, 100 * MS);
        assertNotNull(key.queueOrCall(waiter()));
        for (int i = 0; i < SharedWindowKey.MAX_WAITERS; i++) {
            assertNull(key.queueOrCall(waiter()));
        }
        Waiter overflow = waiter();
        Call own = key.queueOrCall(overflow);
        assertNotNull(own, "the queue is full");
        assertEquals(List.of(overflow), own.deciders());
    }

    @Test
    void aDenialFromRedisHoldsLocallyUntilRetryAfter() {
        SharedWindowKey key = new SharedWindowKey(10, 1000, 10, 100 * MS);
        // Current window full at elapsed 250: one more fits when the next window's weight of 10 has faded to 9,
        // a tenth into it: 750 + 100 ms.
        Waiter first = seed(key, new Counts(0, 10, 3, 250), 0);
        assertEquals(new Local(false, 0, 750 * MS, 850 * MS), sinkOf(first).local);
        Local again = local(key, 800 * MS);
        assertNotNull(again);
        assertFalse(again.allowed());
        assertEquals(50 * MS, again.retryAfterNanos());
        assertNull(local(key, 850 * MS), "past retry-after the key is Redis' again (no room locally)");
    }

    @Test
    void aFailureForgetsTheKeyAndHandsBackEveryWaiterForThePolicy() {
        SharedWindowKey key = new SharedWindowKey(100, 1000, 10, 100 * MS);
        seed(key, new Counts(1, 1, 0, 0), 0);
        assertNotNull(local(key, 1));
        Waiter decider = waiter();
        for (int i = 0; i < 9; i++) {
            assertNotNull(local(key, 1));
        }
        Call call = key.queueOrCall(decider);
        assertNotNull(call);
        assertEquals(10, call.delta());
        Waiter queued = waiter();
        assertNull(key.queueOrCall(queued));
        assertEquals(List.of(decider, queued), key.failed(call));
        assertNull(sinkOf(decider).basis, "the policy is the caller's to apply");
        assertNull(local(key, 2));
        assertNotNull(key.queueOrCall(waiter()), "nothing in flight any more: a call of its own");
    }
}
