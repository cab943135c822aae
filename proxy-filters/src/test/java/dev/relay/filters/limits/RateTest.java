package dev.relay.filters.limits;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RateTest {
    private static final long SECOND = 1_000_000_000L;
    private final AtomicLong clock = new AtomicLong(5 * SECOND);

    private Rate perSecond() {
        return Rate.builder(Duration.ofSeconds(1)).clock(clock::get).build();
    }

    @Test
    void observeCountsTheCurrentWindowAndRateReportsTheLastFullOne() {
        Rate rate = perSecond();
        assertEquals(3, rate.observe("k", 3));
        assertEquals(5, rate.observe("k", 2));
        assertEquals(0.0, rate.rate("k"), "no full window yet");

        clock.addAndGet(SECOND);
        assertEquals(4, rate.observe("k", 4), "a new window counts from zero");
        assertEquals(5.0, rate.rate("k"));

        clock.addAndGet(SECOND);
        assertEquals(4.0, rate.rate("k"));

        clock.addAndGet(SECOND);
        assertEquals(0.0, rate.rate("k"), "nothing seen in the last full window");
    }

    @Test
    void aGapOfTwoWindowsForgetsBothWindows() {
        Rate rate = perSecond();
        rate.observe(7L, 10);
        clock.addAndGet(2 * SECOND + SECOND / 2);
        assertEquals(0.0, rate.rate(7L));
        assertEquals(0.0, rate.estimate(7L));
        assertEquals(1, rate.observe(7L, 1));
    }

    @Test
    void windowsStayAlignedToTheirStart() {
        Rate rate = perSecond();
        clock.addAndGet(SECOND + SECOND / 2);
        rate.observe("k", 1);
        clock.addAndGet(SECOND / 2);
        assertEquals(1, rate.observe("k", 1), "the window that began at 1 s ended at 2 s, not at 2.5 s");
        assertEquals(1.0, rate.rate("k"));
    }

    @Test
    void estimateWeighsThePreviousWindowByWhatIsLeftOfIt() {
        Rate rate = Rate.builder(Duration.ofMillis(100)).clock(clock::get).build();
        long tenth = SECOND / 10;
        rate.observe("k", 10);
        assertEquals(10.0, rate.estimate("k"), 1e-9);

        clock.addAndGet(tenth + tenth / 4);
        rate.observe("k", 2);
        assertEquals(10 * 0.75 + 2, rate.estimate("k"), 1e-9);

        clock.addAndGet(tenth / 2);
        assertEquals(10 * 0.25 + 2, rate.estimate("k"), 1e-9);
        assertEquals(100.0, rate.rate("k"), 1e-9, "10 events in 100 ms");
    }

    @Test
    void aClockThatStepsBackDoesNotBreakTheWindow() {
        Rate rate = perSecond();
        rate.observe("k", 1);
        clock.addAndGet(-SECOND);
        assertEquals(2, rate.observe("k", 1));
        assertEquals(2.0, rate.estimate("k"), 1e-9);
    }

    /**
     * A refused request's undo that lands after two windows started (its estimator was retired, then cleared
     * and made current again) must not take a count from the keys counting there now. After one start (or a
     * gap of two periods, which clears both) the estimator is the previous window's, read clamped at zero and
     * cleared before it counts again, so a stray -1 there does no harm; this is the case where it does.
     */
    @Test
    void anUndoAfterTheWindowMovedOnLeavesTheNewCountsAlone() {
        // One counter (1 x 1): every key shares it, so a wrong decrement anywhere shows.
        Rate rate = Rate.builder(Duration.ofSeconds(1)).hashes(1).slots(1).clock(clock::get).build();
        long refused = rate.keyHash().hash("refused");
        rate.rollWindows();
        long windowStart = rate.windowStartNanos();
        int slot = rate.currentSlot();
        rate.window(slot).incrHashed(refused, 1); // counted, about to be found over the limit

        clock.addAndGet(SECOND);
        rate.observe("other", 0); // the refused request's estimator becomes the previous window's
        clock.addAndGet(SECOND);
        assertEquals(1, rate.observe("other", 1), "the estimator is cleared and counts the next window");
        assertEquals(slot, rate.currentSlot());
        rate.uncount(refused, slot, windowStart); // the refused request's undo, late

        assertEquals(1, rate.observe("other", 0), "the other key's request is still counted");
    }

    @Test
    void anUndoInTheSameWindowTakesTheCountBackAndNeverBelowZero() {
        Rate rate = perSecond();
        long key = rate.keyHash().hash("k");
        rate.rollWindows();
        long windowStart = rate.windowStartNanos();
        int slot = rate.currentSlot();
        rate.window(slot).incrHashed(key, 2);
        rate.uncount(key, slot, windowStart);
        assertEquals(1, rate.observe("k", 0));
        rate.uncount(key, slot, windowStart);
        rate.uncount(key, slot, windowStart);
        assertEquals(0, rate.observe("k", 0), "clamped at zero");
    }

    @Test
    void rejectsAPeriodUnderOneMillisecond() {
        assertThrows(IllegalArgumentException.class, () -> Rate.of(Duration.ofNanos(999_999)));
        assertEquals(Duration.ofMillis(1), Rate.of(Duration.ofMillis(1)).period());
    }

    @Test
    void concurrentObserversLoseNoEvents() throws Exception {
        Rate rate = perSecond();
        int threads = 4;
        int perThread = 10_000;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread worker = new Thread(() -> {
                EstimatorTest.awaitQuietly(start);
                for (int i = 0; i < perThread; i++) {
                    rate.observe("k", 1);
                    rate.estimate("k");
                }
            });
            worker.start();
            workers.add(worker);
        }
        start.countDown();
        for (Thread worker : workers) {
            worker.join();
        }
        assertEquals((long) threads * perThread, rate.observe("k", 0), "one window: every event in it");
        clock.addAndGet(SECOND);
        assertEquals(threads * perThread, rate.rate("k"), 1e-9);
    }
}
