package dev.relay.filters.redis;

import dev.relay.filters.redis.RateLimitDecision.Basis;
import dev.relay.filters.redis.RedisRateLimiter.WhenUnavailable;
import dev.relay.testing.Await;
import dev.relay.testing.RedisServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shared limit with two "instances" (two clients, two limiters) on one real redis-server. The periods are
 * long (a minute) so that a test never sees a window end: the window math has its own tests
 * (SharedWindowKeyTest).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RedisRateLimiterTest {
    private static final Duration MINUTE = Duration.ofMinutes(1);
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    private RedisServer redis;
    private final List<RedisClient> clients = new ArrayList<>();

    @BeforeEach
    void startRedis() throws Exception {
        redis = RedisServer.start(dir);
    }

    @AfterEach
    void stopRedis() {
        clients.forEach(RedisClient::close);
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void twoInstancesDecidingEveryRequestInRedisAllowExactlyTheLimit() {
        RedisRateLimiter a = limiter(20, b -> b.syncEvery(0));
        RedisRateLimiter b = limiter(20, x -> x.syncEvery(0));
        int allowed = 0;
        for (int i = 0; i < 30; i++) {
            RateLimitDecision decision = decide(i % 2 == 0 ? a : b, "exact");
            allowed += decision.allowed() ? 1 : 0;
            if (i < 20) {
                assertTrue(decision.allowed(), "request " + i);
                assertEquals(20 - i - 1, decision.remaining(), "remaining after request " + i);
            }
        }
        assertEquals(20, allowed);
        RateLimitDecision denied = decide(a, "exact");
        assertFalse(denied.allowed());
        assertTrue(denied.retryAfter().compareTo(Duration.ZERO) > 0, denied.toString());
        assertEquals(0, denied.remaining());
        assertTrue(decide(b, "another key").allowed(), "keys are separate");
    }

    @Test
    void mostDecisionsAreLocalAndTheSharedCountStaysWithinTheBound() {
        int limit = 200;
        int syncEvery = 10;
        RedisRateLimiter a = limiter(limit, x -> x.syncEvery(syncEvery));
        RedisRateLimiter b = limiter(limit, x -> x.syncEvery(syncEvery));
        Map<Basis, Integer> bases = new EnumMap<>(Basis.class);
        int allowed = 0;
        for (int i = 0; i < 2 * limit; i++) {
            RateLimitDecision decision = decide(i % 2 == 0 ? a : b, "shared");
            bases.merge(decision.basis(), 1, Integer::sum);
            allowed += decision.allowed() ? 1 : 0;
        }
        assertTrue(allowed >= limit - 1 && allowed <= limit + 2 * syncEvery,
                "allowed " + allowed + " of a limit of " + limit + " (" + bases + ")");
        assertTrue(bases.getOrDefault(Basis.LOCAL, 0) > limit, "local decisions: " + bases);
        assertEquals(0, bases.getOrDefault(Basis.REDIS_UNAVAILABLE, 0), bases.toString());
    }

    @Test
    void aKeyFarFromItsLimitNeverWaitsForRedisAfterItsFirstDecision() {
        RedisRateLimiter a = limiter(10_000, x -> x.syncEvery(50));
        assertEquals(Basis.REDIS, decide(a, "quiet").basis());
        int decidedAtOnce = 0;
        for (int i = 0; i < 200; i++) {
            // A local decision is complete when decide returns: nothing waited for Redis.
            var stage = a.decide("quiet").toCompletableFuture();
            decidedAtOnce += stage.isDone() && stage.join().basis() == Basis.LOCAL ? 1 : 0;
            assertTrue(stage.join().allowed());
        }
        // The background reports keep the allowance topped up, so a round trip is the exception.
        assertTrue(decidedAtOnce >= 190, "decided without a round trip: " + decidedAtOnce + " of 200");
        RedisClient reader = client(Duration.ofSeconds(1));
        // Reports are sent every 25 requests: all but the last few are in Redis.
        Await.until(() -> sharedCount(reader, "quiet") >= 201 - 25, WAIT,
                () -> "the reports did not reach Redis: " + sharedCount(reader, "quiet"));
    }

    @Test
    void failsOpenWhileRedisIsDownAndDecidesInRedisAgainAfterItsRestart() throws Exception {
        RedisRateLimiter open = limiter(5, x -> x.syncEvery(0).whenUnavailable(WhenUnavailable.ALLOW));
        RedisRateLimiter closed = limiter(5, x -> x.syncEvery(0).whenUnavailable(WhenUnavailable.DENY));
        for (int i = 0; i < 5; i++) {
            assertTrue(decide(open, "k").allowed());
        }
        assertFalse(decide(closed, "k").allowed(), "both instances share the key's count");

        redis.kill();
        Await.until(() -> clients.stream().noneMatch(RedisClient::isConnected), WAIT, () -> "clients still connected");
        RateLimitDecision failOpen = open.decide("k").toCompletableFuture().getNow(null);
        RateLimitDecision failClosed = closed.decide("k").toCompletableFuture().getNow(null);
        assertTrue(failOpen != null && failClosed != null, "a decision while Redis is down waited");
        assertEquals(Basis.REDIS_UNAVAILABLE, failOpen.basis());
        assertTrue(failOpen.allowed(), "fail open allows");
        assertEquals(Basis.REDIS_UNAVAILABLE, failClosed.basis());
        assertFalse(failClosed.allowed(), "fail closed denies");

        redis.restart();
        Await.until(() -> clients.stream().allMatch(RedisClient::isConnected), WAIT, () -> "clients did not reconnect");
        // The restarted Redis is empty: the count starts again, decided in Redis.
        RateLimitDecision after = decide(closed, "k");
        assertEquals(Basis.REDIS, after.basis());
        assertTrue(after.allowed());
        assertEquals(4, after.remaining());
    }

    @Test
    void aSlowRedisMeetsThePolicyAfterTheCommandTimeout() throws Exception {
        // A server that logs in and then never answers a script: the command timeout decides, not a sleep.
        try (ScriptedRedisServer silent = ScriptedRedisServer.start((connection, index, command) ->
                command.get(0).startsWith("EVAL") ? new CompletableFuture<>() : ScriptedRedisServer.answer(command))) {
            RedisClient slowClient = RedisClient.builder(silent.uri()).commandTimeout(Duration.ofMillis(150)).build();
            clients.add(slowClient);
            RedisRateLimiter closed = RedisRateLimiter.builder(slowClient, 5, MINUTE).syncEvery(0)
                    .whenUnavailable(WhenUnavailable.DENY).build();
            Await.until(slowClient::isConnected, WAIT, () -> "not connected");
            RateLimitDecision decision = decide(closed, "k");
            assertEquals(Basis.REDIS_UNAVAILABLE, decision.basis());
            assertFalse(decision.allowed());
        }
    }

    @Test
    void aScriptRedisRefusesMeetsThePolicyInsteadOfFailingTheRequest() {
        RedisRateLimiter closed = limiter(5, x -> x.syncEvery(0).whenUnavailable(WhenUnavailable.DENY));
        RedisClient admin = client(Duration.ofSeconds(1));
        admin.send("CONFIG", "SET", "maxmemory-policy", "noeviction").join();
        admin.send("CONFIG", "SET", "maxmemory", "1").join();
        try {
            RateLimitDecision decision = decide(closed, "k");
            assertEquals(Basis.REDIS_UNAVAILABLE, decision.basis());
            assertFalse(decision.allowed());
        } finally {
            admin.send("CONFIG", "SET", "maxmemory", "0").join();
        }
        assertEquals(Basis.REDIS, decide(closed, "k").basis());
    }

    private RedisRateLimiter limiter(long limit, java.util.function.UnaryOperator<RedisRateLimiter.Builder> settings) {
        RedisClient client = client(Duration.ofSeconds(1));
        Await.until(client::isConnected, WAIT, () -> "not connected to " + redis.uri());
        return settings.apply(RedisRateLimiter.builder(client, limit, MINUTE).keyPrefix("test:")).build();
    }

    private RedisClient client(Duration commandTimeout) {
        RedisClient client = RedisClient.builder(RedisUri.parse(redis.uri())).commandTimeout(commandTimeout)
                .reconnectDelay(Duration.ofMillis(20), Duration.ofMillis(200)).build();
        clients.add(client);
        return client;
    }

    private static RateLimitDecision decide(RedisRateLimiter limiter, String key) {
        return limiter.decide(key).toCompletableFuture().join();
    }

    /** The sliding-window count Redis holds for {@code key} under the test prefix, from both fixed windows. */
    private static long sharedCount(RedisClient reader, String key) {
        List<RedisReply> keys = reader.send("KEYS", "test:" + key + ":*").join().elements();
        long total = 0;
        for (RedisReply k : keys) {
            total += reader.send("GET", k.asString()).join().asLong();
        }
        return total;
    }
}
