/**
 * Storage tiers for the HTTP cache ({@link dev.relay.core.cache.CacheStorage}):
 * {@link dev.relay.filters.cache.MemoryCacheStorage} (Caffeine, W-TinyLFU within a byte cap),
 * {@link dev.relay.filters.cache.DiskCacheStorage} (one file per object, an index that survives a
 * restart) and {@link dev.relay.filters.cache.TieredCacheStorage} (memory in front of disk). Hand one
 * to {@link dev.relay.core.cache.HttpCache#builder}:
 *
 * <pre>{@code
 * CacheStorage storage = new TieredCacheStorage(
 *         MemoryCacheStorage.builder(256L << 20).build(),
 *         DiskCacheStorage.builder(Path.of("/var/cache/relay"), 10L << 30).build());
 * HttpCache cache = HttpCache.builder(storage).build();
 * }</pre>
 *
 * <p>{@link dev.relay.filters.cache.CacheFilterProvider} is the {@code cache} filter of the server's
 * configuration, which builds these from its settings.
 *
 * <p>Every tier drops an object nobody can serve any more (stale beyond its stale windows, and
 * without a validator to revalidate it with) without waiting for the size policy.
 *
 * <p>{@code @NullMarked} (JSpecify): everything here is non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package dev.relay.filters.cache;

import org.jspecify.annotations.NullMarked;
