/**
 * Redis for filters that share state across proxy instances: {@link dev.relay.filters.redis.RedisClient}, a
 * small non-blocking RESP2 client on the JDK's NIO (one I/O thread, pipelining, futures, reconnection), and
 * {@link dev.relay.filters.redis.RedisRateLimiter}, a rate limit that several instances share, decided by one
 * Lua script per round trip with a local estimate in front so that most decisions need none.
 *
 * <pre>{@code
 * RedisClient redis = RedisClient.builder(RedisUri.parse("redis://127.0.0.1:6379")).build();
 * RedisRateLimiter limiter = RedisRateLimiter.builder(redis, 100, Duration.ofSeconds(1)).build();
 * limiter.decide("client:203.0.113.7").thenAccept(d -> { if (!d.allowed()) reject(d.retryAfter()); });
 * }</pre>
 *
 * <p>{@code @NullMarked} (JSpecify): everything here is non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package dev.relay.filters.redis;

import org.jspecify.annotations.NullMarked;
