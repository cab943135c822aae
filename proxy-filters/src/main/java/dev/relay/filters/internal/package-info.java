/**
 * What the filters of {@code dev.relay.filters} and its packages share and users do not see: HTTP
 * syntax checks (tokens, field names, cookies), the {@code Vary} field's rules, the plain-text
 * answers filters refuse requests with, a builder's refusal as the error of a setting, and the rate
 * limits' sliding-window arithmetic. Not an API.
 *
 * <p>{@code @NullMarked} (JSpecify): everything here is non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package dev.relay.filters.internal;

import org.jspecify.annotations.NullMarked;
