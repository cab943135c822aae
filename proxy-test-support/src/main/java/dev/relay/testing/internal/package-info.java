/**
 * Wiring that JUnit loads by {@code ServiceLoader}; public only because {@code ServiceLoader} requires it.
 * Not API: use {@link dev.relay.testing.LeakDetection} and {@link dev.relay.testing.LeakDetectionExtension}.
 */
package dev.relay.testing.internal;
