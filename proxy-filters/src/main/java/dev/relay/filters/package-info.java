/**
 * Reusable filters for Relay, each an {@link dev.relay.core.HttpModule} made available to
 * configurations through a {@link dev.relay.core.FilterProvider} registered in
 * {@code META-INF/services/dev.relay.core.FilterProvider}: {@code headers}
 * ({@link dev.relay.filters.HeadersFilterProvider}), which sets, adds and removes request and
 * response header fields; {@code grpc-web} ({@link dev.relay.filters.GrpcWebFilterProvider});
 * {@code cache} ({@link dev.relay.filters.cache.CacheFilterProvider}), the HTTP cache; {@code rate-limit}
 * ({@link dev.relay.filters.limits.RateLimitFilterProvider}), over the primitives of
 * {@code dev.relay.filters.limits}; {@code compression}
 * ({@link dev.relay.filters.compression.CompressionFilterProvider}); the request shaping filters of
 * {@link dev.relay.filters.shaping} ({@code request-id}, {@code forwarded}, {@code rewrite},
 * {@code body-limit}); and the access filters of {@code dev.relay.filters.access} ({@code ip-acl},
 * {@code basic-auth}, {@code jwt}, {@code cors}). Depends on the JDK and {@code proxy-core} (and
 * Caffeine, for filters that cache; zstd-jni and brotli4j for compression; bcrypt and nimbus-jose-jwt
 * for the access filters).
 *
 * <p>{@code @NullMarked} (JSpecify): everything here is non-null unless a parameter, return value or
 * field is annotated {@code @Nullable}, which its Javadoc then explains.
 */
@NullMarked
package dev.relay.filters;

import org.jspecify.annotations.NullMarked;
