package dev.relay.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Fails a test class when any resource leaked while it ran: after all of a top-level class's tests
 * (and its {@code @AfterAll} methods and other extensions, so servers it stopped have released their
 * buffers), it runs {@link LeakDetection#assertNoLeaks(String)}.
 *
 * <p>Nothing needs to register it: JUnit auto-detects it through {@code META-INF/services} (see
 * {@link LeakDetection} for how auto-detection gets switched on). {@code @ExtendWith} works too.
 *
 * <p>A report names where the buffer was allocated and last touched; a leak found after one class may
 * have happened in the class before it, if that class left its servers running.
 */
public final class LeakDetectionExtension implements BeforeAllCallback, AfterAllCallback {
    /** Test classes this extension has checked or is about to check, for this module's own tests. */
    private static final Set<Class<?>> GUARDED = ConcurrentHashMap.newKeySet();

    static {
        // When no launcher session listener ran (an old launcher), install as early as we can.
        LeakDetection.install();
    }

    /** Used by JUnit. */
    public LeakDetectionExtension() {
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (isTopLevelClass(context)) {
            GUARDED.add(context.getRequiredTestClass());
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (isTopLevelClass(context)) {
            LeakDetection.assertNoLeaks(context.getRequiredTestClass().getName());
        }
    }

    /** Nested classes run inside their enclosing class, whose check covers them. */
    private static boolean isTopLevelClass(ExtensionContext context) {
        return context.getParent().map(parent -> parent.equals(context.getRoot())).orElse(false);
    }

    static boolean guards(Class<?> testClass) {
        return GUARDED.contains(testClass);
    }
}
