package dev.relay.filters.redis.internal;

import dev.relay.filters.redis.RateLimitDecision.Basis;
import dev.relay.filters.redis.internal.SharedWindowKey.Counts;
import dev.relay.filters.redis.internal.SharedWindowKey.Local;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The local side of the shared limit, on a manual clock (nanoseconds). */
class SharedWindowKeyTest {
    private static final long MS = 1_000_000;

    /** {@code key.tryLocally(now, sink)} with its numbers as a {@link Local}; null when Redis must be asked. */
    private static Local local(SharedWindowKey key, long now) {
        Local[] out = new Local[1];
        boolean decided = key.tryLocally(now, (allowed, remaining, resetAfterNanos, retryAfterNanos, basis) -> {
            assertEquals(Basis.LOCAL, basis);
            out[0] = new Local(allowed, remaining, resetAfterNanos, retryAfterNanos);
        });
        assertEquals(decided, out[0] != null, "the sink is called exactly when the key decided");
        return out[0];
    }

    @Test
    void aKeyNeverAskedIsDecidedInRedis() {
        assertNull(local(new SharedWindowKey(100, 1000, 10, 100 * MS), 0));
    }

    @Test
    void decidesLocallyUpToSyncEveryFarFromTheLimit() {
        SharedWindowKey key = new SharedWindowKey(100, 1000, 10, 100 * MS);
        key.replied(0, false, new Counts(true, 1, 0, 400), 0);
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
        key.replied(0, false, new Counts(true, 84, 20, 500), 0);
        for (int i = 0; i < 3; i++) {
            assertNotNull(local(key, 1));
        }
        assertNull(local(key, 1));
        SharedWindowKey nearlyFull = new SharedWindowKey(100, 1000, 10, 100 * MS);
        nearlyFull.replied(0, false, new Counts(true, 99, 0, 0), 0);
        assertNull(local(nearlyFull, 1), "1 left: every decision is Redis'");
    }

    @Test
    void syncEveryZeroDecidesEverythingInRedis() {
        SharedWindowKey key = new SharedWindowKey(100, 1000, 0, 100 * MS);
        key.replied(0, false, new Counts(true, 1, 0, 0), 0);
        assertNull(local(key, 1));
    }

    @Test
    void reportsAtHalfTheAllowanceOrAfterTheIntervalOneAtATime() {
        SharedWindowKey key = new SharedWindowKey(1000, 1000, 10, 100 * MS);
        key.replied(0, false, new Counts(true, 1, 0, 0), 0);
        assertNotNull(local(key, 1));
        assertFalse(key.startReport(1), "1 of 10 used, interval not over");
        assertTrue(key.startReport(100 * MS), "the interval is over");
        assertFalse(key.startReport(100 * MS), "a report is in flight");
        long delta = key.takeUnsynced();
        assertEquals(1, delta);
        for (int i = 0; i < 5; i++) {
            assertNotNull(local(key, 101 * MS));
        }
        key.replied(delta, true, new Counts(false, 2, 0, 101), 101 * MS);
        assertTrue(key.startReport(101 * MS), "5 unreported: half of syncEvery");
    }

    @Test
    void aDenialFromRedisHoldsLocallyUntilRetryAfter() {
        SharedWindowKey key = new SharedWindowKey(10, 1000, 10, 100 * MS);
        // Current window full at elapsed 250: one more fits when the next window's weight of 10 has faded to 9,
        // a tenth into it: 750 + 100 ms.
        Local denied = key.replied(0, false, new Counts(false, 10, 3, 250), 0);
        assertFalse(denied.allowed());
        assertEquals(850 * MS, denied.retryAfterNanos());
        Local again = local(key, 800 * MS);
        assertNotNull(again);
        assertFalse(again.allowed());
        assertEquals(50 * MS, again.retryAfterNanos());
        assertNull(local(key, 850 * MS), "past retry-after the key is Redis' again (no room locally)");
    }

    @Test
    void aFailureForgetsTheKey() {
        SharedWindowKey key = new SharedWindowKey(100, 1000, 10, 100 * MS);
        key.replied(0, false, new Counts(true, 1, 0, 0), 0);
        assertNotNull(local(key, 1));
        key.failed(key.takeUnsynced(), false);
        assertNull(local(key, 2));
    }

    @Test
    void retryAfterWaitsForThePreviousWindowToFadeWhenTheCurrentOneHasRoom() {
        // limit 10, current 5, previous 10 at elapsed 0: estimate 15. One more needs previous weight <= 4/10:
        // at elapsed 600 ms.
        assertEquals(600, SharedWindowKey.retryAfterMillis(10, 10, 5, 0, 1000));
        assertEquals(0, SharedWindowKey.retryAfterMillis(10, 0, 5, 0, 1000));
        assertEquals(15.0, SharedWindowKey.estimate(10, 5, 0, 1000));
        assertEquals(10.0, SharedWindowKey.estimate(10, 5, 500, 1000));
    }
}
