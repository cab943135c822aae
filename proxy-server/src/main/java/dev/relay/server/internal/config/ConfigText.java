package dev.relay.server.internal.config;

import java.time.Duration;

/** Values written back the way the configuration file writes them. */
public final class ConfigText {
    private ConfigText() {}

    /** {@code 250ms}, {@code 5s}, {@code 2m}, {@code 1h}: the shortest exact HOCON duration. */
    public static String duration(Duration d) {
        long ms = d.toMillis();
        if (ms == 0 || !Duration.ofMillis(ms).equals(d)) {
            return d.toNanos() + "ns";
        }
        if (ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }
}
