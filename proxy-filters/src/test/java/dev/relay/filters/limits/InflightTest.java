package dev.relay.filters.limits;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class InflightTest {

    @Test
    void permitsCountRunningOperationsAndGiveThemBack() {
        Inflight inflight = Inflight.create();
        Inflight.Permit first = inflight.acquire("a");
        Inflight.Permit second = inflight.acquire("a");
        assertEquals(1, first.count());
        assertEquals(2, second.count());
        assertEquals(2, inflight.get("a"));

        first.release();
        assertEquals(1, inflight.get("a"));
        try (Inflight.Permit third = inflight.acquire("a")) {
            assertEquals(2, third.count());
        }
        second.close();
        assertEquals(0, inflight.get("a"));
    }

    @Test
    void aPermitIsReleasedOnlyOnceHoweverOftenItIsAsked() {
        Inflight inflight = Inflight.of(2, 64);
        Inflight.Permit held = inflight.acquire(9L);
        Inflight.Permit twice = inflight.acquire(9L);

        assertTrue(twice.release());
        assertFalse(twice.release());
        twice.close();
        assertTrue(twice.isReleased());
        assertEquals(1, inflight.get(9L), "the other permit still counts");
        assertFalse(held.isReleased());
    }

    @Test
    void releasesRacingFromManyThreadsDecrementOnce() throws Exception {
        Inflight inflight = Inflight.create();
        byte[] key = {1, 2, 3};
        List<Inflight.Permit> permits = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            permits.add(inflight.acquire(key));
        }
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread thread = new Thread(() -> {
                EstimatorTest.awaitQuietly(start);
                permits.forEach(Inflight.Permit::release);
            });
            thread.start();
            threads.add(thread);
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join();
        }
        assertEquals(0, inflight.get(key));
    }
}
