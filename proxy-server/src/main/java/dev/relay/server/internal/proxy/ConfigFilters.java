package dev.relay.server.internal.proxy;

import dev.relay.core.BodyChunk;
import dev.relay.core.HttpHeaders;
import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * Runs the configured filters of each request: the global ones ({@code proxy.filters}) in their
 * order, then (once the route is known) the route's own, for every hook: request header and body,
 * response header, body and trailers (responses the proxy writes itself, a 404 or an error page,
 * included), and {@code responseDone}.
 *
 * <p>Registered once, as the last downstream module of the configured proxy ({@link #order()} is
 * {@link Integer#MAX_VALUE}); the filters themselves come from the request's configuration snapshot,
 * which is what makes filter chains reloadable. The module is the request's
 * {@link ConfiguredProxy.Context} itself (a {@link FilterChain}) and resolves its route after the global
 * filters ran, so routing sees the request as they left it, and the proxy's phases use the same route.
 */
final class ConfigFilters implements HttpModuleFactory {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigFilters.class);
    private static final HttpModule[] NONE = new HttpModule[0];

    private final ConfiguredProxy proxy;

    ConfigFilters(ConfiguredProxy proxy) {
        this.proxy = requireNonNull(proxy, "proxy");
    }

    @Override
    public String name() {
        return "config-filters";
    }

    @Override
    public int order() {
        return Integer.MAX_VALUE;
    }

    @Override
    public HttpModule newModule() {
        return proxy.beginRequest();
    }

    /**
     * The filter modules of one request, as the module the engine runs. The request's
     * {@link ConfiguredProxy.Context} is one: the two live and die together, so a request makes one
     * object, not two. Used on the request's event loop only.
     */
    abstract static class FilterChain implements HttpModule {
        private HttpModule[] global = NONE;
        private HttpModule[] route = NONE;

        /** Told each filter module made for this request, in the order they run. */
        abstract void moduleCreated(HttpModuleFactory factory, HttpModule module);

        /** Routes the request as the global filters left it: null when no route matches. */
        abstract @Nullable Route resolveRoute(RequestHeader request);

        /** Makes the request's global filter modules (the chain runs as a module from now on). */
        final void createGlobalModules(HttpModuleFactory[] factories) {
            if (factories.length == 0) {
                return;
            }
            HttpModule[] created = new HttpModule[factories.length];
            for (int i = 0; i < factories.length; i++) {
                created[i] = factories[i].newModule();
                moduleCreated(factories[i], created[i]);
            }
            global = created;
        }

        @Override
        public CompletionStage<Void> requestHeaderFilter(Session session) {
            return runGlobal(session, 0);
        }

        /** Runs the global request hooks from {@code from} on, then routes, then the route's hooks. */
        private CompletionStage<Void> runGlobal(Session session, int from) {
            for (int i = from; i < global.length; i++) {
                if (session.responseWritten()) {
                    return Stages.done();
                }
                CompletionStage<Void> stage = global[i].requestHeaderFilter(session);
                if (isDoneNormally(stage)) {
                    continue;
                }
                int next = i + 1;
                // Resume on the event loop, whatever thread completes the filter's stage.
                return stage.thenComposeAsync(v -> runGlobal(session, next), session.eventLoop());
            }
            if (session.responseWritten()) {
                return Stages.done();
            }
            Route matched = resolveRoute(session.requestHeader());
            if (matched == null || matched.filters().isEmpty()) {
                return Stages.done();
            }
            List<HttpModuleFactory> factories = matched.filters();
            HttpModule[] created = new HttpModule[factories.size()];
            for (int i = 0; i < created.length; i++) {
                created[i] = factories.get(i).newModule();
                moduleCreated(factories.get(i), created[i]);
            }
            route = created;
            return runRoute(session, 0);
        }

        private CompletionStage<Void> runRoute(Session session, int from) {
            for (int i = from; i < route.length; i++) {
                if (session.responseWritten()) {
                    return Stages.done();
                }
                CompletionStage<Void> stage = route[i].requestHeaderFilter(session);
                if (isDoneNormally(stage)) {
                    continue;
                }
                int next = i + 1;
                return stage.thenComposeAsync(v -> runRoute(session, next), session.eventLoop());
            }
            return Stages.done();
        }

        private static boolean isDoneNormally(CompletionStage<Void> stage) {
            return stage instanceof CompletableFuture<Void> f && f.isDone() && !f.isCompletedExceptionally();
        }

        @Override
        public void requestBodyFilter(Session session, BodyChunk body, boolean endOfStream) {
            for (HttpModule m : global) {
                m.requestBodyFilter(session, body, endOfStream);
            }
            for (HttpModule m : route) {
                m.requestBodyFilter(session, body, endOfStream);
            }
        }

        @Override
        public void responseHeaderFilter(Session session, ResponseHeader response, boolean endOfStream) {
            for (HttpModule m : global) {
                m.responseHeaderFilter(session, response, endOfStream);
            }
            for (HttpModule m : route) {
                m.responseHeaderFilter(session, response, endOfStream);
            }
        }

        @Override
        public void responseBodyFilter(Session session, BodyChunk body, boolean endOfStream) {
            for (HttpModule m : global) {
                m.responseBodyFilter(session, body, endOfStream);
            }
            for (HttpModule m : route) {
                m.responseBodyFilter(session, body, endOfStream);
            }
        }

        @Override
        public byte @Nullable [] responseTrailerFilter(Session session, HttpHeaders trailers) {
            // As the engine does with modules: the first filter that sends the trailers as body bytes ends the chain.
            for (HttpModule m : global) {
                byte[] asBody = m.responseTrailerFilter(session, trailers);
                if (asBody != null) {
                    return asBody;
                }
            }
            for (HttpModule m : route) {
                byte[] asBody = m.responseTrailerFilter(session, trailers);
                if (asBody != null) {
                    return asBody;
                }
            }
            return null;
        }

        @Override
        public void responseDone(Session session) {
            for (HttpModule m : global) {
                done(m, session);
            }
            for (HttpModule m : route) {
                done(m, session);
            }
        }

        private static void done(HttpModule m, Session session) {
            try {
                m.responseDone(session);
            } catch (RuntimeException e) {
                LOG.warn("filter responseDone failed", e);
            }
        }
    }
}
