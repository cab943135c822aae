package dev.relay.server.internal;

import com.sun.management.GarbageCollectionNotificationInfo;
import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.management.ListenerNotFoundException;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Keeps G1's heap near what the proxy keeps alive, in a JVM started with no flags.
 *
 * <p>Users run {@code java -jar proxy-server.jar} without JVM flags, and on a large machine the JVM
 * then picks G1 with a heap of up to a quarter of the RAM. A proxy keeps little alive (about 20 MiB:
 * connections, pools, config) and makes short-lived garbage per request; G1 nevertheless grows the
 * heap under load and never gives it back while the load lasts: when a collection leaves the heap
 * below a quarter of its initial size, its next expansion takes it half way back (about 210 MiB on
 * a 24 GiB machine), and its young generation fills all of that, so every page of it is resident
 * (about 230 MiB of RSS after the load harness). With a heap near 48 MiB G1 keeps an 8 MiB young
 * generation, which fits the CPU's cache: the same req/s and CPU per request, a p99 no worse, and
 * up to 100 MiB less RSS after load (docs/benchmarks.md, fourth pass).
 *
 * <p>A running process cannot set the heap bounds, but it can change the settings HotSpot calls
 * "manageable", and JEP 346 made two of them a way to shrink the heap: {@code G1PeriodicGCInterval}
 * starts a concurrent cycle once no collection ran for that long, and at the end of the cycle G1
 * shrinks the heap to keep at most {@code MaxHeapFreeRatio} percent of it free. This class drives
 * them: the interval is off ({@code 0}: G1 then looks at it again every second) until the heap is
 * too large for what a collection left alive, then {@link #SHRINK_INTERVAL_MILLIS} (under load,
 * young collections a few seconds apart leave that gap soon), and off again as soon as the periodic
 * collection starts, so exactly one cycle runs per request, and at most one per
 * {@link #NANOS_BETWEEN_SHRINKS}. "Too large" is more than {@link #BUSY_LIVE_MULTIPLE} times what
 * the last collection left, or, with no collection for {@link #IDLE_NANOS} (an idle proxy), more
 * than {@link #IDLE_LIVE_MULTIPLE} times the heap in use; never below {@link #FLOOR_BYTES}.
 *
 * <p>A setting the user gave on the command line is left as it is (with {@code G1PeriodicGCInterval}
 * given, nothing is governed), and nothing is done on other collectors (the flags in
 * {@code src/dist} choose the serial one with a small young generation deliberately).
 */
public final class HeapGovernor {
    private static final Logger log = LoggerFactory.getLogger(HeapGovernor.class);

    static final int MIN_HEAP_FREE_RATIO = 10;
    static final int MAX_HEAP_FREE_RATIO = 30;
    /** The periodic interval while a shrink is wanted: a gap this long between collections starts one. */
    static final long SHRINK_INTERVAL_MILLIS = 500;
    /** A heap this small is left alone, whatever it holds. */
    static final long FLOOR_BYTES = 96L << 20;
    static final int BUSY_LIVE_MULTIPLE = 4;
    static final double IDLE_LIVE_MULTIPLE = 1.5;
    /** No collection for this long: the proxy is idle, and a heap left large by a burst is shrunk. */
    static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(15);
    /** A concurrent cycle costs a few milliseconds of CPU: never more than one in this time. */
    static final long NANOS_BETWEEN_SHRINKS = TimeUnit.SECONDS.toNanos(10);
    static final long IDLE_CHECK_MILLIS = 5_000;
    /** The cause G1 gives the young collection that starts a periodic cycle (HotSpot's GCCause). */
    static final String PERIODIC_CAUSE = "G1 Periodic Collection";

    /** The JVM as the governor sees it. */
    interface Vm {
        long committedHeap();

        long usedHeap();

        /** Sets {@code G1PeriodicGCInterval}; 0 turns periodic collections off. */
        void periodicInterval(long millis);
    }

    private final Vm vm;
    private final LongSupplier nanoClock;
    private final List<Runnable> stops = new ArrayList<>();
    // Guarded by this: GC notifications and the idle check come on two threads.
    private boolean shrinkWanted;
    private long lastShrinkNanos;
    private long lastCollectionNanos;

    HeapGovernor(Vm vm, LongSupplier nanoClock) {
        this.vm = vm;
        this.nanoClock = nanoClock;
        this.lastCollectionNanos = nanoClock.getAsLong();
        // As if the last shrink were long enough ago: the first request goes through.
        this.lastShrinkNanos = lastCollectionNanos - NANOS_BETWEEN_SHRINKS;
    }

    /**
     * After each young collection, with what it left in the heap (old and survivor spaces).
     *
     * @param cause the collection's cause, as G1 names it
     */
    synchronized void afterCollection(String cause, long usedAfter) {
        long now = nanoClock.getAsLong();
        lastCollectionNanos = now;
        if (PERIODIC_CAUSE.equals(cause)) {
            // The cycle that will shrink the heap has started: no second one.
            if (shrinkWanted) {
                shrinkWanted = false;
                vm.periodicInterval(0);
            }
            return;
        }
        long committed = vm.committedHeap();
        if (committed > Math.max(FLOOR_BYTES, BUSY_LIVE_MULTIPLE * usedAfter)) {
            askForShrink(now, committed, usedAfter);
        }
    }

    /** Every {@link #IDLE_CHECK_MILLIS}: a heap left large by a burst shrinks once the proxy is idle. */
    synchronized void checkIdle() {
        long now = nanoClock.getAsLong();
        if (now - lastCollectionNanos < IDLE_NANOS) {
            return;
        }
        long committed = vm.committedHeap();
        long used = vm.usedHeap();
        if (committed > Math.max(FLOOR_BYTES, (long) (IDLE_LIVE_MULTIPLE * used))) {
            askForShrink(now, committed, used);
        }
    }

    private void askForShrink(long now, long committed, long live) {
        if (shrinkWanted || now - lastShrinkNanos < NANOS_BETWEEN_SHRINKS) {
            return;
        }
        shrinkWanted = true;
        lastShrinkNanos = now;
        log.debug("heap {} MiB committed, {} MiB in use: asking G1 for a shrinking cycle", committed >> 20, live >> 20);
        vm.periodicInterval(SHRINK_INTERVAL_MILLIS);
    }

    /**
     * Applies the settings the user left at their defaults and, when the periodic interval is one of
     * them, starts governing it, on G1 only.
     *
     * @return what was set, as {@code name=value} (empty when nothing was: another collector, or every
     *         setting given by the user)
     */
    public static List<String> install() {
        List<String> applied = new ArrayList<>();
        List<GarbageCollectorMXBean> g1 = g1Collectors();
        HotSpotDiagnosticMXBean hotSpot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        if (g1.isEmpty() || hotSpot == null) {
            return applied;
        }
        // Min before max: the JVM refuses a MaxHeapFreeRatio below the current MinHeapFreeRatio.
        setIfDefault(hotSpot, "MinHeapFreeRatio", Integer.toString(MIN_HEAP_FREE_RATIO), applied);
        setIfDefault(hotSpot, "MaxHeapFreeRatio", Integer.toString(MAX_HEAP_FREE_RATIO), applied);
        if (setIfDefault(hotSpot, "G1PeriodicGCInterval", "0", applied)) {
            start(new HotSpotVm(hotSpot), g1);
        }
        return applied;
    }

    /** Governs this JVM's heap from now on: GC notifications and a daemon thread for the idle check. */
    static HeapGovernor start(Vm vm, List<GarbageCollectorMXBean> collectors) {
        HeapGovernor governor = new HeapGovernor(vm, System::nanoTime);
        Set<String> heapPools = new HashSet<>();
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                heapPools.add(pool.getName());
            }
        }
        for (GarbageCollectorMXBean collector : collectors) {
            if (collector instanceof NotificationEmitter emitter) {
                NotificationListener listener = (notification, handback) -> {
                    if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
                        GarbageCollectionNotificationInfo info =
                                GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
                        governor.afterCollection(info.getGcCause(), heapUsed(info.getGcInfo().getMemoryUsageAfterGc(), heapPools));
                    }
                };
                emitter.addNotificationListener(listener, null, null);
                governor.stops.add(() -> {
                    try {
                        emitter.removeNotificationListener(listener);
                    } catch (ListenerNotFoundException e) {
                        // Not there: nothing to remove.
                    }
                });
            }
        }
        ScheduledExecutorService idleCheck = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "relay-heap-governor");
            thread.setDaemon(true);
            return thread;
        });
        idleCheck.scheduleWithFixedDelay(governor::checkIdle, IDLE_CHECK_MILLIS, IDLE_CHECK_MILLIS, TimeUnit.MILLISECONDS);
        governor.stops.add(idleCheck::shutdownNow);
        return governor;
    }

    /** Stops governing (for tests: the process's governor runs until it exits) and turns the interval off. */
    void stop() {
        stops.forEach(Runnable::run);
        synchronized (this) {
            shrinkWanted = false;
            vm.periodicInterval(0);
        }
    }

    static List<GarbageCollectorMXBean> g1Collectors() {
        List<GarbageCollectorMXBean> g1 = new ArrayList<>();
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc.getName().startsWith("G1 ")) {
                g1.add(gc);
            }
        }
        return g1;
    }

    private static long heapUsed(Map<String, MemoryUsage> afterCollection, Set<String> heapPools) {
        long used = 0;
        for (Map.Entry<String, MemoryUsage> pool : afterCollection.entrySet()) {
            if (heapPools.contains(pool.getKey())) {
                used += pool.getValue().getUsed();
            }
        }
        return used;
    }

    private static boolean setIfDefault(HotSpotDiagnosticMXBean hotSpot, String name, String value, List<String> applied) {
        try {
            VMOption option = hotSpot.getVMOption(name);
            if (option.getOrigin() != VMOption.Origin.DEFAULT && option.getOrigin() != VMOption.Origin.ERGONOMIC) {
                return false;
            }
            if (!option.isWriteable()) {
                return false;
            }
            hotSpot.setVMOption(name, value);
            applied.add(name + '=' + value);
            return true;
        } catch (IllegalArgumentException | SecurityException e) {
            // Not this JVM's option (another vendor or version), or a value it refuses: keep its default.
            return false;
        }
    }

    /** The running JVM. */
    static final class HotSpotVm implements Vm {
        private final HotSpotDiagnosticMXBean hotSpot;

        HotSpotVm(HotSpotDiagnosticMXBean hotSpot) {
            this.hotSpot = hotSpot;
        }

        @Override
        public long committedHeap() {
            return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted();
        }

        @Override
        public long usedHeap() {
            return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        }

        @Override
        public void periodicInterval(long millis) {
            hotSpot.setVMOption("G1PeriodicGCInterval", Long.toString(millis));
        }
    }
}
