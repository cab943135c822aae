/**
 * Access-control filters: {@code ip-acl} ({@link dev.relay.filters.access.IpAclFilter}, allow and deny by
 * client address), {@code basic-auth} ({@link dev.relay.filters.access.BasicAuthFilter}, an htpasswd file of
 * bcrypt hashes), {@code jwt} ({@link dev.relay.filters.access.JwtFilter}, bearer tokens checked against a JWK
 * set or an HMAC secret) and {@code cors} ({@link dev.relay.filters.access.CorsFilter}, preflights answered
 * at the proxy). Each filter is an {@link dev.relay.core.HttpModuleFactory} built in Java with its
 * {@code builder()}, or from a configuration block through its {@link dev.relay.core.FilterProvider}.
 *
 * <p>Their {@link dev.relay.core.HttpModuleFactory#order() orders} put them before the other filters of a
 * chain, in this order: {@code ip-acl}, {@code cors} (a preflight carries no credentials, so it is answered
 * before authentication asks for them), then {@code basic-auth} and {@code jwt} (before a cache could serve
 * a stored response to an unauthenticated client).
 *
 * <p>{@code @NullMarked} (JSpecify): everything here is non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package dev.relay.filters.access;

import org.jspecify.annotations.NullMarked;
