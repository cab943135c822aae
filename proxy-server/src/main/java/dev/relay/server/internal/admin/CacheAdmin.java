package dev.relay.server.internal.admin;

import dev.relay.core.cache.CacheKey;
import dev.relay.core.cache.CacheResult;
import dev.relay.core.cache.CacheTierStats;
import dev.relay.core.cache.HttpCache;
import dev.relay.server.internal.JsonText;
import dev.relay.server.internal.proxy.ConfiguredCache;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The admin listener's cache endpoints, over the caches of the current configuration:
 * {@code GET /cache} describes them, {@code POST /cache/purge} removes stored responses from all of
 * them. Both run on the admin event loop: a purge only changes the tiers' indexes in memory (a disk
 * tier deletes the files on its own thread).
 */
final class CacheAdmin {
    private CacheAdmin() {}

    /**
     * The {@code /cache} document: per cache its name (where it is configured), its
     * {@code Cache-Status} name, its requests by result, its lock and background-revalidation counts,
     * and per tier (fastest first) its entries, bytes, size cap and evictions.
     */
    static String json(List<ConfiguredCache> caches) {
        StringBuilder sb = new StringBuilder(256).append("{\"caches\":[");
        for (int c = 0; c < caches.size(); c++) {
            ConfiguredCache configured = caches.get(c);
            HttpCache.CacheStats stats = configured.cache().stats();
            sb.append(c == 0 ? "{\"name\":" : ",{\"name\":");
            JsonText.string(sb, configured.name()).append(",\"status_name\":");
            JsonText.string(sb, configured.cache().statusName()).append(",\"requests\":{");
            boolean first = true;
            for (CacheResult result : CacheResult.values()) {
                if (result == CacheResult.DISABLED) {
                    continue; // never counted by a cache
                }
                sb.append(first ? "\"" : ",\"").append(ConfiguredCache.resultName(result)).append("\":").append(stats.count(result));
                first = false;
            }
            sb.append("},\"lock_waits\":").append(stats.lockWaits())
                    .append(",\"lock_timeouts\":").append(stats.lockTimeouts())
                    .append(",\"background_revalidations\":").append(stats.backgroundRevalidations())
                    .append(",\"tiers\":[");
            List<CacheTierStats> tiers = stats.tiers();
            for (int t = 0; t < tiers.size(); t++) {
                CacheTierStats tier = tiers.get(t);
                sb.append(t == 0 ? "{\"tier\":" : ",{\"tier\":");
                JsonText.string(sb, tier.tier()).append(",\"entries\":").append(tier.entries())
                        .append(",\"bytes\":").append(tier.bytes())
                        .append(",\"max_bytes\":").append(tier.maxBytes())
                        .append(",\"evictions\":").append(tier.evictions()).append('}');
            }
            sb.append("]}");
        }
        return sb.append("]}\n").toString();
    }

    /**
     * A purge's outcome: the status and the JSON body, {@code {"purged":N}} or {@code {"error":...}}.
     *
     * @param ok   whether the request named what to purge (else 400)
     * @param body the JSON answer
     */
    record Purge(boolean ok, String body) {}

    /**
     * Purges what {@code key} (an exact cache key, {@code http://example.com/path?q}, with every variant
     * of it) and {@code prefix} (every key starting with it) name, given in the query string of
     * {@code uri} or in a form body, from every cache; both may be given.
     */
    static Purge purge(List<ConfiguredCache> caches, String uri, byte[] body) {
        Map<String, List<String>> params = new java.util.HashMap<>(new QueryStringDecoder(uri).parameters());
        if (body.length > 0) {
            new QueryStringDecoder(new String(body, StandardCharsets.UTF_8), false).parameters()
                    .forEach((name, values) -> params.merge(name, values, (a, b) -> {
                        List<String> both = new java.util.ArrayList<>(a);
                        both.addAll(b);
                        return both;
                    }));
        }
        List<String> keys = nonEmpty(params.get("key"));
        List<String> prefixes = nonEmpty(params.get("prefix"));
        if (keys.isEmpty() && prefixes.isEmpty()) {
            return new Purge(false, "{\"error\":\"expected key=<cache key> (http://host/path?query) or prefix=<start of "
                    + "cache keys>, in the query string or a form body\"}\n");
        }
        long purged = 0;
        for (ConfiguredCache configured : caches) {
            for (String key : keys) {
                purged += configured.cache().purge(CacheKey.ofAbsoluteUri(key), false);
            }
            for (String prefix : prefixes) {
                purged += configured.cache().purge(CacheKey.ofAbsoluteUri(prefix), true);
            }
        }
        return new Purge(true, "{\"purged\":" + purged + "}\n");
    }

    private static List<String> nonEmpty(List<String> values) {
        return values == null ? List.of() : values.stream().filter(v -> !v.isEmpty()).toList();
    }
}
