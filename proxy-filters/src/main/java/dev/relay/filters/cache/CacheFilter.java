package dev.relay.filters.cache;

import dev.relay.core.HttpModule;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.core.cache.CacheModuleFactory;
import dev.relay.core.cache.HttpCache;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The {@code cache} filter of one configuration block: its module enables the cache for every request
 * it sees, in the request hook (before the engine's cache lookup). The module keeps no per-request
 * state, so all requests share one. A route's filter runs after the global ones: a route with its own
 * {@code cache} filter uses that cache.
 */
final class CacheFilter implements CacheModuleFactory {
    private final HttpCache cache;
    private final CacheFilterSettings settings;
    private final SharedCaches owner;
    private final AtomicBoolean released = new AtomicBoolean();
    private final HttpModule module;

    CacheFilter(HttpCache cache, CacheFilterSettings settings, SharedCaches owner) {
        this.cache = cache;
        this.settings = settings;
        this.owner = owner;
        this.module = new HttpModule() {
            @Override
            public CompletionStage<Void> requestHeaderFilter(Session session) {
                session.cache().enable(cache);
                return Stages.done();
            }
        };
    }

    @Override
    public String name() {
        return CacheFilterProvider.NAME;
    }

    @Override
    public HttpModule newModule() {
        return module;
    }

    @Override
    public HttpCache cache() {
        return cache;
    }

    CacheFilterSettings settings() {
        return settings;
    }

    /** Drops this filter's hold on the cache (once; later calls do nothing): the last hold closes it. */
    @Override
    public void release() {
        if (released.compareAndSet(false, true)) {
            owner.release(this);
        }
    }

    @Override
    public String toString() {
        return "cache(" + settings + ")";
    }
}
