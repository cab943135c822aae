package dev.relay.testing.internal;

import dev.relay.testing.LeakDetection;
import dev.relay.testing.LeakDetectionExtension;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.util.Properties;

/**
 * Sets up leak detection for every test run that has {@code proxy-test-support} on its classpath,
 * registered in {@code META-INF/services/org.junit.platform.launcher.LauncherSessionListener}:
 *
 * <ul>
 *   <li>installs {@link LeakDetection} when the session opens, before test classes are loaded;</li>
 *   <li>switches on Jupiter's extension auto-detection, restricted to {@link LeakDetectionExtension}, by
 *       system property (JUnit reads configuration parameters from system properties), unless the run
 *       already configures auto-detection (system property or {@code junit-platform.properties}), in
 *       which case that configuration is left alone.</li>
 * </ul>
 */
public final class LeakDetectionSessionListener implements LauncherSessionListener {
    static final String AUTODETECTION_ENABLED = "junit.jupiter.extensions.autodetection.enabled";
    static final String AUTODETECTION_INCLUDE = "junit.jupiter.extensions.autodetection.include";
    private static final String PLATFORM_PROPERTIES = "junit-platform.properties";

    /** Used by {@code ServiceLoader}. */
    public LeakDetectionSessionListener() {
    }

    @Override
    public void launcherSessionOpened(LauncherSession session) {
        LeakDetection.install();
        enableAutodetectionOfLeakDetectionExtension();
    }

    private static synchronized void enableAutodetectionOfLeakDetectionExtension() {
        if (System.getProperty(AUTODETECTION_ENABLED) != null || System.getProperty(AUTODETECTION_INCLUDE) != null
                || configuredInPlatformProperties()) {
            return;
        }
        System.setProperty(AUTODETECTION_INCLUDE, LeakDetectionExtension.class.getName());
        System.setProperty(AUTODETECTION_ENABLED, "true");
    }

    private static boolean configuredInPlatformProperties() {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        if (loader == null) {
            loader = LeakDetectionSessionListener.class.getClassLoader();
        }
        URL resource = loader.getResource(PLATFORM_PROPERTIES);
        if (resource == null) {
            return false;
        }
        Properties properties = new Properties();
        try (InputStream in = resource.openStream()) {
            properties.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        }
        return properties.containsKey(AUTODETECTION_ENABLED) || properties.containsKey(AUTODETECTION_INCLUDE);
    }
}
