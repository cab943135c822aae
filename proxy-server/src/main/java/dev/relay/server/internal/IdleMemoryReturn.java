package dev.relay.server.internal;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes a JVM started with no flags give memory back to the system when the proxy goes quiet.
 *
 * <p>Users run {@code java -jar proxy-server.jar} without JVM flags, and on a large machine the JVM
 * then picks G1 with a heap of a quarter of the RAM: after a burst of traffic the young generation
 * it grew stays resident (about 250 MiB after the load harness), although a proxy keeps little alive.
 * Three of G1's settings can be changed by the running process (they are "manageable"), and together
 * they are JEP 346's "promptly return unused committed memory": a concurrent cycle when no collection
 * ran for {@link #PERIODIC_GC_MILLIS} ({@code G1PeriodicGCInterval}), after which G1 shrinks the heap
 * to keep at most {@code MaxHeapFreeRatio} percent free ({@code MinHeapFreeRatio} must not exceed it).
 * Under load nothing changes (collections run all the time, so no periodic one is due); once idle the
 * process falls back to about its size at start.
 *
 * <p>A setting the user gave on the command line is left as it is, and nothing is done on other
 * collectors (Serial and Parallel do not uncommit this way; the flags in {@code src/dist} choose them
 * deliberately with a small heap).
 */
public final class IdleMemoryReturn {
    /** Idle time after which a concurrent cycle returns memory: long enough never to run under load. */
    static final long PERIODIC_GC_MILLIS = 15_000;
    static final int MIN_HEAP_FREE_RATIO = 10;
    static final int MAX_HEAP_FREE_RATIO = 30;

    private IdleMemoryReturn() {}

    /**
     * Applies the settings the user left at their defaults, on G1 only.
     *
     * @return what was set, as {@code name=value} (empty when nothing was: another collector, or every
     *         setting given by the user)
     */
    public static List<String> apply() {
        List<String> applied = new ArrayList<>();
        if (!usesG1()) {
            return applied;
        }
        HotSpotDiagnosticMXBean hotSpot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        if (hotSpot == null) {
            return applied;
        }
        // Min before max: the JVM refuses a MaxHeapFreeRatio below the current MinHeapFreeRatio.
        set(hotSpot, "MinHeapFreeRatio", Integer.toString(MIN_HEAP_FREE_RATIO), applied);
        set(hotSpot, "MaxHeapFreeRatio", Integer.toString(MAX_HEAP_FREE_RATIO), applied);
        set(hotSpot, "G1PeriodicGCInterval", Long.toString(PERIODIC_GC_MILLIS), applied);
        return applied;
    }

    private static boolean usesG1() {
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc.getName().startsWith("G1 ")) {
                return true;
            }
        }
        return false;
    }

    private static void set(HotSpotDiagnosticMXBean hotSpot, String name, String value, List<String> applied) {
        try {
            VMOption option = hotSpot.getVMOption(name);
            if (option.getOrigin() != VMOption.Origin.DEFAULT && option.getOrigin() != VMOption.Origin.ERGONOMIC) {
                return;
            }
            if (!option.isWriteable()) {
                return;
            }
            hotSpot.setVMOption(name, value);
            applied.add(name + '=' + value);
        } catch (IllegalArgumentException | SecurityException e) {
            // Not this JVM's option (another vendor or version), or a value it refuses: keep its default.
        }
    }
}
