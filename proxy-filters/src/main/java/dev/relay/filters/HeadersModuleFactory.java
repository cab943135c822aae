package dev.relay.filters;

import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;

import java.util.concurrent.CompletionStage;

/**
 * The {@code headers} filter's factory. Its module keeps no per-request state, so every request
 * shares one instance and {@link #newModule()} allocates nothing.
 */
final class HeadersModuleFactory implements HttpModuleFactory {
    private final HeaderRules request;
    private final HeaderRules response;
    private final HttpModule module;

    HeadersModuleFactory(HeaderRules request, HeaderRules response) {
        this.request = request;
        this.response = response;
        this.module = new HeadersModule();
    }

    @Override
    public String name() {
        return HeadersFilterProvider.NAME;
    }

    @Override
    public HttpModule newModule() {
        return module;
    }

    @Override
    public String toString() {
        return "headers(request: " + request + "; response: " + response + ")";
    }

    private final class HeadersModule implements HttpModule {
        @Override
        public CompletionStage<Void> requestHeaderFilter(Session session) {
            if (!request.isEmpty()) {
                request.apply(session.requestHeader().headers());
            }
            return Stages.done();
        }

        @Override
        public void responseHeaderFilter(Session session, ResponseHeader header, boolean endOfStream) {
            response.apply(header.headers());
        }
    }
}
