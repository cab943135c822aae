/**
 * The HTTP cache's ports and rules, free of any I/O: the {@link dev.relay.core.cache.CacheStorage}
 * a tier implements, the {@link dev.relay.core.cache.HttpCache} a proxy enables per request
 * ({@link dev.relay.core.Session#cache()}), and RFC 9111 itself ({@link dev.relay.core.cache.CachePolicy},
 * {@link dev.relay.core.cache.CacheControl}, {@link dev.relay.core.cache.CacheMeta}). The engine drives
 * it from the cache phases of {@link dev.relay.core.ProxyHttp}.
 */
@NullMarked
package dev.relay.core.cache;

import org.jspecify.annotations.NullMarked;
