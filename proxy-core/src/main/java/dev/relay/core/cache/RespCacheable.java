package dev.relay.core.cache;

import java.util.Objects;

/**
 * The verdict of {@link dev.relay.core.ProxyHttp#responseCacheFilter} on an origin's response
 * (Pingora's {@code RespCacheable}): store it with {@link Cacheable#meta()}, or not, and why.
 */
public sealed interface RespCacheable {

    /** Store the response with {@code meta} (its freshness, stale windows and variance fields). */
    record Cacheable(CacheMeta meta) implements RespCacheable {
        public Cacheable {
            Objects.requireNonNull(meta, "meta");
        }
    }

    /** Do not store the response. */
    record Uncacheable(NoCacheReason reason) implements RespCacheable {
        public Uncacheable {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** The verdict that stores nothing, for {@code reason}. */
    static RespCacheable uncacheable(NoCacheReason reason) {
        return new Uncacheable(reason);
    }
}
