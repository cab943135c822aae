package dev.relay.core.cache;

import dev.relay.core.HttpModuleFactory;

/**
 * A module factory whose modules enable {@link #cache()} for the requests they see
 * ({@code session.cache().enable(cache())} in their request hook): what a caching filter's provider
 * creates. The server finds the caches of its configuration through it, for metrics, the admin
 * listener and purges.
 *
 * <pre>{@code
 * final class MyCacheFilter implements CacheModuleFactory {
 *     public String name() { return "my-cache"; }
 *     public HttpCache cache() { return cache; }
 *     public HttpModule newModule() { return module; } // requestHeaderFilter: session.cache().enable(cache)
 * }
 * }</pre>
 */
public interface CacheModuleFactory extends HttpModuleFactory {

    /** The cache this factory's modules enable; the same instance for the factory's life. */
    HttpCache cache();

    /**
     * {@inheritDoc} A factory that owns its cache closes it here unless another live factory shares it
     * (a closed storage misses and stores nothing, so requests still in flight go to the origin).
     */
    @Override
    default void release() {}
}
