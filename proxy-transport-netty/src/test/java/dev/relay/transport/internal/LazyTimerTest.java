package dev.relay.transport.internal;

import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LazyTimerTest {
    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final CountingClock clock = new CountingClock();
    private int expiries;
    private final LazyTimer timer = new LazyTimer(clock, channel.eventLoop(), () -> expiries++);

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    /** Advances the manual clock and runs what came due on the embedded loop. */
    private void advanceMillis(long millis) {
        clock.advance(Duration.ofMillis(millis));
        channel.runPendingTasks();
    }

    @Test
    void expiresOnceAtItsDeadline() {
        timer.arm(Duration.ofMillis(100).toNanos());
        advanceMillis(99);
        assertEquals(0, expiries);
        advanceMillis(1);
        assertEquals(1, expiries);
        assertFalse(timer.isArmed());
        advanceMillis(1_000);
        assertEquals(1, expiries);
    }

    @Test
    void movingTheDeadlineLaterSchedulesNothingAndReadsNoClock() {
        long start = clock.nanoTime();
        timer.armAt(start + Duration.ofMillis(100).toNanos());
        long reads = clock.reads;
        long scheduled = clock.scheduledTasks();
        timer.armAt(start + Duration.ofMillis(200).toNanos());
        timer.armAt(start + Duration.ofMillis(300).toNanos());
        assertEquals(reads, clock.reads);
        assertEquals(scheduled, clock.scheduledTasks());
        // The task fires early, finds the deadline moved and waits for the rest.
        advanceMillis(100);
        assertEquals(0, expiries);
        advanceMillis(199);
        assertEquals(0, expiries);
        advanceMillis(1);
        assertEquals(1, expiries);
    }

    @Test
    void movingTheDeadlineEarlierSchedulesAnEarlierTask() {
        long start = clock.nanoTime();
        timer.armAt(start + Duration.ofMillis(300).toNanos());
        timer.armAt(start + Duration.ofMillis(100).toNanos());
        assertEquals(1, clock.pendingTasks(), "the later task is cancelled");
        advanceMillis(100);
        assertEquals(1, expiries);
    }

    @Test
    void aDeadlineAlreadyPastExpiresOnTheNextRun() {
        timer.armAt(clock.nanoTime() - 1);
        assertTrue(timer.isArmed());
        advanceMillis(0);
        assertEquals(1, expiries);
    }

    @Test
    void disarmedTimerDoesNotExpireButCanBeArmedAgain() {
        timer.arm(Duration.ofMillis(100).toNanos());
        timer.disarm();
        advanceMillis(100);
        assertEquals(0, expiries);
        timer.arm(Duration.ofMillis(50).toNanos());
        advanceMillis(50);
        assertEquals(1, expiries);
    }

    @Test
    void cancelRemovesThePendingTask() {
        timer.arm(Duration.ofMillis(100).toNanos());
        timer.cancel();
        assertEquals(0, clock.pendingTasks());
        advanceMillis(100);
        assertEquals(0, expiries);
    }

    /** A manual clock that counts its reads. */
    private static final class CountingClock implements EngineClock {
        private final ManualEngineClock time = new ManualEngineClock();
        long reads;

        @Override
        public long nanoTime() {
            reads++;
            return time.nanoTime();
        }

        @Override
        public java.util.concurrent.Future<?> schedule(io.netty.util.concurrent.EventExecutor loop, Runnable task,
                                                            long delayNanos) {
            return time.schedule(loop, task, delayNanos);
        }

        long scheduledTasks() {
            return time.scheduledTasks();
        }

        int pendingTasks() {
            return time.pendingTasks();
        }

        void advance(Duration step) {
            time.advance(step);
        }
    }
}
