package dev.relay.server.internal.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static java.util.Objects.requireNonNull;

/**
 * The metrics of the stream (layer-4) services, registered in the {@link RelayMetrics} registry (so
 * {@code /metrics} shows them) and labelled by stream name. As on the HTTP side, each stream's data
 * points are resolved once ({@link #stream(String)}) and then only incremented.
 */
public final class StreamMetrics {
    private final Counter connections;
    private final Counter bytes;
    private final Counter connectFailures;
    private final Gauge open;
    private final Map<String, Stats> streams = new ConcurrentHashMap<>();

    /** Registers the stream metrics in {@code metrics}' registry. */
    public StreamMetrics(RelayMetrics metrics) {
        requireNonNull(metrics, "metrics");
        connections = Counter.builder().name("relay_stream_connections")
                .help("Client connections of a stream service that ended, by how they ended (completed, idle_timeout, "
                        + "connect_failed, client_error, upstream_error, shutdown)")
                .labelNames("stream", "end").withoutExemplars().register(metrics.registry());
        bytes = Counter.builder().name("relay_stream_bytes")
                .help("Bytes relayed by a stream service: in = from clients to backends, out = from backends to clients")
                .labelNames("stream", "direction").withoutExemplars().register(metrics.registry());
        connectFailures = Counter.builder().name("relay_stream_connect_failures")
                .help("Failed connect attempts to a stream service's backends (each attempt counts)")
                .labelNames("stream").withoutExemplars().register(metrics.registry());
        open = Gauge.builder().name("relay_stream_connections_open")
                .help("Client connections of a stream service now")
                .labelNames("stream").withoutExemplars().register(metrics.registry());
    }

    /** The data points of stream {@code name}; created once, then shared. */
    public Stats stream(String name) {
        return streams.computeIfAbsent(name, Stats::new);
    }

    /** What one stream service records. */
    public final class Stats {
        private final String name;
        private final CounterDataPoint bytesIn;
        private final CounterDataPoint bytesOut;
        private final CounterDataPoint failures;
        private final GaugeDataPoint openNow;
        private final Map<String, CounterDataPoint> byEnd = new ConcurrentHashMap<>();

        Stats(String name) {
            this.name = name;
            bytesIn = bytes.labelValues(name, "in");
            bytesOut = bytes.labelValues(name, "out");
            failures = connectFailures.labelValues(name);
            openNow = open.labelValues(name);
        }

        /** A connection was accepted. */
        public void opened() {
            openNow.inc();
        }

        /** A connect attempt failed. */
        public void connectFailed() {
            failures.inc();
        }

        /** A connection ended ({@code end} in lower case), having relayed these bytes. */
        public void ended(String end, long bytesFromClient, long bytesToClient) {
            openNow.dec();
            byEnd.computeIfAbsent(end, e -> connections.labelValues(name, e)).inc();
            if (bytesFromClient > 0) {
                bytesIn.inc(bytesFromClient);
            }
            if (bytesToClient > 0) {
                bytesOut.inc(bytesToClient);
            }
        }
    }
}
