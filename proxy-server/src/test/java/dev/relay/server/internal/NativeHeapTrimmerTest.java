package dev.relay.server.internal;

import org.junit.jupiter.api.Test;

import javax.management.JMException;
import javax.management.ReflectionException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The policy against a recorded JVM, then the command on this test JVM. */
class NativeHeapTrimmerTest {
    private final RecordedVm vm = new RecordedVm();
    private final NativeHeapTrimmer trimmer = new NativeHeapTrimmer(vm);

    @Test
    void aBurstOfCompilationsAfterAQuietTimeIsTrimmedAtTheFirstLookAfterItEnds() {
        vm.compilationMillis = 1_200;
        assertFalse(trimmer.check(), "start-up still compiling");
        vm.compilationMillis = 1_300;
        assertFalse(trimmer.check(), "still compiling");
        assertTrue(trimmer.check(), "the burst ended");
        assertFalse(trimmer.check(), "nothing compiled since");
        lookWithoutCompiling(NativeHeapTrimmer.QUIET_LOOKS);
        assertEquals(1, vm.trims);

        vm.compilationMillis = 1_450;
        assertFalse(trimmer.check(), "a new burst");
        assertTrue(trimmer.check(), "it ended");
        assertFalse(trimmer.check(), "nothing compiled since");
        assertEquals(2, vm.trims);
    }

    @Test
    void burstsThatKeepComingAreTrimmedAtLongerAndLongerIntervals() {
        List<Integer> trimmedAtLook = new ArrayList<>();
        for (int look = 1; look <= 80; look++) {
            if (look % 2 == 1) {
                vm.compilationMillis += 10; // a burst every other look: each ends at the next look
            }
            if (trimmer.check()) {
                trimmedAtLook.add(look);
            }
        }
        // Waits of 1, 2, 4, 8 and 16 looks, rounded up to the next end of a burst, then 16 each.
        assertEquals(List.of(2, 4, 8, 16, 32, 48, 64, 80), trimmedAtLook);
    }

    @Test
    void aQuietTimeMakesTheNextBurstTrimmedAsSoonAsItEnds() {
        for (int look = 1; look <= 40; look++) {
            vm.compilationMillis += look % 2;
            trimmer.check();
        }
        lookWithoutCompiling(NativeHeapTrimmer.QUIET_LOOKS);
        int trims = vm.trims;

        vm.compilationMillis += 10;
        assertFalse(trimmer.check());
        assertTrue(trimmer.check(), "a wait of one look again");
        assertEquals(trims + 1, vm.trims);
    }

    @Test
    void compilersThatNeverStopAreTrimmedEverySixteenLooksAtMost() {
        List<Integer> trimmedAtLook = new ArrayList<>();
        for (int look = 1; look <= 48; look++) {
            vm.compilationMillis += 10;
            if (trimmer.check()) {
                trimmedAtLook.add(look);
            }
        }
        assertEquals(List.of(NativeHeapTrimmer.MAX_LOOKS_BETWEEN_TRIMS, 2 * NativeHeapTrimmer.MAX_LOOKS_BETWEEN_TRIMS,
                3 * NativeHeapTrimmer.MAX_LOOKS_BETWEEN_TRIMS), trimmedAtLook);
    }

    private void lookWithoutCompiling(int looks) {
        for (int look = 0; look < looks; look++) {
            trimmer.check();
        }
    }

    @Test
    void aJvmWithoutTheCommandIsAskedOnceAndNeverAgain() {
        vm.failure = new ReflectionException(new NoSuchMethodException("systemTrimNativeHeap"));

        assertFalse(trimmer.check(), "the first look only reads the compilers' time");
        assertFalse(trimmer.check());
        assertTrue(trimmer.isStopped());
        vm.compilationMillis = 5_000;
        assertFalse(trimmer.check());
        assertEquals(1, vm.trims, "asked once");
    }

    @Test
    void aCLibraryWithoutTrimmingStopsTheTrimmer() {
        vm.report = "Not available.";

        trimmer.check();
        assertFalse(trimmer.check());
        assertTrue(trimmer.isStopped());
    }

    @Test
    void thisJvmEitherTrimsAndReportsOrStopsTheTrimmer() {
        NativeHeapTrimmer.HotSpotVm hotSpot =
                new NativeHeapTrimmer.HotSpotVm(ManagementFactory.getCompilationMXBean()::getTotalCompilationTime);
        hotSpot.prepare();
        List<String> reports = new ArrayList<>();
        NativeHeapTrimmer real = new NativeHeapTrimmer(new NativeHeapTrimmer.Vm() {
            @Override
            public long compilationMillis() {
                return hotSpot.compilationMillis();
            }

            @Override
            public String trim() throws JMException {
                String report = hotSpot.trim();
                reports.add(report);
                return report;
            }
        });

        // However busy this JVM's compilers are, the sixteenth look trims.
        boolean trimmed = false;
        for (int look = 0; look < NativeHeapTrimmer.MAX_LOOKS_BETWEEN_TRIMS && !trimmed && !real.isStopped(); look++) {
            trimmed = real.check();
        }

        // JDK 17.0.9 and later on glibc have the command; an older JDK or another C library do not.
        assertNotEquals(trimmed, real.isStopped());
        if (trimmed) {
            assertEquals(1, reports.size());
            assertTrue(reports.get(0).contains("Trim native heap"), reports.get(0));
        }
    }

    /** A JVM whose compilation time the test moves, counting the trims asked of it. */
    private static final class RecordedVm implements NativeHeapTrimmer.Vm {
        long compilationMillis;
        int trims;
        JMException failure;
        String report = "Trim native heap: RSS+Swap: 231M->214M (-17188K)";

        @Override
        public long compilationMillis() {
            return compilationMillis;
        }

        @Override
        public String trim() throws JMException {
            trims++;
            if (failure != null) {
                throw failure;
            }
            return report;
        }
    }
}
