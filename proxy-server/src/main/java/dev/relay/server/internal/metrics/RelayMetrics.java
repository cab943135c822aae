package dev.relay.server.internal.metrics;

import dev.relay.core.Addresses;
import dev.relay.core.Backend;
import dev.relay.core.MirrorModuleFactory;
import dev.relay.lb.Backends;
import dev.relay.server.internal.proxy.ConfiguredCache;
import dev.relay.server.internal.proxy.ConfiguredMirror;
import dev.relay.server.internal.proxy.UpstreamGroup;
import dev.relay.transport.BufferMemory;
import dev.relay.transport.HttpProxyServer;
import dev.relay.transport.TlsHandshakeCount;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/**
 * The server's metrics, in the Prometheus Java client's registry, exposed in the Prometheus text
 * format by {@link #scrape()}.
 *
 * <p>Hot path: everything a request records goes through handles resolved when its route or
 * upstream group is first configured ({@link RouteStats}, {@link GroupStats}): a counter increment
 * is a {@code LongAdder} add on a cached data point, a duration goes into a {@link LatencyHistogram};
 * neither allocates nor takes a lock. Gauges (connections, health, in-flight counts) are read at
 * scrape time through callbacks and cost the event loops nothing. Series are keyed by route and
 * group names, so they carry on across configuration reloads.
 *
 * <p>Thread-safe.
 */
public final class RelayMetrics {
    /** The {@code status_class} label values by {@code status / 100}; index 0 is "no response". */
    private static final String[] STATUS_CLASSES = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests;
    private final Counter requestBytes;
    private final Counter responseBytes;
    private final Counter upstreamConnections;
    private final Counter retries;
    private final Counter reloads;
    private final Counter accessLogDropped;
    private final Map<String, RouteStats> routes = new ConcurrentHashMap<>();
    private final Map<String, GroupStats> groups = new ConcurrentHashMap<>();
    /** Durations by route name only: a route that moved to another group keeps its one series. */
    private final Map<String, LatencyHistogram> durations = new ConcurrentHashMap<>();
    private final CounterDataPoint reloadSuccess;
    private final CounterDataPoint reloadFailure;
    private final Map<AccessLog.DropReason, CounterDataPoint> droppedLines;
    private volatile Supplier<HttpProxyServer> server = () -> null;
    private volatile Supplier<Collection<UpstreamGroup>> upstreams = List::of;
    private volatile Supplier<List<ConfiguredMirror>> mirrors = List::of;
    private volatile Supplier<Map<java.net.SocketAddress, TlsHandshakeCount>> streamHandshakes = Map::of;
    private final CacheMetrics caches = new CacheMetrics();

    /** A registry with every Relay metric registered and nothing recorded. */
    public RelayMetrics() {
        requests = Counter.builder().name("relay_requests")
                .help("Requests answered, by route, upstream group and status class (none: no response was sent)")
                .labelNames("route", "upstream", "status_class").withoutExemplars().register(registry);
        requestBytes = Counter.builder().name("relay_request_body_bytes")
                .help("Request body bytes read from clients (bytes in)")
                .labelNames("route").withoutExemplars().register(registry);
        responseBytes = Counter.builder().name("relay_response_body_bytes")
                .help("Response body bytes written to clients (bytes out)")
                .labelNames("route").withoutExemplars().register(registry);
        upstreamConnections = Counter.builder().name("relay_upstream_connections_used")
                .help("Upstream connections used by requests' last attempts: opened for the request, or reused from the pool")
                .labelNames("upstream", "kind").withoutExemplars().register(registry);
        retries = Counter.builder().name("relay_upstream_retries")
                .help("Upstream attempts after the first, by upstream group")
                .labelNames("upstream").withoutExemplars().register(registry);
        reloads = Counter.builder().name("relay_config_reloads")
                .help("Configuration reloads, by result")
                .labelNames("result").withoutExemplars().register(registry);
        accessLogDropped = Counter.builder().name("relay_access_log_dropped_lines")
                .help("Access-log lines dropped: the writer fell a whole ring behind (ring_full), writing them "
                        + "failed (write_error), or they came after the log was closed (stopped)")
                .labelNames("reason").withoutExemplars().register(registry);
        reloadSuccess = reloads.labelValues("success");
        reloadFailure = reloads.labelValues("failure");
        droppedLines = new EnumMap<>(AccessLog.DropReason.class);
        for (AccessLog.DropReason reason : AccessLog.DropReason.values()) {
            droppedLines.put(reason, accessLogDropped.labelValues(reason.label()));
        }

        GaugeWithCallback.builder().name("relay_buffer_memory_bytes")
                .help("Memory reserved by the network buffer allocator, by kind (direct: off-heap, heap)")
                .labelNames("kind")
                .callback(cb -> {
                    BufferMemory memory = BufferMemory.now();
                    cb.call(memory.directBytes(), "direct");
                    cb.call(memory.heapBytes(), "heap");
                }).register(registry);
        GaugeWithCallback.builder().name("relay_downstream_connections")
                .help("Open client connections")
                .callback(cb -> {
                    HttpProxyServer s = server.get();
                    cb.call(s == null ? 0 : s.openConnections());
                }).register(registry);
        GaugeWithCallback.builder().name("relay_requests_active")
                .help("Requests in flight")
                .callback(cb -> {
                    HttpProxyServer s = server.get();
                    cb.call(s == null ? 0 : s.activeRequests());
                }).register(registry);
        GaugeWithCallback.builder().name("relay_upstream_connections")
                .help("Upstream connections now: active (carrying a request) and idle (pooled)")
                .labelNames("state")
                .callback(cb -> {
                    HttpProxyServer s = server.get();
                    long active = 0;
                    for (UpstreamGroup g : upstreams.get()) {
                        Backends backends = g.loadBalancer().backends();
                        for (Backend b : backends.list()) {
                            active += backends.inFlight(b);
                        }
                    }
                    cb.call(active, "active");
                    cb.call(s == null ? 0 : s.idleUpstreamConnections(), "idle");
                }).register(registry);
        GaugeWithCallback.builder().name("relay_upstream_connection_reuse_ratio")
                .help("Share of upstream requests sent on a reused connection since start: reused / (opened + reused)")
                .callback(cb -> {
                    HttpProxyServer s = server.get();
                    long opened = s == null ? 0 : s.upstreamConnectionsOpened();
                    long reused = s == null ? 0 : s.upstreamConnectionsReused();
                    cb.call(opened + reused == 0 ? 0 : (double) reused / (opened + reused));
                }).register(registry);
        GaugeWithCallback.builder().name("relay_backend_healthy")
                .help("1 when the backend passes its health checks (no check configured: 1), else 0")
                .labelNames("upstream", "backend")
                .callback(cb -> forEachBackend((g, b, set) -> cb.call(set.isHealthy(b) ? 1 : 0, g.name(), b.hostAndPort())))
                .register(registry);
        GaugeWithCallback.builder().name("relay_backend_ejected")
                .help("1 when passive health has ejected the backend, else 0")
                .labelNames("upstream", "backend")
                .callback(cb -> forEachBackend((g, b, set) -> cb.call(set.isEjected(b) ? 1 : 0, g.name(), b.hostAndPort())))
                .register(registry);
        GaugeWithCallback.builder().name("relay_backend_in_flight")
                .help("Requests in flight to the backend")
                .labelNames("upstream", "backend")
                .callback(cb -> forEachBackend((g, b, set) -> cb.call(set.inFlight(b), g.name(), b.hostAndPort())))
                .register(registry);
        CounterWithCallback.builder().name("relay_tls_handshakes")
                .help("TLS handshakes on the listeners that terminate TLS (HTTP and stream), by listener address and "
                        + "result: completed, or failed (no common version or cipher, a refused client certificate, "
                        + "a timeout, a client that left)")
                .labelNames("listener", "result")
                .callback(cb -> {
                    Map<java.net.SocketAddress, TlsHandshakeCount> all = new LinkedHashMap<>();
                    HttpProxyServer s = server.get();
                    if (s != null) {
                        all.putAll(s.tlsHandshakes());
                    }
                    all.putAll(streamHandshakes.get());
                    all.forEach((address, count) -> {
                        String listener = Addresses.format(address);
                        cb.call(count.completed(), listener, "completed");
                        cb.call(count.failed(), listener, "failed");
                    });
                }).register(registry);
        CounterWithCallback.builder().name("relay_downstream_connections_refused")
                .help("Client connections closed unread, by reason: a listener's allow/deny rules (filter), its "
                        + "max-connections (max_connections) or max-connections-per-client (max_connections_per_client)")
                .labelNames("reason")
                .callback(cb -> {
                    HttpProxyServer s = server.get();
                    cb.call(s == null ? 0 : s.connectionsRefused(), "filter");
                    cb.call(s == null ? 0 : s.connectionsOverListenerLimit(), "max_connections");
                    cb.call(s == null ? 0 : s.connectionsOverClientLimit(), "max_connections_per_client");
                }).register(registry);
        CounterWithCallback.builder().name("relay_requests_shed")
                .help("Requests answered 503 at once because max-requests-in-flight were in flight")
                .callback(cb -> {
                    HttpProxyServer s = server.get();
                    cb.call(s == null ? 0 : s.requestsShed());
                }).register(registry);
        CounterWithCallback.builder().name("relay_http2_abuse")
                .help("HTTP/2 client connections ended with GOAWAY ENHANCE_YOUR_CALM, by reason: a flood of one kind of "
                        + "control frame, stream churn (streams reset by either side), or a header block left open")
                .labelNames("reason")
                .callback(cb -> {
                    HttpProxyServer s = server.get();
                    if (s != null) {
                        s.http2AbuseCounts().forEach((reason, count) -> cb.call(count, reason));
                    }
                }).register(registry);
        CounterWithCallback.builder().name("relay_client_errors")
                .help("Requests that failed on the client's side, by reason: malformed, too_large, "
                        + "unsupported_version, method_not_allowed, timeout, closed (the client went away)")
                .labelNames("reason")
                .callback(cb -> {
                    HttpProxyServer s = server.get();
                    if (s != null) {
                        s.clientErrorCounts().forEach((reason, count) -> cb.call(count, reason));
                    }
                }).register(registry);
        http2PoolMetrics();
        mirrorMetrics();
        registry.register(new Histograms());
        registry.register(caches);
    }

    /**
     * The {@code mirror} filters of the current configuration, read at scrape time from their counters:
     * what became of the requests they sampled, and the copies in flight.
     */
    private void mirrorMetrics() {
        CounterWithCallback.builder().name("relay_mirror_requests")
                .help("Requests a mirror filter sampled, by filter, shadow group and outcome: mirrored (the shadow "
                        + "answered), failed (sent, no answer), body_too_large and over_in_flight (dropped, not sent)")
                .labelNames("mirror", "upstream", "outcome")
                .callback(cb -> {
                    for (ConfiguredMirror m : mirrors.get()) {
                        MirrorModuleFactory.Stats stats = m.filter().stats();
                        String upstream = m.filter().upstream();
                        cb.call(stats.mirrored(), m.name(), upstream, "mirrored");
                        cb.call(stats.failed(), m.name(), upstream, "failed");
                        cb.call(stats.bodyTooLarge(), m.name(), upstream, "body_too_large");
                        cb.call(stats.overInFlight(), m.name(), upstream, "over_in_flight");
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("relay_mirror_in_flight")
                .help("Copies a mirror filter sent that the shadow has not answered yet")
                .labelNames("mirror", "upstream")
                .callback(cb -> mirrors.get().forEach(m ->
                        cb.call(m.filter().stats().inFlight(), m.name(), m.filter().upstream())))
                .register(registry);
    }

    /** The multiplexed HTTP/2 upstream pool: totals since start, and per group what is open now. */
    private void http2PoolMetrics() {
        CounterWithCallback.builder().name("relay_upstream_h2_connections_opened")
                .help("Upstream HTTP/2 connections opened since start")
                .callback(cb -> cb.call(h2Total(HttpProxyServer::upstreamH2ConnectionsOpened))).register(registry);
        CounterWithCallback.builder().name("relay_upstream_h2_streams_opened")
                .help("Upstream HTTP/2 streams (request attempts) opened since start")
                .callback(cb -> cb.call(h2Total(HttpProxyServer::upstreamH2StreamsOpened))).register(registry);
        CounterWithCallback.builder().name("relay_upstream_h2_streams_reused")
                .help("Upstream HTTP/2 streams opened on a connection already in the pool, since start")
                .callback(cb -> cb.call(h2Total(HttpProxyServer::upstreamH2StreamsReused))).register(registry);
        CounterWithCallback.builder().name("relay_upstream_h2_ping_failures")
                .help("Upstream HTTP/2 connections dropped because a PING went unanswered, since start")
                .callback(cb -> cb.call(h2Total(HttpProxyServer::upstreamH2PingFailures))).register(registry);
        GaugeWithCallback.builder().name("relay_upstream_h2_connections")
                .help("Open upstream HTTP/2 connections, by upstream group")
                .labelNames("upstream")
                .callback(cb -> {
                    for (UpstreamGroup g : upstreams.get()) {
                        cb.call(upstreamH2Connections(g.id()), g.name());
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("relay_upstream_h2_streams_active")
                .help("Open upstream HTTP/2 streams, by upstream group")
                .labelNames("upstream")
                .callback(cb -> {
                    for (UpstreamGroup g : upstreams.get()) {
                        cb.call(upstreamH2ActiveStreams(g.id()), g.name());
                    }
                }).register(registry);
    }

    private long h2Total(java.util.function.ToLongFunction<HttpProxyServer> counter) {
        HttpProxyServer s = server.get();
        return s == null ? 0 : counter.applyAsLong(s);
    }

    /** Open upstream HTTP/2 connections of the group with {@link UpstreamGroup#id()} {@code groupId}. */
    public int upstreamH2Connections(long groupId) {
        HttpProxyServer s = server.get();
        return s == null ? 0 : s.upstreamH2Connections(groupId);
    }

    /** Open upstream HTTP/2 streams of the group with {@link UpstreamGroup#id()} {@code groupId}. */
    public int upstreamH2ActiveStreams(long groupId) {
        HttpProxyServer s = server.get();
        return s == null ? 0 : s.upstreamH2ActiveStreams(groupId);
    }

    private interface BackendVisitor {
        void visit(UpstreamGroup group, Backend backend, Backends set);
    }

    private void forEachBackend(BackendVisitor visitor) {
        for (UpstreamGroup g : upstreams.get()) {
            Backends set = g.loadBalancer().backends();
            for (Backend b : set.list()) {
                visitor.visit(g, b, set);
            }
        }
    }

    /** Where the connection gauges read from (the running proxy's transport server; null before start). */
    public void bindServer(Supplier<HttpProxyServer> server) {
        this.server = requireNonNull(server, "server");
    }

    /** Where the TLS handshake counts of the stream listeners come from (the stream services). */
    public void bindStreamHandshakes(Supplier<Map<java.net.SocketAddress, TlsHandshakeCount>> handshakes) {
        this.streamHandshakes = requireNonNull(handshakes, "handshakes");
    }

    /** Where the backend gauges read from (the current configuration's upstream groups). */
    public void bindUpstreams(Supplier<Collection<UpstreamGroup>> upstreams) {
        this.upstreams = requireNonNull(upstreams, "upstreams");
    }

    /** Where the cache metrics read from (the current configuration's caches). */
    public void bindCaches(Supplier<List<ConfiguredCache>> caches) {
        this.caches.bind(caches);
    }

    /** Where the mirror metrics read from (the current configuration's mirror filters). */
    public void bindMirrors(Supplier<List<ConfiguredMirror>> mirrors) {
        this.mirrors = requireNonNull(mirrors, "mirrors");
    }

    /** The handles of route {@code route} going to group {@code upstream}; created once, then shared. */
    public RouteStats route(String route, String upstream) {
        String key = route + '\u0000' + upstream;
        RouteStats stats = routes.get(key);
        return stats != null ? stats : routes.computeIfAbsent(key, k -> new RouteStats(route, upstream));
    }

    /** The handles of upstream group {@code upstream}; created once, then shared. */
    public GroupStats group(String upstream) {
        GroupStats stats = groups.get(upstream);
        return stats != null ? stats : groups.computeIfAbsent(upstream, GroupStats::new);
    }

    /** Counts a configuration reload. */
    public void reloaded(boolean success) {
        (success ? reloadSuccess : reloadFailure).inc();
    }

    /** Counts access-log lines dropped for {@code reason}. */
    public void accessLogDropped(AccessLog.DropReason reason, long lines) {
        droppedLines.get(reason).inc(lines);
    }

    /** The registry (for tests and for registering more collectors). */
    public PrometheusRegistry registry() {
        return registry;
    }

    /** Every metric in the Prometheus text format (version 0.0.4). */
    public byte[] scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        try {
            PrometheusTextFormatWriter.create().write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** The content type of {@link #scrape()}. */
    public static String contentType() {
        return PrometheusTextFormatWriter.CONTENT_TYPE;
    }

    /** What one route records per request; every handle is resolved at creation. */
    public final class RouteStats {
        private final CounterDataPoint[] byStatusClass = new CounterDataPoint[STATUS_CLASSES.length];
        private final CounterDataPoint bytesIn;
        private final CounterDataPoint bytesOut;
        private final LatencyHistogram duration;

        RouteStats(String route, String upstream) {
            for (int i = 0; i < STATUS_CLASSES.length; i++) {
                byStatusClass[i] = requests.labelValues(route, upstream, STATUS_CLASSES[i]);
            }
            bytesIn = requestBytes.labelValues(route);
            bytesOut = responseBytes.labelValues(route);
            duration = durations.computeIfAbsent(route, r -> new LatencyHistogram(Labels.of("route", r)));
        }

        /** Records one finished request. */
        public void record(int status, long durationNanos, long requestBodyBytes, long responseBodyBytes) {
            int statusClass = status >= 100 && status < 600 ? status / 100 : 0;
            byStatusClass[statusClass].inc();
            duration.record(durationNanos);
            if (requestBodyBytes > 0) {
                bytesIn.inc(requestBodyBytes);
            }
            if (responseBodyBytes > 0) {
                bytesOut.inc(responseBodyBytes);
            }
        }
    }

    /** What one upstream group records per request. */
    public final class GroupStats {
        private final CounterDataPoint opened;
        private final CounterDataPoint reused;
        private final CounterDataPoint retried;
        private final LatencyHistogram connectTime;

        GroupStats(String upstream) {
            opened = upstreamConnections.labelValues(upstream, "opened");
            reused = upstreamConnections.labelValues(upstream, "reused");
            retried = retries.labelValues(upstream);
            connectTime = new LatencyHistogram(Labels.of("upstream", upstream));
        }

        /**
         * Records the upstream side of one request: its attempts and whether its last connection was
         * reused or opened (and then how long it took).
         */
        public void record(int attempts, boolean connectionReused, long connectNanos) {
            if (attempts <= 0) {
                return;
            }
            if (attempts > 1) {
                retried.inc(attempts - 1);
            }
            if (connectionReused) {
                reused.inc();
            } else if (connectNanos > 0) {
                opened.inc();
                connectTime.record(connectNanos);
            }
        }
    }

    /** The two histograms, as snapshots of the route and group handles. */
    private final class Histograms implements MultiCollector {
        @Override
        public MetricSnapshots collect() {
            HistogramSnapshot.Builder durations = HistogramSnapshot.builder().name("relay_request_duration_seconds")
                    .help("Time from the request header to the end of the response, by route");
            for (LatencyHistogram h : RelayMetrics.this.durations.values()) {
                durations.dataPoint(h.snapshot());
            }
            HistogramSnapshot.Builder connects = HistogramSnapshot.builder().name("relay_upstream_connect_duration_seconds")
                    .help("Time to open an upstream connection (TCP and TLS), by upstream group");
            for (GroupStats g : groups.values()) {
                connects.dataPoint(g.connectTime.snapshot());
            }
            return MetricSnapshots.of(durations.build(), connects.build());
        }

        @Override
        public List<String> getPrometheusNames() {
            return List.of("relay_request_duration_seconds", "relay_upstream_connect_duration_seconds");
        }
    }

}
