/**
 * Reusable filters for Relay, each an {@link dev.relay.core.HttpModule} made available to
 * configurations through a {@link dev.relay.core.FilterProvider} registered in
 * {@code META-INF/services/dev.relay.core.FilterProvider}. Today: {@code headers}
 * ({@link dev.relay.filters.HeadersFilterProvider}), which sets, adds and removes request and
 * response header fields. Depends on the JDK and {@code proxy-core} (and Caffeine, for filters
 * that cache).
 *
 * <p>Everything here is non-null unless a parameter or return value is documented as nullable.
 */
package dev.relay.filters;
