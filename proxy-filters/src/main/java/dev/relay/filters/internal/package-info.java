/**
 * Small helpers shared by several filters of this module (HTTP field rules that more than one filter
 * applies). Not an API: filters outside {@code proxy-filters} should not rely on them.
 *
 * <p>{@code @NullMarked} (JSpecify): everything here is non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package dev.relay.filters.internal;

import org.jspecify.annotations.NullMarked;
