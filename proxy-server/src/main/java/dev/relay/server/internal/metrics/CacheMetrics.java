package dev.relay.server.internal.metrics;

import dev.relay.core.cache.CacheResult;
import dev.relay.core.cache.CacheTierStats;
import dev.relay.core.cache.HttpCache;
import dev.relay.server.internal.proxy.ConfiguredCache;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.List;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

import static java.util.Objects.requireNonNull;

/**
 * The caches' metrics, read at scrape time from {@link HttpCache#stats()} (one snapshot per cache per
 * scrape, so a scrape's series agree with each other), for the caches of the current configuration.
 * The {@code cache} label is where the filter is configured ({@link ConfiguredCache#name()}); the
 * {@code tier} label the storage tier ({@code memory}, {@code disk}). The event loops pay nothing:
 * the caches count in {@code LongAdder}s either way.
 */
final class CacheMetrics implements MultiCollector {
    private static final String REQUESTS = "relay_cache_requests";
    private static final String LOCK_WAITS = "relay_cache_lock_waits";
    private static final String LOCK_TIMEOUTS = "relay_cache_lock_timeouts";
    private static final String BACKGROUND_REVALIDATIONS = "relay_cache_background_revalidations";
    private static final String ENTRIES = "relay_cache_entries";
    private static final String BYTES = "relay_cache_bytes";
    private static final String MAX_BYTES = "relay_cache_max_bytes";
    private static final String EVICTIONS = "relay_cache_evictions";

    private volatile Supplier<List<ConfiguredCache>> caches = List::of;

    /** Where the caches come from (the current configuration's); none until bound. */
    void bind(Supplier<List<ConfiguredCache>> caches) {
        this.caches = requireNonNull(caches, "caches");
    }

    @Override
    public MetricSnapshots collect() {
        CounterSnapshot.Builder requests = CounterSnapshot.builder().name(REQUESTS)
                .help("Requests that enabled a cache, by cache and result (miss, hit, stale, revalidated, expired, "
                        + "collapsed, bypass, purge)");
        CounterSnapshot.Builder lockWaits = CounterSnapshot.builder().name(LOCK_WAITS)
                .help("Requests that waited for another request's origin fetch of the same key (the cache lock)");
        CounterSnapshot.Builder lockTimeouts = CounterSnapshot.builder().name(LOCK_TIMEOUTS)
                .help("Waits on the cache lock that ran out of lock-timeout (the request then went to the origin itself)");
        CounterSnapshot.Builder revalidations = CounterSnapshot.builder().name(BACKGROUND_REVALIDATIONS)
                .help("Stale-while-revalidate refreshes started in the background");
        GaugeSnapshot.Builder entries = GaugeSnapshot.builder().name(ENTRIES).help("Objects stored, by cache and tier");
        GaugeSnapshot.Builder bytes = GaugeSnapshot.builder().name(BYTES).help("Bytes stored, by cache and tier");
        GaugeSnapshot.Builder maxBytes = GaugeSnapshot.builder().name(MAX_BYTES).help("The size cap, by cache and tier");
        CounterSnapshot.Builder evictions = CounterSnapshot.builder().name(EVICTIONS)
                .help("Objects evicted by the size cap, by cache and tier (not purges, not expiries)");
        for (ConfiguredCache configured : caches.get()) {
            HttpCache.CacheStats stats = configured.cache().stats();
            String cache = configured.name();
            for (CacheResult result : CacheResult.values()) {
                if (result != CacheResult.DISABLED) { // counted by no cache: the request did not enable one
                    requests.dataPoint(counter(stats.count(result), Labels.of("cache", cache, "result", ConfiguredCache.resultName(result))));
                }
            }
            Labels labels = Labels.of("cache", cache);
            lockWaits.dataPoint(counter(stats.lockWaits(), labels));
            lockTimeouts.dataPoint(counter(stats.lockTimeouts(), labels));
            revalidations.dataPoint(counter(stats.backgroundRevalidations(), labels));
            for (CacheTierStats tier : stats.tiers()) {
                Labels tierLabels = Labels.of("cache", cache, "tier", tier.tier());
                entries.dataPoint(gauge(tier, CacheTierStats::entries, tierLabels));
                bytes.dataPoint(gauge(tier, CacheTierStats::bytes, tierLabels));
                maxBytes.dataPoint(gauge(tier, CacheTierStats::maxBytes, tierLabels));
                evictions.dataPoint(counter(tier.evictions(), tierLabels));
            }
        }
        return MetricSnapshots.of(requests.build(), lockWaits.build(), lockTimeouts.build(), revalidations.build(),
                entries.build(), bytes.build(), maxBytes.build(), evictions.build());
    }

    @Override
    public List<String> getPrometheusNames() {
        return List.of(REQUESTS, LOCK_WAITS, LOCK_TIMEOUTS, BACKGROUND_REVALIDATIONS, ENTRIES, BYTES, MAX_BYTES, EVICTIONS);
    }

    private static CounterDataPointSnapshot counter(long value, Labels labels) {
        return CounterDataPointSnapshot.builder().value(value).labels(labels).build();
    }

    private static GaugeDataPointSnapshot gauge(CacheTierStats tier, ToLongFunction<CacheTierStats> value, Labels labels) {
        return GaugeDataPointSnapshot.builder().value(value.applyAsLong(tier)).labels(labels).build();
    }
}
