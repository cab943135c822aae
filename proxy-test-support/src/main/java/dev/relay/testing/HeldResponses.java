package dev.relay.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The responses a {@link TestOrigin} holds back while {@link TestOrigin#holdResponses()} is in force:
 * each is the rest of a route's work, run on release. Thread-safe.
 */
final class HeldResponses {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition added = lock.newCondition();
    /** Guarded by {@link #lock}. */
    private boolean holding;
    /** Guarded by {@link #lock}. */
    private final List<Runnable> held = new ArrayList<>();

    void hold() {
        lock.lock();
        try {
            holding = true;
        } finally {
            lock.unlock();
        }
    }

    /** Keeps {@code answer} and returns true while holding; otherwise returns false (answer at once). */
    boolean offer(Runnable answer) {
        lock.lock();
        try {
            if (!holding) {
                return false;
            }
            held.add(answer);
            added.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Stops holding and runs every held answer, outside the lock. */
    void release() {
        List<Runnable> answers;
        lock.lock();
        try {
            holding = false;
            answers = List.copyOf(held);
            held.clear();
        } finally {
            lock.unlock();
        }
        answers.forEach(Runnable::run);
    }

    /** Stops holding and drops what is held (the origin is closing: nothing is left to answer). */
    void discard() {
        lock.lock();
        try {
            holding = false;
            held.clear();
        } finally {
            lock.unlock();
        }
    }

    int count() {
        lock.lock();
        try {
            return held.size();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until at least {@code count} answers are held; {@code context} describes the origin on failure. */
    void await(int count, Duration timeout, Supplier<String> context) {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (held.size() < count) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError(context.get() + ": expected " + count + " held responses within "
                            + timeout + " but " + held.size() + " are held"
                            + (holding ? "" : " (holdResponses() was not called)"));
                }
                added.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for held responses (" + context.get() + ")", e);
        } finally {
            lock.unlock();
        }
    }
}
