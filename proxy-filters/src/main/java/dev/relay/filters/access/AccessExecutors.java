package dev.relay.filters.access;

import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The two background executors of the access filters, shared by every filter instance (so a reload,
 * which makes new filters, starts no threads): their threads are daemons and end when idle, so
 * nothing needs closing.
 */
final class AccessExecutors {
    /** How often a watched file is looked at, at most. */
    static final Duration FILE_CHECK_INTERVAL = Duration.ofSeconds(1);

    /** Password checks waiting beyond this many are refused (503): a flood of guesses must not queue for minutes. */
    static final int PASSWORD_QUEUE = 256;

    private AccessExecutors() {}

    /**
     * Where bcrypt runs: half the cores (at least one), so that a flood of wrong passwords, each
     * 50 to 250 ms of CPU, leaves the event loops the other half; a bounded queue behind them.
     */
    static Executor passwordChecks() {
        return Holder.PASSWORDS;
    }

    /**
     * The per-client-address bound on password checks waiting for {@link #passwordChecks()}, shared as
     * the pool is (a client may meet several {@code basic-auth} filters).
     */
    static PendingChecks pendingChecks() {
        return Holder.PENDING;
    }

    /** Where watched files are looked at and read: one thread, the work is a stat a second. */
    static Executor fileChecks() {
        return Holder.FILES;
    }

    private static final class Holder {
        static final ThreadPoolExecutor PASSWORDS = pool("relay-password-check",
                Math.max(1, Runtime.getRuntime().availableProcessors() / 2), PASSWORD_QUEUE);
        static final ThreadPoolExecutor FILES = pool("relay-file-check", 1, 64);
        static final PendingChecks PENDING = new PendingChecks(PendingChecks.PER_CLIENT);

        private static ThreadPoolExecutor pool(String name, int threads, int queue) {
            AtomicInteger count = new AtomicInteger();
            ThreadFactory factory = task -> {
                Thread thread = new Thread(task, name + "-" + count.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            };
            ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                    new ArrayBlockingQueue<>(queue), factory, new ThreadPoolExecutor.AbortPolicy());
            pool.allowCoreThreadTimeOut(true);
            return pool;
        }
    }
}
