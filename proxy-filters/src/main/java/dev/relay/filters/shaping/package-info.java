/**
 * Request shaping filters: what a reverse proxy does to a request before routing and on its way
 * upstream. {@code request-id} ({@link dev.relay.filters.shaping.RequestIdFilter}) gives every
 * request an id; {@code forwarded} ({@link dev.relay.filters.shaping.ForwardedFilter}) tells the
 * origin who the client was ({@code X-Forwarded-*}, RFC 7239 {@code Forwarded}), trusting what
 * only trusted proxies say; {@code rewrite} ({@link dev.relay.filters.shaping.RewriteFilter})
 * rewrites the request target by regular expression or answers with a redirect; {@code body-limit}
 * ({@link dev.relay.filters.shaping.BodyLimitFilter}) answers 413 to a request body over a size.
 * Each has a {@link dev.relay.core.FilterProvider} for configurations and a public factory with a
 * builder for Java code.
 *
 * <p>{@code @NullMarked} (JSpecify): everything here is non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package dev.relay.filters.shaping;

import org.jspecify.annotations.NullMarked;
