package dev.relay.testing.internal;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Prints every thread's stack to standard error when one test has run for longer than
 * {@code relay.test.watchdog.seconds} (default 120), once per such test. Registered in
 * {@code META-INF/services/org.junit.platform.launcher.TestExecutionListener}, so every module that has
 * {@code proxy-test-support} on its test classpath gets it.
 *
 * <p>Why: a test stuck in an uninterruptible wait (a lock cycle with an event loop, a
 * {@code syncUninterruptibly}) ignores {@code @Timeout} and would otherwise hang the build silently until
 * the CI gives up; the dump names the threads and the monitors they wait for. The build's fork timeout
 * then ends the run.
 */
public final class HungTestWatchdog implements TestExecutionListener {
    static final String SECONDS_PROPERTY = "relay.test.watchdog.seconds";
    private static final long DEFAULT_SECONDS = 120;

    private final long limitNanos;
    private final PrintStream out;
    private final Map<String, Long> running = new ConcurrentHashMap<>();
    private final Map<String, Boolean> reported = new ConcurrentHashMap<>();
    private volatile ScheduledExecutorService checker;

    /** Used by {@code ServiceLoader}. */
    public HungTestWatchdog() {
        this(TimeUnit.SECONDS.toNanos(Long.getLong(SECONDS_PROPERTY, DEFAULT_SECONDS)), System.err);
    }

    HungTestWatchdog(long limitNanos, PrintStream out) {
        this.limitNanos = limitNanos;
        this.out = out;
    }

    @Override
    public void executionStarted(TestIdentifier test) {
        if (!test.isTest()) {
            return;
        }
        started(test.getUniqueId());
        startCheckerOnce();
    }

    void started(String test) {
        running.put(test, System.nanoTime());
    }

    @Override
    public void executionFinished(TestIdentifier test, TestExecutionResult result) {
        running.remove(test.getUniqueId());
        reported.remove(test.getUniqueId());
    }

    private void startCheckerOnce() {
        if (checker != null) {
            return;
        }
        synchronized (this) {
            if (checker == null) {
                ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(task -> {
                    Thread thread = new Thread(task, "hung-test-watchdog");
                    thread.setDaemon(true);
                    return thread;
                });
                long period = Math.max(TimeUnit.SECONDS.toNanos(1), limitNanos / 4);
                executor.scheduleAtFixedRate(this::check, period, period, TimeUnit.NANOSECONDS);
                checker = executor;
            }
        }
    }

    /** Reports each test past the limit once; returns how many were reported now. */
    int check() {
        long now = System.nanoTime();
        int count = 0;
        for (Map.Entry<String, Long> entry : running.entrySet()) {
            long elapsed = now - entry.getValue();
            if (elapsed > limitNanos && reported.putIfAbsent(entry.getKey(), Boolean.TRUE) == null) {
                report(entry.getKey(), elapsed);
                count++;
            }
        }
        return count;
    }

    private void report(String test, long elapsedNanos) {
        StringBuilder dump = new StringBuilder()
                .append("HUNG TEST? ").append(test).append(" has run for ")
                .append(TimeUnit.NANOSECONDS.toSeconds(elapsedNanos)).append(" s; all threads:\n");
        for (ThreadInfo info : ManagementFactory.getThreadMXBean().dumpAllThreads(true, true)) {
            dump.append(describe(info));
        }
        out.print(dump);
        out.flush();
    }

    /** {@link ThreadInfo#toString()} stops after eight frames; a hang needs the whole stack. */
    private static String describe(ThreadInfo info) {
        StringBuilder text = new StringBuilder().append('"').append(info.getThreadName()).append("\" ")
                .append(info.getThreadState());
        if (info.getLockName() != null) {
            text.append(" on ").append(info.getLockName());
        }
        if (info.getLockOwnerName() != null) {
            text.append(" owned by \"").append(info.getLockOwnerName()).append('"');
        }
        text.append('\n');
        for (StackTraceElement frame : info.getStackTrace()) {
            text.append("\tat ").append(frame).append('\n');
        }
        for (var monitor : info.getLockedMonitors()) {
            text.append("\tholds ").append(monitor).append('\n');
        }
        for (var lock : info.getLockedSynchronizers()) {
            text.append("\tholds ").append(lock).append('\n');
        }
        return text.append('\n').toString();
    }
}
