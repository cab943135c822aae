package dev.relay.transport.internal;

import dev.relay.core.ResponseHeader;
import dev.relay.core.cache.CacheKey;
import dev.relay.core.cache.CachePolicy;
import dev.relay.core.cache.CacheResult;
import dev.relay.core.cache.HttpCache;
import dev.relay.core.cache.RespCacheable;
import dev.relay.core.cache.SessionCache;
import org.jspecify.annotations.Nullable;

/**
 * The cache state of one request, as its phases see it ({@link dev.relay.core.Session#cache()}):
 * which cache is enabled, the key, and what the cache did. Made on the first call of
 * {@code session.cache()}, so a request that never asks costs nothing. Event-loop confined.
 */
final class CallCache implements SessionCache {
    private final CallSession session;
    private final EngineClock clock;
    private @Nullable HttpCache cache;
    /** The lookup started: enabling and disabling no longer change anything. */
    boolean lookedUp;
    @Nullable CacheKey key;
    CacheResult result = CacheResult.DISABLED;
    /** When the request that fetches from the origin was sent, for the stored response's age (RFC 9111 §4.2.3). */
    long upstreamRequestMillis;

    CallCache(CallSession session, EngineClock clock) {
        this.session = session;
        this.clock = clock;
    }

    @Override
    public void enable(HttpCache httpCache) {
        if (!lookedUp) {
            this.cache = java.util.Objects.requireNonNull(httpCache, "cache");
        }
    }

    @Override
    public void disable() {
        if (!lookedUp) {
            this.cache = null;
        }
    }

    @Override
    public boolean isEnabled() {
        return cache != null;
    }

    @Override
    public @Nullable HttpCache cache() {
        return cache;
    }

    @Override
    public @Nullable CacheKey key() {
        return key;
    }

    @Override
    public CacheResult result() {
        return result;
    }

    @Override
    public RespCacheable rfc9111(ResponseHeader response) {
        HttpCache c = cache;
        return CachePolicy.decide(session.requestHeader(), response,
                upstreamRequestMillis == 0 ? clock.currentTimeMillis() : upstreamRequestMillis,
                clock.currentTimeMillis(), c == null ? dev.relay.core.cache.CacheDefaults.RFC9111 : c.defaults());
    }
}
