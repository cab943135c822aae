package dev.relay.server.internal;

import dev.relay.server.testing.InProcessRelay;
import dev.relay.testing.Await;
import dev.relay.testing.ExternalTool;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.RawHttpConnection.Response;
import dev.relay.testing.RedisServer;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * {@code rate-limit} with {@code store = redis}: two proxies in front of one origin share one limit on a real
 * redis-server; the server is killed (fail open on one proxy, fail closed after a reload on the other) and
 * restarted on the same port, and the limit is enforced again without restarting the proxies. A reload keeps
 * the proxy's Redis client (one I/O thread per proxy throughout).
 */
@Timeout(90)
class RedisRateLimitEndToEndTest {
    private static final String HOST = "site.test";
    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final int LIMIT = 4;

    @TempDir
    Path dir;

    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private TestOrigin origin;
    private RedisServer redis;

    @BeforeEach
    void start() throws Exception {
        redis = RedisServer.start(dir.resolve("redis"));
        ExternalTool.assumeInstalled("redis-cli");
        origin = TestOrigin.builder().name("origin")
                .fallbackHandler((request, response) -> response.body("hello " + request.path()))
                .build().start();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
        if (origin != null) {
            origin.close();
        }
        if (redis != null) {
            redis.close();
        }
        Await.until(() -> redisClientThreads() == 0, WAIT, () -> redisClientThreads() + " Redis client threads after the proxies stopped");
    }

    /** A configuration whose route {@code api} carries the shared limit, failing {@code onError} (allow or deny). */
    private String conf(String listener, String onError) {
        return """
                proxy {
                  listeners = [ "%s" ]
                  admin.address = "127.0.0.1:0"
                  server { upgrade-socket = none }
                  upstreams { web { backends = [ "%s" ] } }
                  routes = [ { name = api, upstream = web, filters = [ {
                    name = rate-limit, key = "header:X-Api-Key", limit = %d, period = 60m
                    store = redis, redis = "%s", on-redis-error = %s, sync-every = 0
                  } ] } ]
                }
                """.formatted(listener, origin.address(), LIMIT, redis.uri(), onError);
    }

    private InProcessRelay relay(String name, String onError) throws Exception {
        Path file = dir.resolve(name + ".conf");
        InProcessRelay relay = new InProcessRelay(file, conf("127.0.0.1:0", onError));
        cleanup.add(relay);
        return relay;
    }

    private static Response get(InProcessRelay relay, String apiKey) throws Exception {
        return RawHttpConnection.get(relay.proxy(), HOST, "/r", Map.of("X-Api-Key", apiKey));
    }

    private static Response getQuietly(InProcessRelay relay, String apiKey) {
        try {
            return get(relay, apiKey);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The Redis clients' I/O threads of this test's server (one per proxy when each shares one client). */
    private long redisClientThreads() {
        String name = "relay-redis-127.0.0.1:" + redis.port();
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && t.getName().equals(name)).count();
    }

    /** The Redis keys of the limit, without their window number (redis-cli comes with redis-server). */
    private List<String> redisKeys() throws Exception {
        Process cli = new ProcessBuilder("redis-cli", "-p", Integer.toString(redis.port()), "--raw", "KEYS", "relay:rl:*")
                .redirectErrorStream(true).start();
        String out = new String(cli.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, cli.waitFor(), out);
        return out.lines().filter(line -> !line.isBlank()).map(line -> line.substring(0, line.lastIndexOf(':'))).sorted()
                .toList();
    }

    /** {@code LIMIT} requests of {@code apiKey} alternating over the proxies pass, the next one on either gets 429. */
    private void assertOneLimitOverBoth(InProcessRelay a, InProcessRelay b, String apiKey) throws Exception {
        for (int i = 0; i < LIMIT; i++) {
            Response ok = get(i % 2 == 0 ? a : b, apiKey);
            assertEquals(200, ok.status(), "request " + i + " of " + apiKey);
            assertEquals("\"default\";r=" + (LIMIT - i - 1), ok.header("RateLimit").split(";t=")[0]);
        }
        for (InProcessRelay relay : List.of(a, b)) {
            Response refused = get(relay, apiKey);
            assertEquals(429, refused.status(), "past the shared limit of " + apiKey);
            assertNotNull(refused.header("Retry-After"));
            assertEquals("\"default\";q=" + LIMIT + ";w=3600", refused.header("RateLimit-Policy"));
        }
    }

    @Test
    void twoProxiesShareOneLimitFailOpenOrClosedWhileRedisIsDownAndEnforceItAgainAfterARestart() throws Exception {
        InProcessRelay a = relay("a", "allow");
        InProcessRelay b = relay("b", "allow");
        assertOneLimitOverBoth(a, b, "alpha");
        assertEquals(2, redisClientThreads(), "one client per proxy");
        assertEquals(List.of("relay:rl:route:api:header:x-api-key:4/3600000ms:alpha"), redisKeys(),
                "the counters are named after the route, the key kind, the limit and the period");

        redis.kill();
        // Fail open: the client sees the connection go and every decision is the policy's, at once.
        Await.until(() -> getQuietly(a, "alpha").status() == 200, WAIT, () -> "alpha still refused with Redis down");
        Response open = get(b, "alpha");
        assertEquals(200, open.status(), "fail open on the other proxy too");
        assertNull(open.header("RateLimit"), "how much is left is unknown while Redis is down");

        // Fail closed after a reload; the reload keeps the proxy's client (same server, same timeout).
        a.rewrite(conf("127.0.0.1:" + a.proxy().getPort(), "deny"));
        assertEquals(200, a.adminPost("/reload").statusCode());
        Response closed = get(a, "gamma");
        assertEquals(503, closed.status(), "fail closed: the proxy cannot decide");
        assertEquals("1", closed.header("Retry-After"));
        assertNull(closed.header("RateLimit"), "not over the limit: no RateLimit fields");
        assertEquals(2, redisClientThreads(), "the reload kept the client");

        redis.restart();
        // Both proxies reconnect by themselves: Redis answers again (fields back on b, no 503 on a).
        Await.until(() -> getQuietly(b, "probe").header("RateLimit") != null, WAIT, () -> "b has not reconnected");
        Await.until(() -> getQuietly(a, "probe").status() != 503, WAIT, () -> "a still fails closed");
        // An empty server: alpha starts again from nothing, and the limit holds over both proxies again.
        assertOneLimitOverBoth(a, b, "alpha");
        assertEquals(2, redisClientThreads());
    }
}
