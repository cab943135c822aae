/**
 * Implementation details of {@code dev.relay.lb}: backend-set snapshots and per-backend state, the
 * selectors built by the selection algorithms, and the allocation-free bookkeeping of a selection.
 * Not API: everything here may change without notice, use the types of {@code dev.relay.lb}.
 *
 * <p>Everything here is non-null unless a parameter or return value is documented as nullable.
 */
package dev.relay.lb.internal;
