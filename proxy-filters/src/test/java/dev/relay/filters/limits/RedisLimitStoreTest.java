package dev.relay.filters.limits;

import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.Stages;
import dev.relay.filters.redis.RedisClient;
import dev.relay.filters.redis.RedisReply;
import dev.relay.filters.redis.RedisUri;
import dev.relay.testing.RedisServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code store = redis} in the provider (validation, the shared clients) and the verdicts of the Redis store on a
 * real redis-server: 429 over the shared limit, and both failure policies with the server killed.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RedisLimitStoreTest {
    @TempDir
    Path dir;
    private final RateLimitFilterProvider provider = new RateLimitFilterProvider();
    private final List<RateLimitFilter> filters = new ArrayList<>();
    private RedisServer redis;

    @AfterEach
    void tearDown() {
        filters.forEach(RateLimitFilter::release);
        assertEquals(0, provider.openRedisClients(), "released filters leave no client open");
        if (redis != null) {
            redis.close();
        }
    }

    private RateLimitFilter create(Map<String, ?> settings) {
        RateLimitFilter filter = provider.create(FilterSettings.of(settings));
        filters.add(filter);
        return filter;
    }

    private static Map<String, Object> shared(String uri, Object... more) {
        Map<String, Object> settings = new HashMap<>(Map.of("key", "header:X-Api-Key", "limit", 3, "period", "60m",
                "store", "redis", "redis", uri));
        for (int i = 0; i < more.length; i += 2) {
            settings.put((String) more[i], more[i + 1]);
        }
        return settings;
    }

    /** Runs one decision to its end (a round trip completes on the client's thread); the request is then over. */
    private static LimitVerdict decide(RateLimitFilter filter, String key) {
        LimitVerdict verdict = decideHolding(filter, key);
        filter.store().release(verdict);
        return verdict;
    }

    /** One decision, the request still going on: an admitted one holds its in-flight slot. */
    private static LimitVerdict decideHolding(RateLimitFilter filter, String key) {
        LimitVerdict verdict = new LimitVerdict();
        filter.store().acquire(key, verdict).toCompletableFuture().join();
        return verdict;
    }

    /** Whether a decision came on the caller's stack, admitted without numbers (the client knows Redis is gone). */
    private static boolean decidedAtOnceWithoutNumbers(RateLimitFilter filter, String key) {
        LimitVerdict verdict = new LimitVerdict();
        CompletionStage<Void> stage = filter.store().acquire(key, verdict);
        stage.toCompletableFuture().join();
        filter.store().release(verdict);
        return stage == Stages.done() && verdict.remaining == -1;
    }

    @Test
    void theBenchmarkConfigurationLoads() {
        // bench/filters-bench.sh FILTER=redis: no server is needed to load it (the client connects in the background).
        RateLimitFilter filter = create(Map.of("key", "client-ip", "limit", 1_000_000_000L, "period", "1s",
                "store", "redis", "redis", "redis://127.0.0.1:6390"));
        assertTrue(filter.toString().contains("redis(1000000000 per PT1S, when unavailable ALLOW"), filter.toString());
        assertEquals(1, provider.openRedisClients());
    }

    @Test
    void refusesSettingsThatCannotWorkNamingTheKey() {
        String uri = "redis://127.0.0.1:6390";
        Map<String, Map<String, Object>> refused = new java.util.LinkedHashMap<>();
        refused.put("store", shared(uri, "store", "memcached"));
        refused.put("redis", shared("http://127.0.0.1:6390"));
        refused.put("burst", shared(uri, "burst", 10));
        refused.put("period", shared(uri, "period", java.time.Duration.ofNanos(1_500_000)));
        refused.put("on-redis-error", shared(uri, "on-redis-error", "maybe"));
        refused.put("redis-timeout", shared(uri, "redis-timeout", "0s"));
        refused.put("sync-every", shared(uri, "sync-every", -1));
        refused.put("redis-key-prefix", shared(uri, "redis-key-prefix", " "));
        Map<String, Object> noRedis = shared(uri);
        noRedis.remove("redis");
        refused.put("redis", noRedis);
        Map<String, Object> inFlightOnly = new HashMap<>(Map.of("key", "client-ip", "max-in-flight", 2, "store", "redis",
                "redis", uri));
        refused.put("store", inFlightOnly);
        Map<String, Object> local = new HashMap<>(Map.of("key", "client-ip", "limit", 3, "period", "1s",
                "on-redis-error", "deny"));
        refused.put("on-redis-error", local);
        for (Map.Entry<String, Map<String, Object>> c : refused.entrySet()) {
            InvalidSettingException e = assertThrows(InvalidSettingException.class,
                    () -> provider.create(FilterSettings.of(c.getValue())), c.getValue().toString());
            assertEquals(c.getKey(), e.key(), e.getMessage());
        }
        assertEquals(0, provider.openRedisClients(), "a refused block holds no client");
    }

    @Test
    void filtersOnOneServerShareOneClientUntilTheLastIsReleased() {
        RateLimitFilter a = create(shared("redis://127.0.0.1:6390"));
        RateLimitFilter b = create(shared("redis://127.0.0.1:6390", "limit", 5, "key", "client-ip"));
        create(shared("redis://127.0.0.1:6391"));
        assertEquals(2, provider.openRedisClients());
        a.release();
        a.release();
        assertEquals(2, provider.openRedisClients(), "b still holds the client of 6390, and a second release is nothing");
        b.release();
        assertEquals(1, provider.openRedisClients());
    }

    @Test
    void overTheSharedLimitIs429AndTwoFiltersOfOneBlockShareTheCount() throws Exception {
        redis = RedisServer.start(dir);
        RateLimitFilter first = create(shared(redis.uri(), "sync-every", 0));
        RateLimitFilter second = create(shared(redis.uri(), "sync-every", 0));
        for (int i = 0; i < 3; i++) {
            LimitVerdict admitted = decide(i % 2 == 0 ? first : second, "alpha");
            assertEquals(LimitVerdict.ADMITTED, admitted.status, "request " + i);
            assertEquals(3 - i - 1, admitted.remaining);
        }
        LimitVerdict refused = decide(second, "alpha");
        assertEquals(429, refused.status);
        assertEquals(0, refused.remaining);
        // The window alone is full: the rest of it (windows are aligned on Redis' clock), then a third of the next.
        assertTrue(refused.retryAfterSeconds >= 1200 && refused.retryAfterSeconds <= 4800, "" + refused.retryAfterSeconds);

        RateLimitFilter otherLimit = create(shared(redis.uri(), "sync-every", 0, "limit", 4));
        assertEquals(LimitVerdict.ADMITTED, decide(otherLimit, "alpha").status, "another limit has counters of its own");
        try (RedisClient client = RedisClient.builder(RedisUri.parse(redis.uri())).build()) {
            RedisReply keys = client.send("KEYS", "relay:rl:*").get(10, TimeUnit.SECONDS);
            List<String> names = keys.elements().stream().map(RedisReply::asString).sorted().toList();
            assertEquals(2, names.size(), names.toString());
            assertTrue(names.get(0).startsWith("relay:rl:global:header:x-api-key:3/3600000ms:alpha:"), names.toString());
            assertTrue(names.get(1).startsWith("relay:rl:global:header:x-api-key:4/3600000ms:alpha:"), names.toString());
        }
    }

    @Test
    void withRedisDownAllowAdmitsWithoutNumbersAndDenyIs503WithRetryAfter() throws Exception {
        redis = RedisServer.start(dir);
        // sync-every 0: every decision asks Redis, so the client learns of the kill from a round trip. With the
        // default (10 local decisions per key between reports) the decisions after the kill were local, with
        // numbers, and in some full builds the client had not logged the lost connection 10 s later.
        RateLimitFilter open = create(shared(redis.uri(), "max-in-flight", 1, "sync-every", 0));
        RateLimitFilter closed = create(shared(redis.uri(), "on-redis-error", "deny", "max-in-flight", 1, "sync-every", 0));
        assertEquals(2, decide(open, "k").remaining, "Redis answers while it is up");
        redis.kill();
        // A round trip can fail (and the policy answer it, on the client's thread) before the client has seen
        // its connection close: wait until the client knows, which is when decisions come at once.
        dev.relay.testing.Await.until(() -> decidedAtOnceWithoutNumbers(open, "k"), java.time.Duration.ofSeconds(10),
                () -> "still decided as if Redis were up");

        LimitVerdict admitted = new LimitVerdict();
        assertSame(Stages.done(), open.store().acquire("k", admitted), "a disconnected client decides at once");
        assertEquals(LimitVerdict.ADMITTED, admitted.status);
        assertEquals(-1, admitted.remaining, "how much is left is unknown: no RateLimit fields");
        open.store().release(admitted);

        LimitVerdict denied = decideHolding(closed, "k");
        assertEquals(503, denied.status);
        assertEquals(1, denied.retryAfterSeconds);
        LimitVerdict again = decideHolding(closed, "k");
        assertEquals(503, again.status);
        assertEquals(1, again.retryAfterSeconds, "the policy again, not the full in-flight limit (no Retry-After): "
                + "the refused request gave its slot back");
    }
}
