package dev.relay.lb.internal;

import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Daemon thread factories and the shared pool for blocking background work (DNS queries, health probes). */
public final class DaemonThreads {
    /** Threads of the shared blocking pool: enough for parallel probes, idle ones die after a minute. */
    public static final int BLOCKING_POOL_SIZE = 16;

    private DaemonThreads() {}

    /** A factory of daemon threads named {@code name}, or {@code name1, name2 ...} when it ends with a dash. */
    public static ThreadFactory named(String name) {
        AtomicInteger ids = new AtomicInteger();
        return runnable -> {
            Thread t = new Thread(runnable, name.endsWith("-") ? name + ids.incrementAndGet() : name);
            t.setDaemon(true);
            return t;
        };
    }

    /** The shared pool for blocking background work: {@value #BLOCKING_POOL_SIZE} daemon threads at most. */
    public static Executor blockingPool() {
        return BlockingPool.INSTANCE;
    }

    private static final class BlockingPool {
        static final Executor INSTANCE;

        static {
            ThreadPoolExecutor pool = new ThreadPoolExecutor(BLOCKING_POOL_SIZE, BLOCKING_POOL_SIZE, 60, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(), named("relay-lb-io-"));
            pool.allowCoreThreadTimeOut(true);
            INSTANCE = pool;
        }
    }
}
