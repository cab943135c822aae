package dev.relay.filters.limits;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TokenBucketTest {
    private static final long MILLI = 1_000_000L;
    private final AtomicLong clock = new AtomicLong(-42 * MILLI);

    /** 10 tokens per second (one per 100 ms), 3 at most. */
    private TokenBucket buckets() {
        return TokenBucket.builder(10, Duration.ofSeconds(1)).burst(3).clock(clock::get).build();
    }

    @Test
    void aFullBucketServesItsBurstThenOneTokenPerInterval() {
        TokenBucket buckets = buckets();
        assertEquals(3, buckets.available("k"));
        assertTrue(buckets.tryAcquire("k", 1));
        assertTrue(buckets.tryAcquire("k", 2));
        assertFalse(buckets.tryAcquire("k", 1));
        assertEquals(100 * MILLI, buckets.waitNanos("k", 1));
        assertEquals(200 * MILLI, buckets.waitNanos("k", 2));

        clock.addAndGet(60 * MILLI);
        assertFalse(buckets.tryAcquire("k", 1), "refused requests take nothing");
        assertEquals(40 * MILLI, buckets.waitNanos("k", 1));
        clock.addAndGet(40 * MILLI);
        assertTrue(buckets.tryAcquire("k", 1));
        assertFalse(buckets.tryAcquire("k", 1));
    }

    @Test
    void refillsUpToTheBurstOnly() {
        TokenBucket buckets = buckets();
        buckets.tryAcquire(5L, 3);
        clock.addAndGet(Duration.ofMinutes(5).toNanos());
        assertEquals(0, buckets.waitNanos(5L, 3));
        assertTrue(buckets.tryAcquire(5L, 3));
        assertFalse(buckets.tryAcquire(5L, 1));
    }

    @Test
    void keysHaveTheirOwnBuckets() {
        TokenBucket buckets = buckets();
        assertTrue(buckets.tryAcquire("a".getBytes(), 3));
        assertFalse(buckets.tryAcquire("a".getBytes(), 1));
        assertTrue(buckets.tryAcquire("b".getBytes(), 3));
    }

    /**
     * Collisions may make a key look emptier, never fuller: 50,000 keys crammed into 4 x 1,024 cells are
     * never allowed more than their burst, and 1,000 keys in the default 4 x 4,096 nearly all get theirs.
     */
    @Test
    void keysSharingCellsAreNeverAllowedMoreThanTheirBurst() {
        TokenBucket crammed = TokenBucket.builder(1, Duration.ofSeconds(10)).burst(2).slots(1024).clock(clock::get).build();
        assertTrue(admittedOfThreeEach(crammed, 50_000) <= 2 * 50_000);

        TokenBucket roomy = TokenBucket.builder(1, Duration.ofSeconds(10)).burst(2).clock(clock::get).build();
        int admitted = admittedOfThreeEach(roomy, 1_000);
        assertTrue(admitted <= 2 * 1_000, "at most the burst per key: " + admitted);
        assertTrue(admitted >= 2 * 990, "collisions in every row are rare: " + admitted);
    }

    private static int admittedOfThreeEach(TokenBucket buckets, int keys) {
        int admitted = 0;
        for (int key = 0; key < keys; key++) {
            for (int attempt = 0; attempt < 3; attempt++) {
                if (buckets.tryAcquire("client-" + key, 1)) {
                    admitted++;
                }
            }
        }
        return admitted;
    }

    @Test
    void racingThreadsSpendEachTokenOnce() throws Exception {
        TokenBucket buckets = TokenBucket.builder(100, Duration.ofSeconds(1)).burst(1000).clock(clock::get).build();
        AtomicInteger admitted = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread thread = new Thread(() -> {
                EstimatorTest.awaitQuietly(start);
                for (int i = 0; i < 1000; i++) {
                    if (buckets.tryAcquire("shared", 1)) {
                        admitted.incrementAndGet();
                    }
                }
            });
            thread.start();
            threads.add(thread);
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join();
        }
        assertEquals(1000, admitted.get(), "the clock stood still: exactly the burst");
    }

    @Test
    void rejectsImpossibleSettingsAndRequests() {
        assertThrows(IllegalArgumentException.class, () -> TokenBucket.builder(0, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> TokenBucket.builder(10, Duration.ofNanos(5)));
        assertThrows(IllegalArgumentException.class, () -> TokenBucket.builder(10, Duration.ofSeconds(1)).burst(0));
        TokenBucket buckets = buckets();
        assertThrows(IllegalArgumentException.class, () -> buckets.tryAcquire("k", 4));
        assertThrows(IllegalArgumentException.class, () -> buckets.tryAcquire("k", 0));
    }
}
