/**
 * What the filters of {@code dev.relay.filters} and its packages share and users do not see: HTTP
 * syntax checks (tokens, field names, cookies) and the plain-text answers filters refuse requests with.
 * Not an API.
 */
@NullMarked
package dev.relay.filters.internal;

import org.jspecify.annotations.NullMarked;
