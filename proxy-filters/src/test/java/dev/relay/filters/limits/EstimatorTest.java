package dev.relay.filters.limits;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class EstimatorTest {

    @Test
    void countsKeysOfEveryKindAndTakesCountsBack() {
        Estimator estimator = Estimator.of(4, 64);
        assertEquals(3, estimator.incr("a", 3));
        assertEquals(5, estimator.incr("a", 2));
        assertEquals(1, estimator.incr(42L, 1));
        assertEquals(7, estimator.incr("bytes".getBytes(StandardCharsets.US_ASCII), 7));
        estimator.decr("a", 1);
        estimator.decr(42L, 1);
        estimator.decr("bytes".getBytes(StandardCharsets.US_ASCII), 2);

        assertEquals(4, estimator.get("a"));
        assertEquals(0, estimator.get(42L));
        assertEquals(5, estimator.get("bytes".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(4, estimator.get(new StringBuilder("a")), "a CharSequence hashes by its characters");
    }

    @Test
    void resetForgetsEverything() {
        Estimator estimator = Estimator.of(2, 16);
        for (int i = 0; i < 100; i++) {
            estimator.incr(i, 1);
        }
        estimator.reset();
        for (int i = 0; i < 100; i++) {
            assertEquals(0, estimator.get(i));
        }
    }

    @Test
    void roundsSlotsUpToAPowerOfTwoAndRejectsBadShapes() {
        Estimator estimator = Estimator.of(3, 1000);
        assertEquals(3, estimator.hashes());
        assertEquals(1024, estimator.slots());
        assertThrows(IllegalArgumentException.class, () -> Estimator.of(0, 16));
        assertThrows(IllegalArgumentException.class, () -> Estimator.of(9, 16));
        assertThrows(IllegalArgumentException.class, () -> Estimator.of(4, 0));
    }

    /**
     * 100,000 keys in 4 x 1,024 counters (32 KiB): no estimate is below the truth, and the excess stays
     * within the count-min bound (e x N / slots with probability 1 - e^-4) for all but a few keys.
     */
    @Test
    void manyKeysFitInFixedMemoryWithinTheSketchErrorBound() {
        int slots = 1024;
        Estimator estimator = Estimator.of(4, slots);
        int keys = 100_000;
        long total = 0;
        for (int key = 0; key < keys; key++) {
            int count = 1 + key % 3;
            estimator.incr("client-" + key, count);
            total += count;
        }
        double bound = Math.E * total / slots;
        int beyondBound = 0;
        for (int key = 0; key < keys; key++) {
            long truth = 1 + key % 3;
            long estimate = estimator.get("client-" + key);
            assertTrue(estimate >= truth, "client-" + key + ": " + estimate + " < " + truth);
            if (estimate - truth > bound) {
                beyondBound++;
            }
        }
        // The bound fails with probability at most e^-4 (1.8 %) per key.
        assertTrue(beyondBound < keys * 0.02, beyondBound + " keys beyond " + bound);
    }

    @Test
    void aLoneKeyIsCountedExactly() {
        Estimator estimator = Estimator.of(4, 4096);
        for (int i = 0; i < 1000; i++) {
            estimator.incr("key-" + i, 1);
        }
        assertEquals(501, estimator.incr("heavy", 501));
        assertTrue(estimator.get("heavy") < 510, "a few collisions at most: " + estimator.get("heavy"));
    }

    @Test
    void concurrentIncrementsAreAllCounted() throws Exception {
        // A fixed seed, so which keys share counters is known: the test checks below that each key has a
        // counter of its own in some row, where the estimate is then exactly its count.
        KeyHash hash = new KeyHash(0x5eed_0f_e57L);
        Estimator estimator = Estimator.withHash(hash, 4, 256);
        int threads = 4;
        int perThread = 20_000;
        long[] keyHashes = new long[17];
        for (int k = 0; k < 16; k++) {
            keyHashes[k] = hash.hash(k);
        }
        keyHashes[16] = hash.hash("shared");
        for (int k = 0; k < keyHashes.length; k++) {
            assertTrue(hasACounterOfItsOwn(keyHashes, k, 4, 255), "key " + k + " collides in every row: pick another seed");
        }
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread worker = new Thread(() -> {
                awaitQuietly(start);
                for (int i = 0; i < perThread; i++) {
                    estimator.incr("shared", 1);
                    estimator.incr(i % 16, 1);
                }
            });
            worker.start();
            workers.add(worker);
        }
        start.countDown();
        for (Thread worker : workers) {
            worker.join();
        }
        assertEquals((long) threads * perThread, estimator.get("shared"));
        for (int k = 0; k < 16; k++) {
            assertEquals((long) threads * perThread / 16, estimator.get(k), "key " + k);
        }
    }

    /** Whether key {@code k} of {@code keyHashes} has, in some row, a cell no other of them uses. */
    private static boolean hasACounterOfItsOwn(long[] keyHashes, int k, int rows, int mask) {
        for (int row = 0; row < rows; row++) {
            int cell = KeyHash.cell(keyHashes[k], row, mask);
            boolean shared = false;
            for (int other = 0; other < keyHashes.length; other++) {
                shared |= other != k && KeyHash.cell(keyHashes[other], row, mask) == cell;
            }
            if (!shared) {
                return true;
            }
        }
        return false;
    }

    static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
