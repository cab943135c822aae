/**
 * Rate limiting: fixed-memory primitives for Java code, after Pingora's {@code pingora-limits}, and the
 * {@code rate-limit} filter built on them.
 *
 * <ul>
 *   <li>{@link dev.relay.filters.limits.Estimator}: a lock-free count-min sketch, the frequency of any
 *       number of keys in fixed memory (never under-counted, over-counted by collisions only).</li>
 *   <li>{@link dev.relay.filters.limits.Rate}: events per key over a period, as two estimators (the
 *       current window and the previous one), with the per-second rate of the last full window and a
 *       sliding-window estimate.</li>
 *   <li>{@link dev.relay.filters.limits.Inflight}: concurrent operations per key, with a
 *       {@link dev.relay.filters.limits.Inflight.Permit} that gives its slot back exactly once.</li>
 *   <li>{@link dev.relay.filters.limits.TokenBucket}: per-key token buckets (a rate and a burst) in
 *       fixed memory, with the wait until the next token.</li>
 *   <li>{@link dev.relay.filters.limits.RateLimitFilter} and its provider
 *       ({@link dev.relay.filters.limits.RateLimitFilterProvider}): the {@code rate-limit} filter,
 *       keyed by {@link dev.relay.filters.limits.RateLimitKey}.</li>
 * </ul>
 *
 * <p>Every primitive reads time from an injected clock ({@code LongSupplier} of nanoseconds, default
 * {@link System#nanoTime()}), so tests move time by hand. Their operations allocate nothing: keys are
 * hashed where they lie ({@code long}, {@link java.lang.CharSequence} or {@code byte[]}), counters are
 * slots of one {@link java.util.concurrent.atomic.AtomicLongArray}.
 *
 * <p>{@code @NullMarked} (JSpecify): everything here is non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package dev.relay.filters.limits;

import org.jspecify.annotations.NullMarked;
