/**
 * Implementation of {@code dev.relay.lb}: backend-set snapshots and per-backend state (health,
 * ejection, load signals), the selectors built by the selection algorithms and their hash
 * functions, the allocation-free bookkeeping of a selection, the blocking probe and DNS clients
 * used by health checks and discovery, and the default scheduler and thread pools.
 * Not API: everything here may change without notice, use the types of {@code dev.relay.lb}.
 *
 * <p>Everything here is non-null unless a parameter or return value is documented as nullable.
 */
package dev.relay.lb.internal;
