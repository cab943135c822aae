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
     * Tells the factory that no configuration uses it any more: a reload replaced (or rejected) the
     * configuration that held it, or the server stopped. The server calls it once the new
     * configuration is current, so requests still in flight may go on using the cache; a factory that
     * owns its cache closes it here unless another live factory shares it (a closed storage misses and
     * stores nothing, so those requests go to the origin). Called at most once per factory by the
     * server; the default does nothing, for a cache whose owner closes it.
     */
    default void release() {}
}
