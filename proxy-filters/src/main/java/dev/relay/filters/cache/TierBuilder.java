package dev.relay.filters.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalListener;
import com.github.benmanes.caffeine.cache.Ticker;
import org.jspecify.annotations.Nullable;

import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;
import java.util.function.ToLongBiFunction;
import java.util.function.ToLongFunction;

/**
 * What the builders of both tiers set, and the Caffeine cache each tier keeps its entries in: capped
 * in bytes, W-TinyLFU, expiring what is of no use ({@link UntilUseless}).
 *
 * @param <B> the tier's own builder
 */
abstract class TierBuilder<B extends TierBuilder<B>> {
    final long maxBytes;
    long maxObjectSize;
    Ticker ticker = Ticker.systemTicker();
    LongSupplier currentTimeMillis = System::currentTimeMillis;
    @Nullable Executor maintenanceExecutor;

    TierBuilder(long maxBytes, long defaultMaxObjectSize) {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: > 0)");
        }
        this.maxBytes = maxBytes;
        this.maxObjectSize = Math.min(maxBytes, defaultMaxObjectSize);
    }

    abstract B self();

    /** The largest body the tier keeps, at most its {@code maxBytes}; a larger response is not stored. */
    public B maxObjectSize(long maxObjectSize) {
        this.maxObjectSize = maxObjectSize;
        return self();
    }

    /** The clocks expiry runs on: Caffeine's ticker and the wall clock the metadata's times compare to. */
    B time(Ticker ticker, LongSupplier currentTimeMillis) {
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.currentTimeMillis = Objects.requireNonNull(currentTimeMillis, "currentTimeMillis");
        return self();
    }

    /** Where Caffeine does its maintenance (the common pool by default); tests use the caller's thread. */
    B maintenanceExecutor(Executor executor) {
        this.maintenanceExecutor = Objects.requireNonNull(executor, "executor");
        return self();
    }

    /** {@link #maxObjectSize} checked against the largest body the tier can hold, as {@code build()} does. */
    void checkMaxObjectSize(long largest) {
        if (maxObjectSize < 1 || maxObjectSize > largest) {
            throw new IllegalArgumentException("maxObjectSize: " + maxObjectSize + " (expected: 1.." + largest
                    + ", within maxBytes)");
        }
    }

    /** The expiry of entries that stand for responses of no use from {@code uselessAtMillis}. */
    <V> UntilUseless<String, V> expiry(ToLongFunction<V> uselessAtMillis) {
        return new UntilUseless<>(uselessAtMillis, currentTimeMillis);
    }

    /**
     * A cache of at most {@link #maxBytes}, weighed by {@code bytes} (Caffeine weighs in ints: more
     * counts as the most), expiring by {@code expiry}. {@code onEviction} runs within each eviction
     * (size or expiry), not later on the executor, so a count it keeps is current after
     * {@code cleanUp()}.
     */
    <V> Cache<String, V> buildCache(ToLongBiFunction<String, V> bytes, UntilUseless<String, V> expiry,
                                    RemovalListener<String, V> onEviction) {
        Caffeine<String, V> caffeine = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((String key, V value) -> (int) Math.min(Integer.MAX_VALUE, bytes.applyAsLong(key, value)))
                .expireAfter(expiry)
                .evictionListener(onEviction)
                .ticker(ticker);
        if (maintenanceExecutor != null) {
            caffeine.executor(maintenanceExecutor);
        }
        return caffeine.build();
    }
}
