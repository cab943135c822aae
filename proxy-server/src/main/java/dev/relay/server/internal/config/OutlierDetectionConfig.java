package dev.relay.server.internal.config;

import dev.relay.lb.OutlierDetection;

import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * Passive health of an upstream group ({@code outlier-detection { ... }}): when the proxy's own
 * attempts eject a backend. A value, so that a reload can tell an unchanged group from a changed one.
 *
 * @param consecutiveFailures attempts failed in a row that eject; 0: not by streak
 * @param failureRatePercent  failed share of a window's attempts that ejects; 0: not by rate
 * @param minimumRequests     attempts a window needs before its failure rate counts
 * @param window              the failure-rate window
 * @param baseEjectionTime    the first ejection's length, doubled on each repeat
 * @param maxEjectionTime     the longest ejection
 * @param maxEjectionPercent  the largest share of the group ejected at once (at least one backend may be)
 */
public record OutlierDetectionConfig(int consecutiveFailures, int failureRatePercent, int minimumRequests,
                                     Duration window, Duration baseEjectionTime, Duration maxEjectionTime,
                                     int maxEjectionPercent) {

    /** The defaults: Envoy's (5 in a row; 85% of at least 50 in 10 s; 30 s to 300 s; 10%). */
    public static final OutlierDetectionConfig DEFAULTS = new OutlierDetectionConfig(5, 85, 50,
            Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(300), 10);

    public OutlierDetectionConfig {
        requireNonNull(window, "window");
        requireNonNull(baseEjectionTime, "baseEjectionTime");
        requireNonNull(maxEjectionTime, "maxEjectionTime");
    }

    /**
     * The load balancer's settings.
     *
     * @throws IllegalArgumentException or IllegalStateException naming the setting out of range
     */
    public OutlierDetection create() {
        return OutlierDetection.builder()
                .consecutiveFailures(consecutiveFailures)
                .failureRatePercent(failureRatePercent)
                .minimumRequests(minimumRequests)
                .window(window)
                .baseEjectionTime(baseEjectionTime)
                .maxEjectionTime(maxEjectionTime)
                .maxEjectionPercent(maxEjectionPercent)
                .build();
    }
}
