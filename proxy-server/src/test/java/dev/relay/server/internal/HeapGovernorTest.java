package dev.relay.server.internal;

import com.sun.management.GarbageCollectionNotificationInfo;
import com.sun.management.HotSpotDiagnosticMXBean;
import org.junit.jupiter.api.Test;

import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static dev.relay.server.internal.HeapGovernor.PERIODIC_CAUSE;
import static dev.relay.server.internal.HeapGovernor.SHRINK_INTERVAL_MILLIS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The policy against a recorded JVM and a hand-moved clock, then the mechanism on this test JVM's G1.
 * The settings are process-wide: the JVM tests change them for the test JVM, which does the other
 * tests no harm.
 */
class HeapGovernorTest {
    private static final long MIB = 1L << 20;
    private static final String YOUNG = "G1 Evacuation Pause";
    private static final HotSpotDiagnosticMXBean HOTSPOT =
            ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);

    private final RecordedVm vm = new RecordedVm();
    private long now = TimeUnit.HOURS.toNanos(1);
    private final HeapGovernor governor = new HeapGovernor(vm, () -> now);

    @Test
    void aCollectionLeavingTheHeapOverFourTimesItsLiveSizeAsksForOneCycleWhichTurnsTheIntervalOffAsItStarts() {
        vm.committed = 212 * MIB;

        governor.afterCollection(YOUNG, 18 * MIB);
        governor.afterCollection(YOUNG, 18 * MIB);
        assertEquals(List.of(SHRINK_INTERVAL_MILLIS), vm.intervals, "one request while one is pending");

        governor.afterCollection(PERIODIC_CAUSE, 18 * MIB);
        assertEquals(List.of(SHRINK_INTERVAL_MILLIS, 0L), vm.intervals);

        vm.committed = 48 * MIB;
        now += TimeUnit.SECONDS.toNanos(30);
        governor.afterCollection(YOUNG, 18 * MIB);
        governor.afterCollection(PERIODIC_CAUSE, 18 * MIB);
        assertEquals(List.of(SHRINK_INTERVAL_MILLIS, 0L), vm.intervals, "shrunk: nothing more to do");
    }

    @Test
    void aHeapUnderTheFloorOrWithinFourTimesWhatIsAliveIsLeftAlone() {
        vm.committed = 90 * MIB;
        governor.afterCollection(YOUNG, 2 * MIB);
        vm.committed = 300 * MIB;
        governor.afterCollection(YOUNG, 80 * MIB);

        assertEquals(List.of(), vm.intervals);
    }

    @Test
    void cyclesAreAtLeastTenSecondsApartWhenG1GrowsTheHeapRightBack() {
        vm.committed = 212 * MIB;
        governor.afterCollection(YOUNG, 18 * MIB);
        governor.afterCollection(PERIODIC_CAUSE, 18 * MIB);

        now += HeapGovernor.NANOS_BETWEEN_SHRINKS - 1;
        governor.afterCollection(YOUNG, 18 * MIB);
        assertEquals(List.of(SHRINK_INTERVAL_MILLIS, 0L), vm.intervals);

        now += 1;
        governor.afterCollection(YOUNG, 18 * MIB);
        assertEquals(List.of(SHRINK_INTERVAL_MILLIS, 0L, SHRINK_INTERVAL_MILLIS), vm.intervals);
    }

    @Test
    void anIdleHeapLeftLargeByABurstShrinksOnceNoCollectionRanForFifteenSeconds() {
        vm.committed = 212 * MIB;
        governor.afterCollection(YOUNG, 60 * MIB); // within four times: left alone under load
        vm.used = 100 * MIB;

        now += HeapGovernor.IDLE_NANOS - 1;
        governor.checkIdle();
        assertEquals(List.of(), vm.intervals, "a collection ran less than 15 s ago");

        vm.used = 150 * MIB; // 1.5 times that is more than is committed
        now += 1;
        governor.checkIdle();
        assertEquals(List.of(), vm.intervals, "most of the heap is in use");

        vm.used = 100 * MIB;
        governor.checkIdle();
        assertEquals(List.of(SHRINK_INTERVAL_MILLIS), vm.intervals);
    }

    @Test
    void onG1TheRequestedCycleRunsAndTheIntervalIsOffAgainOnceItStarted() throws Exception {
        List<GarbageCollectorMXBean> g1 = HeapGovernor.g1Collectors();
        assumeTrue(!g1.isEmpty(), "the test JVM runs G1 (the default on a machine with 2 cores and 2 GiB or more)");
        CountDownLatch periodic = new CountDownLatch(1);
        NotificationListener periodicSeen = (notification, handback) -> {
            if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())
                    && PERIODIC_CAUSE.equals(GarbageCollectionNotificationInfo.from(
                            (CompositeData) notification.getUserData()).getGcCause())) {
                periodic.countDown();
            }
        };
        for (GarbageCollectorMXBean collector : g1) {
            ((NotificationEmitter) collector).addNotificationListener(periodicSeen, null, null);
        }
        // This JVM's heap as it is, but reported as far larger than anything a collection leaves.
        HeapGovernor.HotSpotVm hotSpot = new HeapGovernor.HotSpotVm(HOTSPOT);
        HeapGovernor.Vm oversized = new HeapGovernor.Vm() {
            @Override
            public long committedHeap() {
                return Long.MAX_VALUE / 2;
            }

            @Override
            public long usedHeap() {
                return hotSpot.usedHeap();
            }

            @Override
            public void periodicInterval(long millis) {
                hotSpot.periodicInterval(millis);
            }
        };
        HeapGovernor running = HeapGovernor.start(oversized, g1);
        try {
            System.gc(); // a collection the governor sees; then this thread leaves the JVM idle
            assertTrue(periodic.await(20, TimeUnit.SECONDS), "G1 ran the periodic collection the governor asked for");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!"0".equals(HOTSPOT.getVMOption("G1PeriodicGCInterval").getValue()) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals("0", HOTSPOT.getVMOption("G1PeriodicGCInterval").getValue());
        } finally {
            running.stop();
            for (GarbageCollectorMXBean collector : g1) {
                ((NotificationEmitter) collector).removeNotificationListener(periodicSeen);
            }
        }
    }

    @Test
    void installKeepsWhatTheUserSetAndGovernsNothingWhenTheIntervalIsTheirs() throws Exception {
        assumeTrue(!HeapGovernor.g1Collectors().isEmpty(), "the test JVM runs G1");
        // A setting given by the user (here: set through the same interface before) is left alone.
        HOTSPOT.setVMOption("G1PeriodicGCInterval", "60000");

        List<String> applied = HeapGovernor.install();

        assertEquals("60000", HOTSPOT.getVMOption("G1PeriodicGCInterval").getValue());
        assertEquals(String.valueOf(HeapGovernor.MIN_HEAP_FREE_RATIO), HOTSPOT.getVMOption("MinHeapFreeRatio").getValue());
        assertEquals(String.valueOf(HeapGovernor.MAX_HEAP_FREE_RATIO), HOTSPOT.getVMOption("MaxHeapFreeRatio").getValue());
        assertEquals(List.of("MinHeapFreeRatio=10", "MaxHeapFreeRatio=30"), applied);
        assertTrue(HeapGovernor.install().isEmpty(), "set once, they are not the defaults any more");
        HOTSPOT.setVMOption("G1PeriodicGCInterval", "0");
    }

    private static final class RecordedVm implements HeapGovernor.Vm {
        long committed;
        long used;
        final List<Long> intervals = new ArrayList<>();

        @Override
        public long committedHeap() {
            return committed;
        }

        @Override
        public long usedHeap() {
            return used;
        }

        @Override
        public void periodicInterval(long millis) {
            intervals.add(millis);
        }
    }
}
