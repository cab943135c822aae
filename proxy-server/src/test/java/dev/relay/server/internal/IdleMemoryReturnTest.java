package dev.relay.server.internal;

import com.sun.management.HotSpotDiagnosticMXBean;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The settings are process-wide: this changes them for the test JVM, which does the other tests no harm. */
class IdleMemoryReturnTest {
    private static final HotSpotDiagnosticMXBean HOTSPOT =
            ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);

    private static boolean g1() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream().anyMatch(gc -> gc.getName().startsWith("G1 "));
    }

    @Test
    void onG1TheDefaultsBecomeAnIdleReturnOfMemoryAndAFlagTheUserGaveIsKept() throws Exception {
        assumeTrue(g1(), "the test JVM runs G1 (the default on a machine with 2 cores and 2 GiB or more)");
        // A setting given by the user (here: set through the same interface before) is left alone.
        HOTSPOT.setVMOption("G1PeriodicGCInterval", "60000");

        List<String> applied = IdleMemoryReturn.apply();

        assertEquals("60000", HOTSPOT.getVMOption("G1PeriodicGCInterval").getValue());
        assertEquals(String.valueOf(IdleMemoryReturn.MIN_HEAP_FREE_RATIO), HOTSPOT.getVMOption("MinHeapFreeRatio").getValue());
        assertEquals(String.valueOf(IdleMemoryReturn.MAX_HEAP_FREE_RATIO), HOTSPOT.getVMOption("MaxHeapFreeRatio").getValue());
        assertEquals(List.of("MinHeapFreeRatio=10", "MaxHeapFreeRatio=30"), applied);
        assertTrue(IdleMemoryReturn.apply().isEmpty(), "set once, they are not the defaults any more");
    }
}
