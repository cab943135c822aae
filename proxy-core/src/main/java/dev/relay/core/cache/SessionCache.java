package dev.relay.core.cache;

import dev.relay.core.ResponseHeader;
import org.jspecify.annotations.Nullable;

/**
 * The cache as one request sees it ({@link dev.relay.core.Session#cache()}, Pingora's
 * {@code session.cache}): off until a phase or module {@link #enable enables} it, no later than
 * {@link dev.relay.core.ProxyHttp#requestCacheFilter}.
 */
public interface SessionCache {

    /** Serves and stores this request through {@code cache}. Only before the cache lookup; later calls are ignored. */
    void enable(HttpCache cache);

    /** Keeps this request away from the cache (undoes {@link #enable}); only before the lookup. */
    void disable();

    /** Whether caching is enabled for this request. */
    boolean isEnabled();

    /** The cache enabled for this request, or null. */
    @Nullable HttpCache cache();

    /** The key, once {@link dev.relay.core.ProxyHttp#cacheKeyCallback} made it; null before or when off. */
    @Nullable CacheKey key();

    /** What the cache did for this request so far. */
    CacheResult result();

    /**
     * What RFC 9111 says of storing {@code response} to this request ({@link CachePolicy#decide}, with
     * the enabled cache's defaults and this request's clock readings): the default verdict of
     * {@link dev.relay.core.ProxyHttp#responseCacheFilter}.
     */
    RespCacheable rfc9111(ResponseHeader response);
}
