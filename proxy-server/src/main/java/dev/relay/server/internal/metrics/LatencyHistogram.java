package dev.relay.server.internal.metrics;

import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;

import java.util.concurrent.atomic.LongAdder;

/**
 * A fixed-bucket histogram of durations, recorded in nanoseconds and exposed in seconds. Recording is
 * a bucket search over a small array and two {@link LongAdder} increments: no lock, no allocation
 * (after a contended adder has grown its cells once), so it is safe on an event loop.
 *
 * <p>Why not the client library's {@code Histogram}: in the 1.x Java client an observation that
 * arrives while a scrape is running goes through a buffer guarded by a lock and may wait for the
 * scrape to finish (for a consistent snapshot). An event loop must never wait, so Relay records into
 * its own adders and hands the library a snapshot at scrape time; the snapshot may be off by the
 * observations made during the scrape, which Prometheus tolerates.
 */
public final class LatencyHistogram {
    /** Bucket upper bounds in seconds: 0.5 ms to 30 s, roughly ×2.5 per step. */
    static final double[] BOUNDS_SECONDS = {
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, Double.POSITIVE_INFINITY};
    private static final long[] BOUNDS_NANOS = new long[BOUNDS_SECONDS.length - 1];

    static {
        for (int i = 0; i < BOUNDS_NANOS.length; i++) {
            BOUNDS_NANOS[i] = Math.round(BOUNDS_SECONDS[i] * 1e9);
        }
    }

    private final Labels labels;
    private final LongAdder[] counts = new LongAdder[BOUNDS_SECONDS.length];
    private final LongAdder sumNanos = new LongAdder();

    LatencyHistogram(Labels labels) {
        this.labels = labels;
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    /** Records one duration; negative durations count as zero. */
    public void record(long nanos) {
        long n = Math.max(0, nanos);
        int i = 0;
        while (i < BOUNDS_NANOS.length && n > BOUNDS_NANOS[i]) {
            i++;
        }
        counts[i].increment();
        sumNanos.add(n);
    }

    /** The number of durations recorded. */
    public long count() {
        long total = 0;
        for (LongAdder c : counts) {
            total += c.sum();
        }
        return total;
    }

    HistogramDataPointSnapshot snapshot() {
        long[] perBucket = new long[counts.length];
        for (int i = 0; i < counts.length; i++) {
            perBucket[i] = counts[i].sum();
        }
        return HistogramDataPointSnapshot.builder()
                .classicHistogramBuckets(ClassicHistogramBuckets.of(BOUNDS_SECONDS, perBucket))
                .sum(sumNanos.sum() / 1e9)
                .labels(labels)
                .build();
    }
}
