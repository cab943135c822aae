package dev.relay.filters.redis;

import dev.relay.filters.redis.RateLimitDecision.Basis;
import dev.relay.filters.redis.RedisRateLimiter.WhenUnavailable;
import dev.relay.testing.Await;
import dev.relay.testing.RedisServer;
import org.jspecify.annotations.Nullable;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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
    void aKeyFarFromItsLimitNeverWaitsForRedisNotEvenTheFirstTime() {
        RedisRateLimiter a = limiter(10_000, x -> x.syncEvery(50));
        assertTrue(a.decide("quiet").toCompletableFuture().isDone(), "a new key's first request is decided at once");
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
    void concurrentDecisionsOfABusyKeyShareRoundTripsInsteadOfEachMakingOne() {
        int syncEvery = 10;
        RedisRateLimiter a = limiter(1_000_000, x -> x.syncEvery(syncEvery));
        RedisClient admin = client(Duration.ofSeconds(1));
        admin.send("CONFIG", "RESETSTAT").join();
        // 50 clients of one key, each sending its next request when the last is decided: the allowance is used
        // up while a report is out, which used to send one script per further request.
        Tally tally = decideConcurrently(a, "busy", 50, 200);
        int requests = 50 * 200;
        assertEquals(requests, tally.allowed(), tally.toString());
        long scripts = scriptCalls(admin);
        assertTrue(scripts <= requests / (syncEvery / 2) + 10,
                scripts + " scripts for " + requests + " requests (" + tally + ")");
    }

    @Test
    void oneInstanceAllowsExactlyTheLimitUnderConcurrentDecisions() {
        // An hour's window: a test cannot come near enough to its end for the previous window's weight to matter.
        RedisRateLimiter a = limiter(300, Duration.ofHours(1), x -> x.syncEvery(10));
        Tally tally = decideConcurrently(a, "exact", 30, 15);
        assertEquals(300, tally.allowed(), tally.toString());
        RateLimitDecision next = decide(a, "exact");
        assertFalse(next.allowed(), "the 301st: " + next);
        assertEquals(0, next.remaining());
    }

    @Test
    void twoInstancesUnderConcurrentDecisionsStayWithinTheBound() {
        int limit = 500;
        int syncEvery = 10;
        RedisRateLimiter a = limiter(limit, Duration.ofHours(1), x -> x.syncEvery(syncEvery));
        RedisRateLimiter b = limiter(limit, Duration.ofHours(1), x -> x.syncEvery(syncEvery));
        CompletableFuture<Tally> onA = CompletableFuture.supplyAsync(() -> decideConcurrently(a, "shared", 25, 30));
        Tally onB = decideConcurrently(b, "shared", 25, 30);
        long allowed = onA.join().allowed() + onB.allowed();
        assertTrue(allowed >= limit - 1 && allowed <= limit + 2 * syncEvery,
                "allowed " + allowed + " of a limit of " + limit + " (" + onA.join() + ", " + onB + ")");
    }

    @Test
    void anInstanceThatMeetsAKeyForTheFirstTimeGoesOverByAtMostItsAllowance() {
        RedisRateLimiter a = limiter(20, Duration.ofHours(1), x -> x.syncEvery(0));
        RedisRateLimiter b = limiter(20, Duration.ofHours(1), x -> x.syncEvery(10));
        for (int i = 0; i < 20; i++) {
            assertTrue(decide(a, "met late").allowed(), "request " + i);
        }
        assertFalse(decide(a, "met late").allowed());
        // b has never seen the key: it allows on a count of zero, within min(sync-every, limit / 2) = 10, until
        // the answer to its report (due at 5) tells it the key is over.
        int allowedOnB = 0;
        for (int i = 0; i < 30; i++) {
            allowedOnB += decide(b, "met late").allowed() ? 1 : 0;
        }
        assertTrue(allowedOnB >= 1 && allowedOnB <= 10, "allowed on b: " + allowedOnB);
        RateLimitDecision last = decide(b, "met late");
        assertFalse(last.allowed(), last.toString());
        int overshoot = allowedOnB;
        RedisClient reader = client(Duration.ofSeconds(1));
        Await.until(() -> sharedCount(reader, "met late") == 20 + overshoot, WAIT,
                () -> "b's requests are all counted in Redis: " + sharedCount(reader, "met late") + ", b allowed " + overshoot);
    }

    @Test
    void aFloodOfNewKeysLeavesTheDecisionsOfAKeyNearItsLimitExact() throws Exception {
        // A small queue, so that the flood's reports would fill it if they were not shed.
        RedisClient small = RedisClient.builder(RedisUri.parse(redis.uri())).commandTimeout(Duration.ofSeconds(10))
                .maxPendingCommands(200).build();
        clients.add(small);
        Await.until(small::isConnected, WAIT, () -> "not connected");
        RedisRateLimiter limiter = RedisRateLimiter.builder(small, 20, Duration.ofHours(1)).syncEvery(10)
                .keyPrefix("test:").build();
        RedisClient admin = client(Duration.ofSeconds(1));
        int allowedNear = 0;
        for (int i = 0; i < 15; i++) {
            allowedNear += decide(limiter, "near").allowed() ? 1 : 0;
        }
        admin.send("CONFIG", "RESETSTAT").join();
        CompletableFuture<Flood> flood = CompletableFuture.supplyAsync(() -> flood(limiter, "flood-", 10_000, 7, 3));
        for (int i = 0; i < 15; i++) {
            RateLimitDecision decision = decide(limiter, "near");
            assertTrue(decision.basis() != Basis.REDIS_UNAVAILABLE, "the key near its limit met the policy: " + decision);
            allowedNear += decision.allowed() ? 1 : 0;
        }
        Flood tally = flood.get(30, TimeUnit.SECONDS);
        assertEquals(20, allowedNear, "the key near its limit is decided exactly (" + tally + ")");
        assertEquals(70_000, tally.allowed(), "7 requests of a new key fit its allowance of 10: " + tally);
        assertEquals(0, tally.waited(), "no request of a new key waited for Redis: " + tally);
        assertNull(tally.bases().get(Basis.REDIS_UNAVAILABLE), "nothing met the policy: " + tally);
        // At most one report per new key (at its fifth request), fewer when reports were shed.
        assertTrue(scriptCalls(admin) <= 10_000 + 15, scriptCalls(admin) + " scripts");
    }

    @Test
    void aFloodOfNewKeysSendsNoScriptOfItsOwnAndShedsReportsPastHalfTheQueue() throws Exception {
        CompletableFuture<Void> release = new CompletableFuture<>();
        // Replies to scripts are held until the test lets them go, so the reports fill the client's queue.
        try (ScriptedRedisServer held = ScriptedRedisServer.start((connection, index, command) ->
                command.get(0).startsWith("EVAL") ? release.thenApply(go -> allowAll(command)) : ScriptedRedisServer.answer(command))) {
            RedisClient heldClient = RedisClient.builder(held.uri()).commandTimeout(Duration.ofSeconds(30))
                    .maxPendingCommands(100).build();
            clients.add(heldClient);
            RedisRateLimiter limiter = RedisRateLimiter.builder(heldClient, 1000, MINUTE).syncEvery(10).keyPrefix("f:").build();
            Await.until(heldClient::isConnected, WAIT, () -> "not connected");

            // 5 requests per key: each key's report is due (half of sync-every), 10,000 reports in all.
            Flood tally = flood(limiter, "flood-", 10_000, 5, 4);
            assertEquals(50_000, tally.allowed(), tally.toString());
            assertEquals(Map.of(Basis.LOCAL, 50_000L), tally.bases(), "no request waited or met the policy");
            assertEquals(0, tally.waited(), tally.toString());
            int reports = heldClient.pendingCommands();
            // Reports stop at half the queue (50); threads racing past the check at once may add one each.
            assertTrue(reports >= 50 && reports <= 53, reports + " reports waiting for Redis");
            Await.until(() -> scriptsReceived(held) == reports, WAIT, () -> scriptsReceived(held) + " scripts received");

            // A key whose report was shed: still within its allowance for 5 more, then a decision that must ask
            // Redis finds room in the queue and carries the 10 requests that were never reported.
            String shed = firstKeyWithoutScript(held, 10_000);
            for (int i = 0; i < 5; i++) {
                assertTrue(limiter.decide(shed).toCompletableFuture().isDone(), "within the allowance");
            }
            CompletableFuture<RateLimitDecision> asking = limiter.decide(shed).toCompletableFuture();
            assertFalse(asking.isDone(), () -> "the allowance is used up: Redis decides, yet " + asking.join() + " at once; "
                    + heldClient.pendingCommands() + " pending, connected " + heldClient.isConnected());
            release.complete(null);
            RateLimitDecision decided = asking.get(10, TimeUnit.SECONDS);
            assertEquals(Basis.REDIS, decided.basis());
            assertTrue(decided.allowed());
            assertEquals(List.of("10", "1"), argsOfLastScript(held, shed), "delta and want of the call");

            // Once the queue has drained, another shed key's next request sends the report it owes.
            Await.until(() -> heldClient.pendingCommands() == 0, WAIT, () -> heldClient.pendingCommands() + " pending");
            String owing = firstKeyWithoutScript(held, 10_000);
            assertTrue(limiter.decide(owing).toCompletableFuture().isDone());
            Await.until(() -> argsOfLastScript(held, owing) != null, WAIT, () -> "no report of " + owing);
            assertEquals(List.of("6", "0"), argsOfLastScript(held, owing), "the 5 shed and the new one, as a report");
        }
    }

    /** A script's reply from the scripted server: every wanted request allowed, the delta and them counted. */
    private static String allowAll(List<String> command) {
        long delta = Long.parseLong(command.get(4));
        long want = Long.parseLong(command.get(5));
        return "*4\r\n:" + want + "\r\n:" + (delta + want) + "\r\n:0\r\n:0\r\n";
    }

    /** The first of {@code flood-0 .. flood-(keys - 1)} for which the scripted server received no script. */
    private static String firstKeyWithoutScript(ScriptedRedisServer server, int keys) {
        for (int k = 0; k < keys; k++) {
            if (argsOfLastScript(server, "flood-" + k) == null) {
                return "flood-" + k;
            }
        }
        throw new AssertionError("every key sent a script");
    }

    /** The delta and want of the last script the scripted server received for {@code key}, or null. */
    private static @Nullable List<String> argsOfLastScript(ScriptedRedisServer server, String key) {
        List<String> found = null;
        for (List<String> command : server.received()) {
            // EVALSHA sha 1 KEY delta want limit period
            if (command.get(0).startsWith("EVAL") && command.get(3).equals("f:" + key)) {
                found = command.subList(4, 6);
            }
        }
        return found;
    }

    /** How the decisions of {@link #flood} went; {@code waited} counts those not decided when decide returned. */
    private record Flood(long allowed, long waited, Map<Basis, Long> bases) {}

    /**
     * {@code keys} distinct keys ({@code prefix0 ...}), {@code requests} decisions each, shared out among
     * {@code threads} threads deciding at the same time; then waits for every decision.
     */
    private static Flood flood(RedisRateLimiter limiter, String prefix, int keys, int requests, int threads) {
        LongAdder waited = new LongAdder();
        List<CompletableFuture<RateLimitDecision>> decisions = new CopyOnWriteArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<CompletableFuture<Void>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t;
                workers.add(CompletableFuture.runAsync(() -> {
                    List<CompletableFuture<RateLimitDecision>> mine = new ArrayList<>();
                    for (int k = first; k < keys; k += threads) {
                        for (int r = 0; r < requests; r++) {
                            CompletableFuture<RateLimitDecision> decision = limiter.decide(prefix + k).toCompletableFuture();
                            if (!decision.isDone()) {
                                waited.increment();
                            }
                            mine.add(decision);
                        }
                    }
                    decisions.addAll(mine);
                }, pool));
            }
            CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).orTimeout(30, TimeUnit.SECONDS).join();
        } finally {
            pool.shutdown();
        }
        CompletableFuture.allOf(decisions.toArray(CompletableFuture[]::new)).orTimeout(30, TimeUnit.SECONDS).join();
        Map<Basis, Long> bases = new EnumMap<>(Basis.class);
        long allowed = 0;
        for (CompletableFuture<RateLimitDecision> decision : decisions) {
            RateLimitDecision decided = decision.join();
            bases.merge(decided.basis(), 1L, Long::sum);
            allowed += decided.allowed() ? 1 : 0;
        }
        return new Flood(allowed, waited.sum(), bases);
    }

    @Test
    void theScriptCountsAsManyOfTheWantedRequestsAsFit() {
        RedisClient client = client(Duration.ofSeconds(1));
        List<String> keys = List.of("test:script");
        assertEquals(List.of(7L, 7L), allowedAndCurrent(client.eval(RedisRateLimiter.SLIDING_WINDOW, keys,
                List.of("0", "7", "10", "3600000")).join()));
        assertEquals(List.of(2L, 10L), allowedAndCurrent(client.eval(RedisRateLimiter.SLIDING_WINDOW, keys,
                List.of("1", "5", "10", "3600000")).join()), "1 reported + 2 of 5 fill it");
        assertEquals(List.of(0L, 10L), allowedAndCurrent(client.eval(RedisRateLimiter.SLIDING_WINDOW, keys,
                List.of("0", "1", "10", "3600000")).join()));
    }

    private static List<Long> allowedAndCurrent(RedisReply reply) {
        return List.of(reply.elements().get(0).asLong(), reply.elements().get(1).asLong());
    }

    @Test
    void aFailedCallAnswersEveryDecisionWaitingForItByThePolicy() throws Exception {
        CompletableFuture<String> firstScript = new CompletableFuture<>();
        try (ScriptedRedisServer held = ScriptedRedisServer.start((connection, index, command) ->
                command.get(0).startsWith("EVAL") ? firstScript : ScriptedRedisServer.answer(command))) {
            RedisClient heldClient = RedisClient.builder(held.uri()).commandTimeout(Duration.ofSeconds(30)).build();
            clients.add(heldClient);
            // No local allowance (sync-every 0): every decision asks Redis, and waits behind the call in flight.
            RedisRateLimiter closed = RedisRateLimiter.builder(heldClient, 1000, MINUTE).syncEvery(0)
                    .whenUnavailable(WhenUnavailable.DENY).build();
            Await.until(heldClient::isConnected, WAIT, () -> "not connected");
            List<CompletableFuture<RateLimitDecision>> decisions = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                decisions.add(closed.decide("k").toCompletableFuture());
            }
            Await.until(() -> scriptsReceived(held) >= 1, WAIT, () -> "no script reached the server");
            assertTrue(decisions.stream().noneMatch(CompletableFuture::isDone), "decided before Redis answered");
            assertEquals(1, scriptsReceived(held), "the other 19 wait for the first call instead of sending their own");

            firstScript.complete("-ERR refused on cue\r\n");
            for (CompletableFuture<RateLimitDecision> decision : decisions) {
                RateLimitDecision answered = decision.get(10, TimeUnit.SECONDS);
                assertEquals(Basis.REDIS_UNAVAILABLE, answered.basis());
                assertFalse(answered.allowed(), "fail closed");
            }
            assertEquals(1, scriptsReceived(held));
        }
    }

    private static long scriptsReceived(ScriptedRedisServer server) {
        return server.received().stream().filter(command -> command.get(0).startsWith("EVAL")).count();
    }

    /** EVALSHA and EVAL calls Redis ran since the last CONFIG RESETSTAT. */
    private static long scriptCalls(RedisClient admin) {
        long calls = 0;
        for (String line : admin.send("INFO", "commandstats").join().asString().split("\r\n")) {
            if (line.startsWith("cmdstat_evalsha:") || line.startsWith("cmdstat_eval:")) {
                calls += Long.parseLong(line.replaceAll("^[^:]+:calls=(\\d+),.*", "$1"));
            }
        }
        return calls;
    }

    /** How the decisions of {@link #decideConcurrently} went. */
    private record Tally(long allowed, long denied, Map<Basis, Long> bases) {}

    /**
     * {@code clients} clients of {@code key}, each making {@code requests} decisions one after the other (the
     * next when the last is decided, whether at once or on the Redis client's thread), all at the same time.
     */
    private static Tally decideConcurrently(RedisRateLimiter limiter, String key, int clients, int requests) {
        Map<Basis, LongAdder> bases = new ConcurrentHashMap<>();
        LongAdder allowed = new LongAdder();
        LongAdder denied = new LongAdder();
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            CompletableFuture<Void> finished = new CompletableFuture<>();
            done.add(finished);
            new Object() {
                int left = requests;

                void next() {
                    try {
                        while (left-- > 0) {
                            CompletableFuture<RateLimitDecision> decision = limiter.decide(key).toCompletableFuture();
                            if (!decision.isDone()) {
                                decision.whenComplete((answered, error) -> {
                                    count(answered);
                                    next();
                                });
                                return;
                            }
                            count(decision.join());
                        }
                        finished.complete(null);
                    } catch (RuntimeException | AssertionError e) {
                        finished.completeExceptionally(e);
                    }
                }

                void count(RateLimitDecision decision) {
                    (decision.allowed() ? allowed : denied).increment();
                    bases.computeIfAbsent(decision.basis(), basis -> new LongAdder()).increment();
                }
            }.next();
        }
        CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).orTimeout(30, TimeUnit.SECONDS).join();
        Map<Basis, Long> byBasis = new EnumMap<>(Basis.class);
        bases.forEach((basis, count) -> byBasis.put(basis, count.sum()));
        return new Tally(allowed.sum(), denied.sum(), byBasis);
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

    private RedisRateLimiter limiter(long limit, UnaryOperator<RedisRateLimiter.Builder> settings) {
        return limiter(limit, MINUTE, settings);
    }

    private RedisRateLimiter limiter(long limit, Duration period, UnaryOperator<RedisRateLimiter.Builder> settings) {
        RedisClient client = client(Duration.ofSeconds(1));
        Await.until(client::isConnected, WAIT, () -> "not connected to " + redis.uri());
        return settings.apply(RedisRateLimiter.builder(client, limit, period).keyPrefix("test:")).build();
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
