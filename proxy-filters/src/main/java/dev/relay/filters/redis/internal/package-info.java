/**
 * The Redis client's machinery: RESP2 encoding and incremental parsing, and the I/O thread that owns
 * the socket ({@link dev.relay.filters.redis.internal.RedisIoLoop}). Not an API: use
 * {@link dev.relay.filters.redis.RedisClient}.
 */
@NullMarked
package dev.relay.filters.redis.internal;

import org.jspecify.annotations.NullMarked;
