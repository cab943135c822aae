package dev.relay.server.internal.proxy;

import dev.relay.core.AttemptOutcome;
import dev.relay.core.Backend;
import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.Stages;
import dev.relay.core.StreamProxy;
import dev.relay.core.StreamSession;
import dev.relay.core.StreamSummary;
import dev.relay.lb.HashKey;
import dev.relay.lb.LoadBalancer;
import dev.relay.server.internal.config.StreamConfig;
import dev.relay.server.internal.metrics.AccessLog;
import dev.relay.server.internal.metrics.StreamMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * The {@link StreamProxy} of one configured stream service ({@code proxy.streams[i]}): each client
 * connection goes to a backend of the stream's upstream group, taken from the {@link ConfiguredProxy}'s
 * current snapshot when the connection arrives (so a reload's new backends and health apply to new
 * connections). Selection as for HTTP requests: the group's algorithm (a hashing one hashes the
 * client's IP), ready backends first (all of them when none is ready), never a backend this
 * connection already failed to reach; a failed connect is retried on another backend while the group
 * has one left, up to the stream's {@code max-attempts}. Each connection is one attempt for the
 * group's load balancer (in flight from connect to close: least-connections balances open
 * streams; a failed connect is a connect failure for passive health). Metrics and one access-log line
 * per connection.
 */
public final class ConfiguredStreamProxy implements StreamProxy<ConfiguredStreamProxy.Connection> {
    private static final Logger LOG = LoggerFactory.getLogger(ConfiguredStreamProxy.class);

    private final StreamConfig config;
    private final ConfiguredProxy proxy;
    private final StreamMetrics.Stats stats;
    private final AccessLog accessLog;

    /**
     * The stream proxy of {@code config} over the groups of {@code proxy}.
     *
     * @param stats     where to count (nullable: no metrics)
     * @param accessLog where to log each connection (nullable: no access log)
     */
    public ConfiguredStreamProxy(StreamConfig config, ConfiguredProxy proxy, StreamMetrics.Stats stats, AccessLog accessLog) {
        this.config = requireNonNull(config, "config");
        this.proxy = requireNonNull(proxy, "proxy");
        this.stats = stats;
        this.accessLog = accessLog;
    }

    @Override
    public Connection newCtx() {
        if (stats != null) {
            stats.opened();
        }
        return new Connection(proxy.runtime());
    }

    @Override
    public CompletionStage<HttpPeer> upstreamPeer(StreamSession session, Connection ctx) {
        UpstreamGroup group = ctx.runtime.groups().get(config.upstream());
        if (group == null) {
            return Stages.failed(ProxyError.of(ErrorType.NO_PEER, ErrorSource.INTERNAL,
                    "stream '" + config.name() + "': upstream group '" + config.upstream() + "' is gone", null));
        }
        ctx.group = group;
        // A stream's group hashes nothing or the client's address (StreamsReader refuses other keys).
        byte[] key = group.config().hashKey() == null ? LoadBalancer.NO_KEY : HashKey.clientIpKey(session.clientAddress());
        Backend backend = ctx.picks.next(group, key);
        if (backend == null) {
            return Stages.failed(BackendPicks.noneLeft(group));
        }
        HttpPeer peer = group.peer(backend);
        ctx.backend = backend;
        ctx.peer = peer;
        ctx.attemptStartNanos = System.nanoTime();
        group.loadBalancer().observer().onAttemptStart(peer);
        return CompletableFuture.completedFuture(peer);
    }

    @Override
    public ProxyError failToConnect(StreamSession session, HttpPeer peer, Connection ctx, ProxyError error) {
        if (stats != null) {
            stats.connectFailed();
        }
        ctx.endAttempt(AttemptOutcome.CONNECT_FAILURE);
        if (ctx.backend != null) {
            ctx.picks.markFailed(ctx.backend);
        }
        if (error.isRetry() && (ctx.group == null || !ctx.picks.anotherLeft(ctx.group))) {
            // Every backend of the group refused this connection: report the last error.
            error.setRetry(false);
        }
        LOG.debug("stream '{}': connect to {} failed ({}); retry: {}", config.name(), peer, error.type(), error.isRetry());
        return error;
    }

    @Override
    public void streamDone(StreamSession session, StreamSummary summary, Connection ctx) {
        ctx.endAttempt(summary.end() == StreamSummary.End.UPSTREAM_ERROR ? AttemptOutcome.FAILURE : AttemptOutcome.SUCCESS);
        String end = summary.end().name().toLowerCase(Locale.ROOT);
        if (stats != null) {
            stats.ended(end, summary.bytesFromClient(), summary.bytesToClient());
        }
        if (accessLog != null && ctx.runtime.accessLog()) {
            AccessLog.Entry e = accessLog.claim();
            if (e != null) {
                // Published whatever happens: a claimed slot never published would hold up every later line.
                try {
                    e.epochMillis = System.currentTimeMillis();
                    e.stream(config.name());
                    e.client(summary.clientAddress());
                    e.upstream(config.upstream());
                    e.peer(summary.peer());
                    e.attempts = summary.attempts();
                    e.requestBytes = summary.bytesFromClient();
                    e.responseBytes = summary.bytesToClient();
                    e.totalNanos = summary.duration().toNanos();
                    e.end(end);
                    e.tls(session.downstreamTls());
                    e.error(summary.error() == null ? null : summary.error().type());
                } finally {
                    e.publish();
                }
            }
        }
    }

    /** One client connection: the snapshot it started on, its current backend, its failover state. */
    public static final class Connection {
        private final ProxyRuntime runtime;
        private final BackendPicks picks = new BackendPicks();
        private UpstreamGroup group;
        private Backend backend;
        private HttpPeer peer;
        private long attemptStartNanos;

        Connection(ProxyRuntime runtime) {
            this.runtime = runtime;
        }

        private void endAttempt(AttemptOutcome outcome) {
            if (peer != null && group != null && attemptStartNanos != 0) {
                group.loadBalancer().observer().onAttemptEnd(peer, outcome, System.nanoTime() - attemptStartNanos);
                attemptStartNanos = 0;
            }
        }
    }
}
