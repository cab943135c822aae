package dev.relay.testing;

import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import io.netty.util.ResourceLeakTracker;

import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;

import static java.util.Objects.requireNonNull;

/**
 * Turns Netty's leak reports into test failures. {@link #install()} replaces Netty's
 * {@link ResourceLeakDetectorFactory} with one whose detectors record every leak report (as well as
 * logging it); {@link #detectLeaks()} makes the detectors look for leaks now and returns what they found.
 *
 * <h2>How it is wired</h2>
 * <ol>
 *   <li>A JUnit Platform {@code LauncherSessionListener} in this module (registered in
 *       {@code META-INF/services}) calls {@link #install()} when the test run starts, before any test
 *       class is loaded and so before Netty creates the detector for {@code ByteBuf}. It also switches on
 *       JUnit's extension auto-detection, restricted to {@link LeakDetectionExtension}, unless the run
 *       configures auto-detection itself.</li>
 *   <li>{@link LeakDetectionExtension}, auto-detected through {@code META-INF/services}, calls
 *       {@link #assertNoLeaks(String)} after each top-level test class, which fails the class if anything
 *       leaked.</li>
 * </ol>
 * A module only needs this module on its test classpath. If {@code ByteBuf} was initialised before
 * {@link #install()} ran (say, a launcher without session listeners), the existing {@code ByteBuf}
 * detector is made to record its reports instead.
 *
 * <h2>What counts</h2>
 * A leak is a reference-counted object (a {@code ByteBuf} above all) that became garbage without being
 * released. Leaks are found when the garbage collector has collected such an object, which is why
 * {@link #detectLeaks()} runs the collector; waiting for it is the one timed wait here. At the
 * {@code PARANOID} level (set by the build, and by {@link #install()} when no level is configured)
 * every buffer is tracked, and each report names where the buffer was allocated and last touched.
 * Heap buffers from {@code Unpooled} are never tracked by Netty; pooled, adaptive and direct ones are.
 *
 * <pre>{@code
 * // in a test that wants to check a narrower scope than the test class:
 * LeakDetection.assertNoLeaks("after the upload");
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class LeakDetection {
    private static final String LEVEL_PROPERTY = "io.netty.leakDetection.level";
    private static final String LEGACY_LEVEL_PROPERTY = "io.netty.leakDetectionLevel";
    private static final long GC_WAIT_MILLIS = 2_000;
    private static final int GC_ROUNDS = 2;
    private static final int FULL_REPORTS_IN_FAILURE = 5;

    /** Reports from any thread (often an event loop), drained by {@link #detectLeaks()}. */
    private static final Queue<LeakReport> REPORTS = new ConcurrentLinkedQueue<>();
    /** Every detector we can make look for leaks on demand. */
    private static final List<ResourceLeakDetector<?>> DETECTORS = new CopyOnWriteArrayList<>();
    /** Resource types (simple class names) whose detector records into {@link #REPORTS}. */
    private static final java.util.Set<String> RECORDED_TYPES = ConcurrentHashMap.newKeySet();
    /** Stands in for a tracked object when a detector is only asked to poll. */
    private static final Object PROBE = new Object();

    private static boolean installed;
    private static volatile boolean throughFactory;
    private static volatile String problem = "LeakDetection.install() has not run";

    private LeakDetection() {
    }

    /**
     * One leak report from Netty: a resource that was garbage-collected without being released.
     *
     * @param resourceType the simple class name of the resource type, for example {@code "ByteBuf"}
     * @param records      where it was created and last accessed, most recent first; empty when the leak
     *                     was not traced (a detection level below {@code PARANOID} or {@code ADVANCED})
     */
    public record LeakReport(String resourceType, String records) {
        /** Validates the components. */
        public LeakReport {
            requireNonNull(resourceType, "resourceType");
            requireNonNull(records, "records");
        }

        @Override
        public String toString() {
            return "LEAK: " + resourceType + (records.isEmpty() ? " (untraced)" : records);
        }
    }

    /**
     * Installs the recording detector factory; idempotent. Call it before the first {@code ByteBuf}
     * is allocated (the session listener does); a later call records through {@code ByteBuf}'s existing
     * detector instead.
     */
    public static synchronized void install() {
        if (installed) {
            return;
        }
        installed = true;
        if (System.getProperty(LEVEL_PROPERTY) == null && System.getProperty(LEGACY_LEVEL_PROPERTY) == null) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        }
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new RecordingFactory());
        Class<?> abstractByteBuf;
        try {
            // Creates ByteBuf's detector now (through our factory unless it already exists).
            abstractByteBuf = Class.forName("io.netty.buffer.AbstractByteBuf", true,
                    LeakDetection.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            problem = "netty-buffer is not on the classpath";
            return;
        }
        if (RECORDED_TYPES.contains("ByteBuf")) {
            throughFactory = true;
            problem = null;
            return;
        }
        recordThroughExistingDetector(abstractByteBuf);
    }

    /** Whether leaked {@code ByteBuf}s are being recorded (so that {@link #detectLeaks()} can find them). */
    public static boolean isInstalled() {
        return problem == null;
    }

    /** Whether {@link #install()} ran in time to put its factory behind {@code ByteBuf}'s detector. */
    static boolean installedThroughFactory() {
        return throughFactory;
    }

    /**
     * Runs the garbage collector, makes every known detector report what it finds, and returns (and
     * forgets) every leak reported since the last call. Blocks for a GC cycle or two.
     */
    public static List<LeakReport> detectLeaks() {
        install();
        for (int round = 0; round < GC_ROUNDS; round++) {
            // The second round's GC finishes only after the reference handler has enqueued everything
            // the first one found, so two rounds see every object that was garbage when we started.
            collectGarbage();
            for (ResourceLeakDetector<?> detector : DETECTORS) {
                poll(detector);
            }
        }
        List<LeakReport> found = new ArrayList<>();
        LeakReport report;
        while ((report = REPORTS.poll()) != null) {
            found.add(report);
        }
        return List.copyOf(found);
    }

    /**
     * {@link #detectLeaks()} and fails if it found any.
     *
     * @param scope what is being checked, for the failure message; for example a test class name
     * @throws AssertionError naming every leak, or saying why leaks cannot be detected
     */
    public static void assertNoLeaks(String scope) {
        requireNonNull(scope, "scope");
        List<LeakReport> leaks = detectLeaks();
        String notInstalled = problem;
        if (notInstalled != null) {
            throw new AssertionError("Leak detection is not active for " + scope + ": " + notInstalled);
        }
        if (leaks.isEmpty()) {
            return;
        }
        StringBuilder message = new StringBuilder()
                .append(leaks.size()).append(leaks.size() == 1 ? " resource" : " resources")
                .append(" leaked (garbage-collected without release()) during or before ").append(scope)
                .append(". Whoever owns a ByteBuf must release it exactly once.");
        for (int i = 0; i < leaks.size(); i++) {
            LeakReport leak = leaks.get(i);
            message.append("\n\n#").append(i + 1).append(' ');
            if (i < FULL_REPORTS_IN_FAILURE) {
                message.append(leak);
            } else {
                message.append("LEAK: ").append(leak.resourceType()).append(" (see the log for its records)");
            }
        }
        throw new AssertionError(message.toString());
    }

    private static void collectGarbage() {
        ReferenceQueue<Object> queue = new ReferenceQueue<>();
        WeakReference<Object> sentinel = new WeakReference<>(new Object(), queue);
        System.gc();
        try {
            // Event-driven: returns as soon as the GC has processed references; the bound only matters
            // when explicit GC is disabled (-XX:+DisableExplicitGC).
            queue.remove(GC_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            Reference.reachabilityFence(sentinel);
        }
    }

    /** Makes {@code detector} drain its reference queue and report, whatever the detection level. */
    @SuppressWarnings("unchecked")
    private static <T> void poll(ResourceLeakDetector<T> detector) {
        ResourceLeakTracker<T> tracker = detector.trackForcibly((T) PROBE);
        if (tracker != null) {
            tracker.close((T) PROBE);
        }
    }

    private static void recordThroughExistingDetector(Class<?> abstractByteBuf) {
        try {
            Field field = abstractByteBuf.getDeclaredField("leakDetector");
            field.setAccessible(true);
            ResourceLeakDetector<?> detector = (ResourceLeakDetector<?>) field.get(null);
            detector.setLeakListener((resourceType, records) -> REPORTS.add(new LeakReport(resourceType, records)));
            DETECTORS.add(detector);
            RECORDED_TYPES.add("ByteBuf");
            problem = null;
        } catch (ReflectiveOperationException | RuntimeException e) {
            problem = "ByteBuf was initialised before LeakDetection.install() and its detector cannot be "
                    + "observed (" + e + "); install it earlier, e.g. from a LauncherSessionListener";
        }
    }

    /** Creates detectors that record their reports. */
    private static final class RecordingFactory extends ResourceLeakDetectorFactory {
        /** Abstract (and deprecated) in Netty: {@code maxActive} is ignored there too. */
        @Override
        @SuppressWarnings("deprecation")
        public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval,
                                                                   long maxActive) {
            return newResourceLeakDetector(resource, samplingInterval);
        }

        @Override
        public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval) {
            RecordingDetector<T> detector = new RecordingDetector<>(resource, samplingInterval);
            DETECTORS.add(detector);
            RECORDED_TYPES.add(resource.getSimpleName());
            return detector;
        }
    }

    /** Netty's detector, reporting into {@link #REPORTS} as well as the log. */
    private static final class RecordingDetector<T> extends ResourceLeakDetector<T> {
        RecordingDetector(Class<?> resourceType, int samplingInterval) {
            super(resourceType, samplingInterval);
        }

        @Override
        protected boolean needReport() {
            // The default asks whether ERROR logging is on; a test must see leaks whatever the logging.
            return true;
        }

        @Override
        protected void reportTracedLeak(String resourceType, String records) {
            REPORTS.add(new LeakReport(resourceType, records));
            super.reportTracedLeak(resourceType, records);
        }

        @Override
        protected void reportUntracedLeak(String resourceType) {
            REPORTS.add(new LeakReport(resourceType, ""));
            super.reportUntracedLeak(resourceType);
        }
    }
}
