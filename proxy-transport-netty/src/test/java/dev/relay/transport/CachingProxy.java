package dev.relay.transport;

import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.Session;
import dev.relay.core.cache.CacheResult;
import dev.relay.core.cache.HttpCache;
import org.jspecify.annotations.Nullable;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A proxy that caches every request in {@code cache} and sends it to one origin; it records each request's cache result. */
final class CachingProxy implements dev.relay.core.ProxyHttp<Void> {
    final HttpCache cache;
    private final HttpPeer origin;
    final LinkedBlockingQueue<CacheResult> results = new LinkedBlockingQueue<>();

    CachingProxy(HttpCache cache, String originAddress) {
        this(cache, HttpPeer.plain(originAddress));
    }

    CachingProxy(HttpCache cache, HttpPeer origin) {
        this.cache = cache;
        this.origin = origin;
    }

    @Override
    public @Nullable Void newCtx() {
        return null;
    }

    @Override
    public void requestCacheFilter(Session session, @Nullable Void ctx) {
        session.cache().enable(cache);
    }

    @Override
    public CompletionStage<HttpPeer> upstreamPeer(Session session, @Nullable Void ctx) {
        return CompletableFuture.completedFuture(origin);
    }

    @Override
    public CompletionStage<Void> logging(Session session, @Nullable ProxyError error, @Nullable Void ctx) {
        results.add(session.cache().result());
        return dev.relay.core.Stages.done();
    }

    /** The cache result of the next request to end. */
    CacheResult nextResult() throws InterruptedException {
        CacheResult r = results.poll(10, TimeUnit.SECONDS);
        if (r == null) {
            throw new AssertionError("no request ended within 10 s");
        }
        return r;
    }
}
