package dev.relay.testing.internal;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HungTestWatchdogTest {
    @Test
    void reportsATestPastItsLimitOnceWithTheThreadThatHoldsTheLock() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        HungTestWatchdog watchdog = new HungTestWatchdog(TimeUnit.MILLISECONDS.toNanos(1),
                new PrintStream(bytes, true, StandardCharsets.UTF_8));
        ReentrantLock lock = new ReentrantLock();
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread holder = new Thread(() -> {
            lock.lock();
            try {
                held.countDown();
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                lock.unlock();
            }
        }, "lock-holder");
        holder.start();
        try {
            held.await();
            watchdog.started("[test:stuck()]");
            Thread.sleep(5);

            assertEquals(1, watchdog.check());
            assertEquals(0, watchdog.check(), "reported once");
        } finally {
            release.countDown();
            holder.join();
        }
        String dump = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(dump.startsWith("HUNG TEST? [test:stuck()] has run for"), dump);
        assertTrue(dump.contains("\"lock-holder\" WAITING"), dump);
        assertTrue(dump.contains("holds java.util.concurrent.locks.ReentrantLock$NonfairSync"), dump);
        assertTrue(dump.contains(HungTestWatchdogTest.class.getName() + ".reportsATestPastItsLimit"), "whole stacks: " + dump);
    }

    @Test
    void aTestWithinItsLimitIsNotReported() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        HungTestWatchdog watchdog = new HungTestWatchdog(TimeUnit.MINUTES.toNanos(1),
                new PrintStream(bytes, true, StandardCharsets.UTF_8));
        watchdog.started("[test:quick()]");
        assertEquals(0, watchdog.check());
        assertEquals("", bytes.toString(StandardCharsets.UTF_8));
    }
}
