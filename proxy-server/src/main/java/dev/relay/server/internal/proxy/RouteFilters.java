package dev.relay.server.internal.proxy;

import dev.relay.core.BodyChunk;
import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * Runs the filters of each request's route. Registered once, as the last downstream module of the
 * configured proxy ({@link #order()} is {@link Integer#MAX_VALUE}), it matches the request's route
 * when its request hook runs, after every global filter, so routing sees the request as the global
 * filters left it, and then runs that route's modules in their own order, for every hook: request
 * header and body, response header and body (responses the proxy writes itself, a 404 or an error
 * page, included), and {@code responseDone}.
 *
 * <p>{@link ConfiguredProxy#requestFilter} matches the same request header again right after this
 * module, with the same immutable routes, so both agree on the route.
 */
final class RouteFilters implements HttpModuleFactory {
    private static final Logger LOG = LoggerFactory.getLogger(RouteFilters.class);
    private static final HttpModule[] NONE = new HttpModule[0];

    private final Router router;

    RouteFilters(Router router) {
        this.router = requireNonNull(router, "router");
    }

    @Override
    public String name() {
        return "route-filters";
    }

    @Override
    public int order() {
        return Integer.MAX_VALUE;
    }

    @Override
    public HttpModule newModule() {
        return new PerRequest(router);
    }

    /** The modules of one request's route. Used on the request's event loop only. */
    private static final class PerRequest implements HttpModule {
        private final Router router;
        private HttpModule[] modules = NONE;

        PerRequest(Router router) {
            this.router = router;
        }

        @Override
        public CompletionStage<Void> requestHeaderFilter(Session session) {
            Route route = router.match(session.requestHeader());
            if (route == null || route.filters().isEmpty()) {
                return Stages.done();
            }
            List<HttpModuleFactory> factories = route.filters();
            HttpModule[] created = new HttpModule[factories.size()];
            for (int i = 0; i < created.length; i++) {
                created[i] = factories.get(i).newModule();
            }
            modules = created;
            return runRequestFilters(session, 0);
        }

        /** Runs the request hooks from {@code from} on, one after the other, stopping once one answered. */
        private CompletionStage<Void> runRequestFilters(Session session, int from) {
            for (int i = from; i < modules.length; i++) {
                if (session.responseWritten()) {
                    return Stages.done();
                }
                CompletionStage<Void> stage = modules[i].requestHeaderFilter(session);
                if (stage instanceof CompletableFuture<Void> f && f.isDone() && !f.isCompletedExceptionally()) {
                    continue;
                }
                int next = i + 1;
                // Resume on the event loop, whatever thread completes the filter's stage.
                return stage.thenComposeAsync(v -> runRequestFilters(session, next), session.eventLoop());
            }
            return Stages.done();
        }

        @Override
        public void requestBodyFilter(Session session, BodyChunk body, boolean endOfStream) {
            for (HttpModule module : modules) {
                module.requestBodyFilter(session, body, endOfStream);
            }
        }

        @Override
        public void responseHeaderFilter(Session session, ResponseHeader response, boolean endOfStream) {
            for (HttpModule module : modules) {
                module.responseHeaderFilter(session, response, endOfStream);
            }
        }

        @Override
        public void responseBodyFilter(Session session, BodyChunk body, boolean endOfStream) {
            for (HttpModule module : modules) {
                module.responseBodyFilter(session, body, endOfStream);
            }
        }

        @Override
        public void responseDone(Session session) {
            for (HttpModule module : modules) {
                try {
                    module.responseDone(session);
                } catch (RuntimeException e) {
                    LOG.warn("route filter responseDone failed", e);
                }
            }
        }
    }
}
