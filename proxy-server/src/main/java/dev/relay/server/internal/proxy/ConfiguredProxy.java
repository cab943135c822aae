package dev.relay.server.internal.proxy;

import dev.relay.core.Backend;
import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.HttpModules;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.ProxyHttp;
import dev.relay.core.RequestHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.server.internal.config.ProxyConfig;
import dev.relay.server.internal.config.ProxyConfig.FilterConfig;
import dev.relay.server.internal.config.ProxyConfig.RouteConfig;
import dev.relay.server.internal.config.ProxyConfig.UpstreamConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiPredicate;

import static java.util.Objects.requireNonNull;

/**
 * The {@link ProxyHttp} that a configuration describes.
 *
 * <ul>
 *   <li>{@link #requestFilter}: picks the route (first match on host and path, see {@link Route});
 *       none matches → 404.</li>
 *   <li>{@link #upstreamPeer}: picks a backend of the route's group with its load balancer,
 *       skipping the backends this request already failed to connect to, and returns the group's
 *       ready-made peer for it (TLS, SNI, verification, timeouts).</li>
 *   <li>{@link #failToConnect}: remembers the failed backend; the error stays retryable while the
 *       group has a backend not yet tried, so the attempt loop goes on to another one, up to
 *       {@code proxy.server.max-attempts}. Errors after the connect (a stale pooled connection)
 *       follow the engine's default and may retry on the same backend.</li>
 *   <li>{@link #upstreamRequestFilter}: keeps the client's {@code Host}, unless the group sets
 *       {@code host-header}.</li>
 *   <li>Per-route filters run as one downstream module ({@link RouteFilters}); global filters are
 *       given to the transport by the service.</li>
 *   <li>{@link #logging}: one access-log line per request (logger {@code dev.relay.access}) when
 *       enabled.</li>
 * </ul>
 * Immutable, thread-safe; the context holds the per-request state.
 */
public final class ConfiguredProxy implements ProxyHttp<ConfiguredProxy.Context> {
    private static final Logger ACCESS = LoggerFactory.getLogger("dev.relay.access");
    private static final Logger LOG = LoggerFactory.getLogger(ConfiguredProxy.class);

    private final Router router;
    private final Map<String, UpstreamGroup> groups;
    private final boolean accessLog;

    private ConfiguredProxy(Router router, Map<String, UpstreamGroup> groups, boolean accessLog) {
        this.router = router;
        this.groups = groups;
        this.accessLog = accessLog;
    }

    /**
     * The proxy for {@code config}, whose routes must all name one of its upstream groups (in demo
     * mode, add the demo group with {@link ProxyConfig#withUpstream} first).
     *
     * @throws IllegalArgumentException when a route names a group that {@code config} lacks
     */
    public static ConfiguredProxy of(ProxyConfig config) {
        requireNonNull(config, "config");
        Map<String, UpstreamGroup> groups = new LinkedHashMap<>();
        for (UpstreamConfig upstream : config.upstreams().values()) {
            groups.put(upstream.name(), UpstreamGroup.of(upstream));
        }
        List<Route> routes = new ArrayList<>();
        for (RouteConfig rc : config.routes()) {
            UpstreamGroup group = groups.get(rc.upstream());
            if (group == null) {
                throw new IllegalArgumentException("routes[" + rc.index() + "].upstream: '" + rc.upstream()
                        + "' (expected one of: " + groups.keySet() + ")");
            }
            HttpModules ordered = new HttpModules();
            for (FilterConfig f : rc.filters()) {
                ordered.add(f.factory());
            }
            routes.add(new Route(rc.index(), rc.hosts(), rc.pathPrefix(), group, ordered.ordered()));
        }
        return new ConfiguredProxy(new Router(routes), Map.copyOf(groups), config.server().accessLog());
    }

    /** The router. */
    public Router router() {
        return router;
    }

    /** The upstream groups by name. */
    public Map<String, UpstreamGroup> groups() {
        return groups;
    }

    @Override
    public Context newCtx() {
        return new Context();
    }

    @Override
    public void initDownstreamModules(HttpModules modules) {
        if (router.anyRouteHasFilters()) {
            modules.add(new RouteFilters(router));
        }
    }

    @Override
    public CompletionStage<Boolean> requestFilter(Session session, Context ctx) {
        Route route = router.match(session.requestHeader());
        if (route == null) {
            return session.respondError(404).handle((v, e) -> Boolean.TRUE);
        }
        ctx.route = route;
        return Stages.completedFalse();
    }

    @Override
    public CompletionStage<HttpPeer> upstreamPeer(Session session, Context ctx) {
        UpstreamGroup group = ctx.route.upstream();
        Backend backend = group.select(ctx);
        if (backend == null) {
            return Stages.failed(ProxyError.of(ErrorType.NO_PEER, ErrorSource.INTERNAL,
                    "upstream '" + group.name() + "': no backend left to try", null));
        }
        HttpPeer peer = group.peer(backend);
        ctx.backend = backend;
        ctx.peer = peer;
        return CompletableFuture.completedFuture(peer);
    }

    @Override
    public ProxyError failToConnect(Session session, HttpPeer peer, Context ctx, ProxyError error) {
        Backend failed = ctx.backend;
        if (failed != null) {
            ctx.markFailed(failed);
        }
        boolean another = ctx.route != null && ctx.failedCount < ctx.route.upstream().size();
        if (error.isRetry() && !another) {
            // Every backend of the group refused this request: report the last connect error.
            error.setRetry(false);
        }
        LOG.debug("connect to {} failed ({}); retry: {}", peer, error.type(), error.isRetry());
        return error;
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
        if (accessLog && ACCESS.isInfoEnabled()) {
            RequestHeader request = session.requestHeader();
            long micros = (System.nanoTime() - session.requestStartNanos()) / 1_000;
            StringBuilder line = new StringBuilder(128)
                    .append(request.method()).append(' ').append(request.uri()).append(' ')
                    .append(session.responseStatus())
                    .append(" upstream=").append(ctx.route == null ? "-" : ctx.route.upstream().name())
                    .append(" peer=").append(ctx.peer == null ? "-" : ctx.peer.hostAndPort())
                    .append(" attempts=").append(session.attempts())
                    .append(" time=").append(micros / 1000).append('.').append((micros % 1000) / 100).append("ms");
            if (error != null) {
                line.append(" error=").append(error.type());
            }
            ACCESS.info(line.toString());
        }
        return Stages.done();
    }

    /**
     * The state of one request: its route, the backend of the current attempt, and the backends it
     * failed to connect to. It is also the selection filter handed to the load balancer (ready and
     * not failed), which saves a lambda per request.
     */
    public static final class Context implements BiPredicate<Backend, Boolean> {
        private Route route;
        private Backend backend;
        private HttpPeer peer;
        private Backend[] failed;
        private int failedCount;

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
            return failed == null ? List.of() : List.of(Arrays.copyOf(failed, failedCount));
        }

        @Override
        public boolean test(Backend candidate, Boolean ready) {
            return ready && !hasFailed(candidate);
        }

        void markFailed(Backend b) {
            if (hasFailed(b)) {
                return;
            }
            if (failed == null) {
                failed = new Backend[4];
            } else if (failedCount == failed.length) {
                failed = Arrays.copyOf(failed, failedCount * 2);
            }
            failed[failedCount++] = b;
        }

        private boolean hasFailed(Backend b) {
            for (int i = 0; i < failedCount; i++) {
                if (failed[i].equals(b)) {
                    return true;
                }
            }
            return false;
        }
    }
}
