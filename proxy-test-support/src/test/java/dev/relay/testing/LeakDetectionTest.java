package dev.relay.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

@Timeout(60)
class LeakDetectionTest {

    @Test
    void isInstalledThroughTheFactoryBeforeAnyBufferExists() {
        assertTrue(LeakDetection.isInstalled());
        assertTrue(LeakDetection.installedThroughFactory(),
                "ByteBuf's leak detector was created before the session listener installed ours");
        assertEquals(ResourceLeakDetector.Level.PARANOID, ResourceLeakDetector.getLevel());
    }

    @Test
    void theExtensionGuardsThisClassWithoutBeingRegisteredHere() {
        assertTrue(LeakDetectionExtension.guards(LeakDetectionTest.class));
    }

    @Test
    void findsABufferThatWasNeverReleased() {
        assertEquals(List.of(), LeakDetection.detectLeaks(), "leaks from before this test");

        leakAPooledBuffer();
        List<LeakDetection.LeakReport> leaks = LeakDetection.detectLeaks();

        assertEquals(1, leaks.size(), leaks::toString);
        assertEquals("ByteBuf", leaks.get(0).resourceType());
        assertTrue(leaks.get(0).records().contains("leakAPooledBuffer"), leaks.get(0).records());
        assertEquals(List.of(), LeakDetection.detectLeaks(), "detectLeaks() forgets what it returned");
    }

    @Test
    void assertNoLeaksNamesTheLeak() {
        leakAnAdaptiveBuffer();

        AssertionError failure = assertThrows(AssertionError.class, () -> LeakDetection.assertNoLeaks("here"));
        assertTrue(failure.getMessage().startsWith("1 resource leaked"), failure.getMessage());
        assertTrue(failure.getMessage().contains("leakAnAdaptiveBuffer"), failure.getMessage());
    }

    @Test
    void releasedBuffersAreNotReported() {
        ByteBuf buf = ByteBufAllocator.DEFAULT.directBuffer(64).writeLong(1);
        buf.release();

        LeakDetection.assertNoLeaks("after releasing");
    }

    @Test
    void aTestClassThatLeaksFailsThroughTheAutodetectedExtension() {
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClass(LeakingExample.class))
                .build(), listener);
        TestExecutionSummary summary = listener.getSummary();

        assertEquals(1, summary.getTestsSucceededCount(), "the test itself passes");
        assertEquals(1, summary.getTotalFailureCount(), "the class fails");
        Throwable failure = summary.getFailures().get(0).getException();
        assertTrue(failure instanceof AssertionError, failure::toString);
        assertTrue(failure.getMessage().contains("during or before " + LeakingExample.class.getName()),
                failure.getMessage());
        assertTrue(failure.getMessage().contains("leaksInsideATest"), failure.getMessage());
        assertFalse(LeakingExample.class.getSimpleName().endsWith("Test"), "surefire must not run it itself");
    }

    private static void leakAPooledBuffer() {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(128);
        buf.writeInt(42);
    }

    private static void leakAnAdaptiveBuffer() {
        ByteBuf buf = ByteBufAllocator.DEFAULT.heapBuffer(32);
        buf.writeByte(1);
    }

    /** Run only by {@link #aTestClassThatLeaksFailsThroughTheAutodetectedExtension()}. */
    static class LeakingExample {
        @Test
        void leaksInsideATest() {
            ByteBuf buf = ByteBufAllocator.DEFAULT.buffer(16);
            buf.writeShort(7);
        }
    }
}
