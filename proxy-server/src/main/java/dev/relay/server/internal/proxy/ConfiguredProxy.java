package dev.relay.server.internal.proxy;

import dev.relay.core.AttemptOutcome;
import dev.relay.core.Backend;
import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.HttpModules;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.ProxyHttp;
import dev.relay.core.RequestHeader;
import dev.relay.core.RequestIdModuleFactory;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.core.UpstreamObserver;
import dev.relay.core.cache.CacheResult;
import dev.relay.server.internal.config.ProxyConfig;
import dev.relay.server.internal.metrics.AccessLog;
import dev.relay.server.internal.metrics.RelayMetrics;
import dev.relay.server.internal.metrics.RelayMetrics.GroupStats;
import dev.relay.server.internal.metrics.RelayMetrics.RouteStats;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;

import static java.util.Objects.requireNonNull;

/**
 * The {@link ProxyHttp} that a configuration describes, reloadable: it holds the current
 * {@link ProxyRuntime} in one atomic reference, and {@link #swap} replaces it. Each request takes
 * the snapshot current when it starts (in {@link #newCtx}) and uses only that one, so a reload
 * never changes the route, group or filters of a request in flight.
 *
 * <ul>
 *   <li>Filters (global, then the route's) run as one downstream module, {@link ConfigFilters},
 *       registered last; it also resolves the route, after the global filters, so routing sees the
 *       request as they left it.</li>
 *   <li>{@link #requestFilter}: no route → 404.</li>
 *   <li>{@link #upstreamPeer}: a backend of the route's group from its load balancer (by the
 *       group's hash key, computed once per request, for the hashing algorithms), skipping the
 *       backends this request already failed to connect to.</li>
 *   <li>{@link #failToConnect}: the error stays retryable while the group has a backend not yet
 *       tried, up to {@code proxy.server.max-attempts}.</li>
 *   <li>{@link #errorWhileProxy}: a retryable failure on a new connection (the backend closed it
 *       before answering, as one going down does) counts as that backend failed, as a refused
 *       connect does: the retry goes elsewhere, and ends when every backend has failed (nginx tries
 *       each server once). A pooled connection's failure (the keep-alive race) marks nothing.</li>
 *   <li>{@link #logging}: metrics and the access-log line (both off the hot path's allocations;
 *       the line is written by the access log's own thread). With a request-id filter configured, the
 *       line has the request's id, read from the filter's request header
 *       ({@link ProxyRuntime#requestIdHeader}), which {@link #requestSummary} adds to error-log lines too.</li>
 *   <li>As the engine's {@link UpstreamObserver}, it forwards each attempt to the load balancer of
 *       the group that made the peer, found by the peer's pool group ({@link UpstreamGroup#id()}):
 *       in-flight counts (least connections), latencies (peak EWMA), passive health (outlier
 *       detection). An attempt of a group that a reload replaced meanwhile is not counted: that
 *       group's load balancer is closed.</li>
 * </ul>
 */
public final class ConfiguredProxy implements ProxyHttp<ConfiguredProxy.Context>, UpstreamObserver {
    private static final Logger LOG = LoggerFactory.getLogger(ConfiguredProxy.class);

    /**
     * The context created by {@link ConfigFilters#newModule()} for the request whose modules the
     * engine is creating on this thread, handed to {@link #newCtx()} right after (the engine creates
     * a request's modules, then its context, on the same event-loop thread without yielding). This
     * is how the module and the phases share one context, and so one snapshot.
     */
    private static final ThreadLocal<Context> PENDING = new ThreadLocal<>();
    /** The peer of a CONNECT: none, the engine connects to its target (one shared stage, not one per request). */
    private static final CompletionStage<HttpPeer> NO_PEER = Stages.completed(null);

    /** How long building a snapshot waits for the first discovery of its new groups, together. */
    static final java.time.Duration FIRST_DISCOVERY_WAIT = java.time.Duration.ofSeconds(5);

    private final AtomicReference<ProxyRuntime> current;
    private final RelayMetrics metrics;
    private final AccessLog accessLog;
    private boolean closed;
    /**
     * Told the id of each group a reload dropped or replaced: the proxy's server and the filters' own
     * client ({@link GroupRequests}) close their idle connections to it.
     */
    private final List<java.util.function.LongConsumer> groupRetired = new java.util.concurrent.CopyOnWriteArrayList<>();

    private ConfiguredProxy(ProxyRuntime first, RelayMetrics metrics, AccessLog accessLog) {
        this.current = new AtomicReference<>(first);
        this.metrics = metrics;
        this.accessLog = accessLog;
    }

    /** The proxy for {@code config} without metrics or access log (tests). */
    public static ConfiguredProxy of(ProxyConfig config) {
        return create(config, null, null);
    }

    /**
     * The proxy for {@code config}, recording into {@code metrics} and {@code accessLog} (each
     * nullable: none).
     *
     * @throws IllegalArgumentException when a route names a group that {@code config} lacks
     */
    public static ConfiguredProxy create(ProxyConfig config, RelayMetrics metrics, AccessLog accessLog) {
        ProxyRuntime first = ProxyRuntime.build(config, null, metrics);
        startNewGroups(first, null);
        return new ConfiguredProxy(first, metrics, accessLog);
    }

    /**
     * Starts the groups of {@code next} that {@code previous} (nullable) did not have, and waits
     * (bounded) for their first discovery, so that the snapshot is not made current with groups
     * that discovery has not filled yet.
     */
    private static void startNewGroups(ProxyRuntime next, ProxyRuntime previous) {
        List<UpstreamGroup> fresh = new java.util.ArrayList<>();
        for (UpstreamGroup g : next.groups().values()) {
            if (previous == null || previous.groups().get(g.name()) != g) {
                g.start();
                fresh.add(g);
            }
        }
        long deadline = System.nanoTime() + FIRST_DISCOVERY_WAIT.toNanos();
        for (UpstreamGroup g : fresh) {
            long left = Math.max(1, deadline - System.nanoTime());
            g.startAndAwaitDiscovery(java.time.Duration.ofNanos(left));
        }
    }

    /** The current snapshot. */
    public ProxyRuntime runtime() {
        return current.get();
    }

    /** The router of the current snapshot. */
    public Router router() {
        return current.get().router();
    }

    /** The upstream groups of the current snapshot. */
    public java.util.Map<String, UpstreamGroup> groups() {
        return current.get().groups();
    }

    /**
     * Builds the snapshot of {@code config} and makes it current: requests that start from now on
     * use it. Groups the new configuration no longer has (or changed) stop their background work; the
     * filters of the previous configuration are released (a cache that the new one still holds,
     * because its settings are unchanged, stays open).
     *
     * @return the new snapshot
     */
    public synchronized ProxyRuntime swap(ProxyConfig config) {
        if (closed) {
            throw new IllegalStateException("swap: the proxy's upstream groups are closed (the server is stopping)");
        }
        ProxyRuntime previous = current.get();
        ProxyRuntime next = ProxyRuntime.build(config, previous, metrics);
        startNewGroups(next, previous);
        current.set(next);
        if (accessLog != null) {
            accessLog.reconfigure(config.server().accessLogFormat(), config.server().accessLogDestination());
        }
        for (UpstreamGroup old : previous.groups().values()) {
            if (next.groups().get(old.name()) != old) {
                old.close();
                for (java.util.function.LongConsumer listener : groupRetired) {
                    listener.accept(old.id());
                }
            }
        }
        // After the swap: requests in flight may still use the old caches (a closed one just misses).
        RetiredFilters.release(previous.config(), next.config());
        return next;
    }

    /**
     * Calls {@code listener} (besides those added before) with the {@linkplain UpstreamGroup#id() id} of
     * every group a later {@link #swap} drops or replaces, after the swap: requests that start from then
     * on never pick its peers, so its idle pooled connections can go at once.
     */
    public void onGroupRetired(java.util.function.LongConsumer listener) {
        groupRetired.add(requireNonNull(listener, "listener"));
    }

    /**
     * Reopens the access-log file (logrotate renamed it): what every reload does first, a rejected
     * one included, so that a rotation's SIGHUP never leaves the lines going to the rotated file.
     */
    public void reopenAccessLog() {
        if (accessLog != null) {
            accessLog.reopen();
        }
    }

    /**
     * Stops the background work (discovery, health checks, ejection timers) of every group of the
     * current snapshot and releases its caches: the server is stopping. Selection keeps working on the
     * last state, for the requests still draining (a closed cache misses). Idempotent.
     */
    public synchronized void close() {
        closed = true;
        for (UpstreamGroup g : current.get().groups().values()) {
            g.close();
        }
        // Flushes the disk tiers' pending writes, so a new process finds what this one stored.
        RetiredFilters.release(current.get().config(), null);
    }

    /** Starts a request's context on the current snapshot (called by the filter module). */
    Context beginRequest() {
        Context ctx = new Context(current.get());
        ctx.createGlobalModules(ctx.runtime.globalFilters());
        PENDING.set(ctx);
        return ctx;
    }

    @Override
    public Context newCtx() {
        Context ctx = PENDING.get();
        if (ctx != null) {
            // set(null), not remove(): the thread's map entry stays, so the next request allocates none.
            PENDING.set(null);
            return ctx;
        }
        return new Context(current.get());
    }

    @Override
    public void initDownstreamModules(HttpModules modules) {
        modules.add(new ConfigFilters(this));
    }

    @Override
    public CompletionStage<Boolean> requestFilter(Session session, Context ctx) {
        if (isConnect(session)) {
            // A CONNECT names its own destination (the listener's allow list admitted it): no route.
            return Stages.completedFalse();
        }
        if (!ctx.routeResolved) {
            ctx.resolveRoute(session.requestHeader());
        }
        if (ctx.route == null) {
            return session.respondError(404).handle((v, e) -> Boolean.TRUE);
        }
        if (!ctx.route.websocket()) {
            // The route does not pass upgrades: without the field the request is an ordinary one.
            session.requestHeader().headers().remove("Upgrade");
        }
        return Stages.completedFalse();
    }

    private static boolean isConnect(Session session) {
        return "CONNECT".equals(session.requestHeader().method());
    }

    @Override
    public CompletionStage<HttpPeer> upstreamPeer(Session session, Context ctx) {
        if (isConnect(session)) {
            // No peer: the engine connects to the CONNECT target itself.
            return NO_PEER;
        }
        UpstreamGroup group = ctx.route.upstream();
        if (ctx.firstAttemptNanos == 0) {
            ctx.firstAttemptNanos = System.nanoTime();
        }
        byte[] key = ctx.key;
        if (key == null) {
            // Once per request: a retry walks on from the same key (a ring's next backend).
            key = group.key(session);
            ctx.key = key;
        }
        Backend backend = ctx.nextBackend(group, key);
        if (backend == null) {
            return Stages.failed(BackendPicks.noneLeft(group));
        }
        // The group's stage for this backend: no CompletableFuture per request.
        CompletionStage<HttpPeer> peer = group.peerStage(backend);
        ctx.backend = backend;
        ctx.peer = peer.toCompletableFuture().getNow(null);
        return peer;
    }

    @Override
    public ProxyError failToConnect(Session session, HttpPeer peer, Context ctx, ProxyError error) {
        Backend failed = ctx.backend;
        if (failed != null) {
            ctx.picks().markFailed(failed);
        }
        boolean another = ctx.route != null && ctx.picks().anotherLeft(ctx.route.upstream());
        if (error.isRetry() && !another) {
            // Every backend of the group refused this request: report the last connect error.
            error.setRetry(false);
        }
        LOG.debug("connect to {} failed ({}); retry: {}", peer, error.type(), error.isRetry());
        return error;
    }

    @Override
    public ProxyError errorWhileProxy(HttpPeer peer, Session session, ProxyError error, Context ctx,
                                      boolean upstreamReused) {
        ProxyError decided = ProxyHttp.super.errorWhileProxy(peer, session, error, ctx, upstreamReused);
        Backend failed = ctx.backend;
        if (!upstreamReused && decided.isRetry() && failed != null && ctx.route != null) {
            ctx.picks().markFailed(failed);
            if (!ctx.picks().anotherLeft(ctx.route.upstream())) {
                decided.setRetry(false);
            }
        }
        return decided;
    }

    @Override
    public CompletionStage<Void> upstreamRequestFilter(Session session, RequestHeader upstreamRequest, Context ctx) {
        String host = ctx.route == null ? null : ctx.route.upstream().hostHeader();
        if (host != null) {
            upstreamRequest.headers().set("Host", host);
        }
        return Stages.done();
    }

    @Override
    public CompletionStage<Void> logging(Session session, ProxyError error, Context ctx) {
        long now = System.nanoTime();
        long total = now - session.requestStartNanos();
        ProxyRuntime rt = ctx != null ? ctx.runtime : current.get();
        Route route = ctx == null ? null : ctx.route;
        int status = session.responseStatus();
        int attempts = session.attempts();
        if (metrics != null) {
            RouteStats rs = rt.routeStats(route);
            if (rs != null) {
                rs.record(status, total, session.requestBodyBytesRead(), session.responseBodyBytesSent());
            }
            if (route != null) {
                GroupStats gs = rt.groupStats(route);
                if (gs != null) {
                    gs.record(attempts, session.isUpstreamConnectionReused(), session.upstreamConnectNanos());
                }
            }
        }
        if (accessLog != null && rt.accessLog()) {
            AccessLog.Entry e = accessLog.claim();
            // Published whatever happens: a claimed slot never published would hold up every later line.
            if (e != null) {
                try {
                    RequestHeader request = session.requestHeader();
                    e.epochMillis = System.currentTimeMillis();
                    // The slot is old: its setters copy or compare rather than store references (AccessLog.Entry).
                    e.client(session.clientAddress());
                    e.method(request.method());
                    e.uri(request.uri());
                    e.protocol(request.version());
                    e.status = status;
                    e.requestBytes = session.requestBodyBytesRead();
                    e.responseBytes = session.responseBodyBytesSent();
                    // Copied into the entry's own bytes: no String per field and request.
                    e.copyRequestFields(request.headers());
                    e.route(route == null ? null : route.name());
                    e.upstream(route == null ? null : route.upstream().name());
                    e.peer(ctx == null ? null : ctx.peer);
                    e.attempts = attempts;
                    e.upstreamReused = session.isUpstreamConnectionReused();
                    e.upstreamConnectNanos = session.upstreamConnectNanos();
                    e.upstreamNanos = ctx == null || ctx.firstAttemptNanos == 0 ? 0 : now - ctx.firstAttemptNanos;
                    e.totalNanos = total;
                    e.error(error == null ? null : error.type());
                    // session.cache() makes the request's cache state: asked only where a cache is configured.
                    e.cache(rt.caches().isEmpty() ? null : enabledResult(session.cache().result()));
                    // The id the request-id module chose, not the field: when an earlier filter answered, the
                    // module never ran and the field is whatever the client wrote.
                    e.requestIdField = rt.requestIdHeader(route) != null;
                    e.requestId(e.requestIdField && ctx != null ? ctx.requestId() : null);
                } finally {
                    e.publish();
                }
            }
        }
        return Stages.done();
    }

    /**
     * The default summary (method, target, host) and, when a request-id filter gave the request an id,
     * that id: the error-log line of a failed request then names the request the access log, the origin
     * and the client know by that id.
     */
    @Override
    public String requestSummary(Session session, Context ctx) {
        String summary = ProxyHttp.super.requestSummary(session, ctx);
        // Only a request-id module that ran has an id: nothing else to check.
        String id = ctx == null ? null : ctx.requestId();
        return id == null ? summary : summary + ", request id: " + id;
    }

    private static CacheResult enabledResult(CacheResult result) {
        return result == CacheResult.DISABLED ? null : result;
    }

    // UpstreamObserver: forwarded to the load balancer of the peer's group.

    @Override
    public void onAttemptStart(HttpPeer peer) {
        UpstreamGroup group = current.get().ownerOf(peer);
        if (group != null) {
            group.loadBalancer().observer().onAttemptStart(peer);
        }
    }

    @Override
    public void onAttemptEnd(HttpPeer peer, AttemptOutcome outcome, long durationNanos) {
        UpstreamGroup group = current.get().ownerOf(peer);
        if (group != null) {
            group.loadBalancer().observer().onAttemptEnd(peer, outcome, durationNanos);
        }
    }

    /**
     * The state of one request: its snapshot, its route, the backend of the current attempt, and the
     * backends it failed to connect to ({@link BackendPicks}); made by {@link ConfigFilters}, it is also
     * the request's filter module (its {@link ConfigFilters.FilterChain}).
     */
    public static final class Context extends ConfigFilters.FilterChain {
        final ProxyRuntime runtime;
        /** Made on the first failure, or when no backend was ready: most requests need none (saves 32 B). */
        private @Nullable BackendPicks picks;
        private Route route;
        private boolean routeResolved;
        private Backend backend;
        private HttpPeer peer;
        private long firstAttemptNanos;
        private byte[] key;
        private RequestIdModuleFactory.RequestIdModule requestIds;

        Context(ProxyRuntime runtime) {
            this.runtime = requireNonNull(runtime, "runtime");
        }

        /** The snapshot this request runs on. */
        public ProxyRuntime runtime() {
            return runtime;
        }

        /** The matched route; null before routing or when none matched. */
        public Route route() {
            return route;
        }

        /** The peer of the current (or last) attempt; null before the first. */
        public HttpPeer peer() {
            return peer;
        }

        /** The backends this request failed to connect to. */
        public List<Backend> failedBackends() {
            return picks == null ? List.of() : picks.failedBackends();
        }

        BackendPicks picks() {
            BackendPicks p = picks;
            if (p == null) {
                picks = p = new BackendPicks();
            }
            return p;
        }

        /** The next backend of {@code group} to try, or null when none is left ({@link BackendPicks#next}). */
        @Nullable Backend nextBackend(UpstreamGroup group, byte[] key) {
            if (picks != null) {
                return picks.next(group, key);
            }
            Backend backend = group.select(key, BackendPicks.UNTRIED);
            return backend != null ? backend : picks().nextOfAnyReadiness(group, key);
        }

        /**
         * Told each filter module made for this request, in the order they run: the first module of a
         * request-id filter is the one whose id is logged (a global one before a route's, as
         * {@link ProxyRuntime#requestIdHeader} picks the field).
         */
        @Override
        void moduleCreated(HttpModuleFactory factory, HttpModule module) {
            if (requestIds == null && factory instanceof RequestIdModuleFactory
                    && module instanceof RequestIdModuleFactory.RequestIdModule ids) {
                requestIds = ids;
            }
        }

        /**
         * The id the request-id filter's module gave this request; null when there is no such module or
         * it has not run (an earlier filter answered), so the client's own field is never taken for it.
         */
        public String requestId() {
            return requestIds == null ? null : requestIds.requestId();
        }

        @Override
        Route resolveRoute(RequestHeader request) {
            route = runtime.router().match(request);
            routeResolved = true;
            return route;
        }
    }
}
