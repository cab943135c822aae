package dev.relay.filters.cache;

import com.github.benmanes.caffeine.cache.Expiry;
import dev.relay.core.cache.CacheMeta;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.ToLongFunction;

/**
 * The expiry every tier shares: an entry goes once the response it stands for can no longer be
 * served in any way. That is when it is stale beyond both stale windows (RFC 5861; none when
 * {@code must-revalidate}) and has no validator: a response with an {@code ETag} or
 * {@code Last-Modified} can still be revalidated with a cheap 304, so it is kept until the size
 * policy evicts it, as nginx keeps such files until {@code inactive}.
 *
 * <p>The deadline is a wall-clock time (the metadata's clock readings are epoch milliseconds), while
 * Caffeine counts durations on its own ticker: each duration is the deadline minus the wall clock now.
 */
final class UntilUseless<K, V> implements Expiry<K, V> {
    private final ToLongFunction<V> uselessAtMillis;
    private final LongSupplier currentTimeMillis;

    UntilUseless(ToLongFunction<V> uselessAtMillis, LongSupplier currentTimeMillis) {
        this.uselessAtMillis = uselessAtMillis;
        this.currentTimeMillis = currentTimeMillis;
    }

    /**
     * The epoch millisecond from which nobody can be served {@code meta}'s response; MAX_VALUE: never,
     * for one with a validator.
     */
    static long uselessAtMillis(CacheMeta meta) {
        return meta.hasValidator() ? Long.MAX_VALUE : meta.servableUntilMillis();
    }

    /** Whether {@code meta}'s response is of no use already: a storage does not even keep it. */
    boolean isUseless(CacheMeta meta) {
        return uselessAtMillis(meta) <= currentTimeMillis.getAsLong();
    }

    private long durationNanos(V value) {
        long uselessAt = uselessAtMillis.applyAsLong(value);
        if (uselessAt == Long.MAX_VALUE) {
            return Long.MAX_VALUE;
        }
        long millisLeft = Math.max(0, uselessAt - currentTimeMillis.getAsLong());
        return millisLeft >= Long.MAX_VALUE / 1_000_000 ? Long.MAX_VALUE : TimeUnit.MILLISECONDS.toNanos(millisLeft);
    }

    @Override
    public long expireAfterCreate(K key, V value, long currentTime) {
        return durationNanos(value);
    }

    @Override
    public long expireAfterUpdate(K key, V value, long currentTime, long currentDuration) {
        return durationNanos(value);
    }

    @Override
    public long expireAfterRead(K key, V value, long currentTime, long currentDuration) {
        return currentDuration;
    }
}
