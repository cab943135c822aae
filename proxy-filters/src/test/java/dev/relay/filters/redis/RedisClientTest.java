package dev.relay.filters.redis;

import dev.relay.filters.redis.RedisException.Kind;
import dev.relay.testing.Await;
import dev.relay.testing.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The client against a real redis-server on loopback. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RedisClientTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    static Path sharedDir;
    private static RedisServer shared;
    private static RedisClient client;

    @BeforeAll
    static void startRedis() throws Exception {
        shared = RedisServer.start(sharedDir);
        client = RedisClient.builder(RedisUri.parse(shared.uri())).build();
    }

    @AfterAll
    static void stopRedis() {
        if (client != null) {
            client.close();
        }
        if (shared != null) {
            shared.close();
        }
    }

    @Test
    void pipelinesManyCommandsAndMatchesEachReplyToItsCommand() {
        int n = 5_000;
        List<CompletableFuture<RedisReply>> sets = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            sets.add(client.send("SET", "pipelined:" + i, "value-" + i));
        }
        List<CompletableFuture<RedisReply>> gets = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            gets.add(client.send("GET", "pipelined:" + i));
        }
        for (int i = 0; i < n; i++) {
            assertEquals("OK", sets.get(i).join().asString());
            assertEquals("value-" + i, gets.get(i).join().asString());
        }
    }

    @Test
    void largeBulkAndArrayRepliesArriveWhole() {
        byte[] big = new byte[5 * 1024 * 1024 + 13];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i * 31 + 7);
        }
        client.sendBytes(List.of(bytes("SET"), bytes("large:bulk"), big)).join();
        assertArrayEquals(big, client.send("GET", "large:bulk").join().asBytes());

        List<String> push = new ArrayList<>(List.of("RPUSH", "large:list"));
        for (int i = 0; i < 50_000; i++) {
            push.add("element-" + i);
        }
        assertEquals(50_000, client.send(push).join().asLong());
        List<RedisReply> elements = client.send("LRANGE", "large:list", "0", "-1").join().elements();
        assertEquals(50_000, elements.size());
        assertEquals("element-0", elements.get(0).asString());
        assertEquals("element-49999", elements.get(49_999).asString());
    }

    @Test
    void anErrorReplyFailsItsFutureAndTheConnectionGoesOn() {
        RedisException error = failure(client.send("NO-SUCH-COMMAND", "x"));
        assertEquals(Kind.ERROR_REPLY, error.kind());
        assertTrue(error.getMessage().startsWith("ERR unknown command"), error.getMessage());
        assertEquals("PONG", client.send("PING").join().asString());
        assertTrue(client.send("GET", "missing:key").join().isNil());
    }

    @Test
    void anErrorInsideATransactionIsAnElementOfItsArray() {
        RedisClient own = RedisClient.builder(RedisUri.parse(shared.uri())).build();
        try {
            own.send("SET", "tx:text", "not a number").join();
            own.send("MULTI");
            own.send("INCR", "tx:text");
            own.send("SET", "tx:other", "1");
            List<RedisReply> results = own.send("EXEC").join().elements();
            assertEquals(RedisReply.Type.ERROR, results.get(0).type());
            assertTrue(results.get(0).asString().contains("not an integer"), results.get(0).asString());
            assertEquals("OK", results.get(1).asString());
        } finally {
            own.close();
        }
    }

    @Test
    void evalLoadsAScriptTheServerDoesNotKnowAndUsesEvalshaAfterwards() {
        RedisScript script = RedisScript.of("return redis.call('INCRBY', KEYS[1], ARGV[1])");
        client.send("SCRIPT", "FLUSH").join();
        assertEquals(0, client.send("SCRIPT", "EXISTS", script.sha1()).join().elements().get(0).asLong());

        assertEquals(5, client.eval(script, List.of("script:counter"), List.of("5")).join().asLong());
        assertEquals(1, client.send("SCRIPT", "EXISTS", script.sha1()).join().elements().get(0).asLong());
        long evalshaBefore = commandCalls("evalsha");
        assertEquals(7, client.eval(script, List.of("script:counter"), List.of("2")).join().asLong());
        assertEquals(evalshaBefore + 1, commandCalls("evalsha"));
    }

    @Test
    void aScriptErrorIsAnErrorReplyNotARetry() {
        RedisScript broken = RedisScript.of("return redis.call('INCR')");
        RedisException error = failure(client.eval(broken, List.of(), List.of()));
        assertEquals(Kind.ERROR_REPLY, error.kind());
    }

    @Test
    void failsFastWhileRedisIsDownAndReconnectsAfterARestartWithoutANewClient(@TempDir Path dir) throws Exception {
        try (RedisServer redis = RedisServer.start(dir)) {
            RedisClient own = RedisClient.builder(RedisUri.parse(redis.uri()))
                    .reconnectDelay(Duration.ofMillis(20), Duration.ofMillis(200)).build();
            try {
                RedisScript script = RedisScript.of("return redis.call('INCR', KEYS[1])");
                assertEquals(1, own.eval(script, List.of("restart:n"), List.of()).join().asLong());

                redis.kill();
                Await.until(() -> !own.isConnected(), WAIT, () -> "the client did not notice the kill");
                CompletableFuture<RedisReply> whileDown = own.send("PING");
                // Failed before send returned: nothing waits on a server that is not there.
                assertTrue(whileDown.isCompletedExceptionally(), "a command while disconnected waits");
                assertEquals(Kind.DISCONNECTED, failure(whileDown).kind());

                redis.restart();
                Await.until(own::isConnected, WAIT, () -> "the client did not reconnect after the restart");
                // The restarted server is empty and has forgotten the script: EVALSHA falls back to EVAL.
                assertEquals(1, own.eval(script, List.of("restart:n"), List.of()).join().asLong());
            } finally {
                own.close();
            }
        }
    }

    @Test
    void aCommandWithoutAReplyTimesOutAndTheQuietConnectionIsReplaced() throws Exception {
        // The first connection answers its login (a PING) and nothing after; later ones answer everything.
        try (ScriptedRedisServer server = ScriptedRedisServer.start((connection, index, command) ->
                connection == 1 && index > 1 ? new CompletableFuture<>() : ScriptedRedisServer.answer(command));
             RedisClient own = RedisClient.builder(server.uri()).commandTimeout(Duration.ofMillis(200))
                     .reconnectDelay(Duration.ofMillis(20), Duration.ofMillis(100)).build()) {
            Await.until(own::isConnected, WAIT, () -> "not connected");
            CompletableFuture<RedisReply> unanswered = own.send("GET", "k");
            CompletableFuture<RedisReply> behind = own.send("PING");
            assertEquals(Kind.TIMEOUT, failure(unanswered).kind());
            Kind behindKind = failure(behind).kind();
            assertTrue(behindKind == Kind.TIMEOUT || behindKind == Kind.CONNECTION_LOST, behindKind.toString());
            Await.until(() -> server.closedByClient() == 1, WAIT, () -> "the quiet connection was kept");
            Await.until(() -> pings(own), WAIT, () -> "no PONG on a new connection");
            assertEquals(2, own.connections());
        }
    }

    /**
     * A command held during the first connect was submitted before the login's reply came: the connection
     * must still count as dead when nothing is read for a command timeout after the command was written, and
     * the I/O thread must wait for that moment, not spin on the command's passed deadline.
     */
    @Test
    void aCommandHeldDuringTheFirstConnectTimesOutWithoutSpinningAndTheQuietConnectionIsReplaced() throws Exception {
        CompletableFuture<String> login = new CompletableFuture<>();
        try (ScriptedRedisServer server = ScriptedRedisServer.start((connection, index, command) ->
                connection > 1 ? ScriptedRedisServer.answer(command) : index == 1 ? login : new CompletableFuture<>());
             RedisClient own = RedisClient.builder(server.uri()).commandTimeout(Duration.ofMillis(200))
                     .reconnectDelay(Duration.ofMillis(20), Duration.ofMillis(100)).build()) {
            CompletableFuture<RedisReply> held = own.send("GET", "k");
            Await.until(() -> !server.received().isEmpty(), WAIT, () -> "no login");
            login.complete("+PONG\r\n"); // after the command was submitted: it was held until now
            assertEquals(Kind.TIMEOUT, failure(held).kind());
            Await.until(() -> server.closedByClient() == 1, WAIT,
                    () -> "the connection that went quiet was kept; loop iterations: " + own.ioLoopIterations());
            Await.until(() -> pings(own), WAIT, () -> "no PONG on a new connection");
            // A handful of wake-ups per command, timer and connection; a spinning loop makes millions.
            assertTrue(own.ioLoopIterations() < 1_000, "loop iterations: " + own.ioLoopIterations());
        }
    }

    @Test
    void aFullQueueFailsTheNextCommandAtOnce() throws Exception {
        CompletableFuture<String> slowReply = new CompletableFuture<>();
        try (ScriptedRedisServer server = ScriptedRedisServer.start((connection, index, command) ->
                "SLOW".equals(command.get(0)) ? slowReply : ScriptedRedisServer.answer(command));
             RedisClient own = RedisClient.builder(server.uri()).maxPendingCommands(2).build()) {
            assertEquals("PONG", own.send("PING").join().asString());
            CompletableFuture<RedisReply> slow = own.send("SLOW");
            CompletableFuture<RedisReply> second = own.send("PING");
            CompletableFuture<RedisReply> third = own.send("PING");
            assertTrue(third.isCompletedExceptionally());
            assertEquals(Kind.QUEUE_FULL, failure(third).kind());
            slowReply.complete("+DONE\r\n");
            assertEquals("DONE", slow.join().asString());
            assertEquals("PONG", second.join().asString());
            assertEquals("PONG", own.send("PING").join().asString());
        }
    }

    @Test
    void logsInWithPasswordOrAclUserAndSelectsTheDatabase(@TempDir Path dir) throws Exception {
        try (RedisServer redis = RedisServer.start(dir)) {
            RedisClient admin = RedisClient.builder(RedisUri.parse(redis.uri())).build();
            try {
                admin.send("ACL", "SETUSER", "relay", "on", ">p@ss:word", "~*", "+@all").join();
                admin.send("CONFIG", "SET", "requirepass", "s3cret").join();
            } finally {
                admin.close();
            }
            String address = "127.0.0.1:" + redis.port();
            try (RedisClient db3 = RedisClient.builder(RedisUri.parse("redis://:s3cret@" + address + "/3")).build();
                 RedisClient acl = RedisClient.builder(RedisUri.parse("redis://relay:p%40ss%3Aword@" + address)).build()) {
                db3.send("SET", "where", "three").join();
                assertEquals("3", db3.send("CLIENT", "INFO").join().asString().replaceAll("(?s).* db=(\\d+) .*", "$1"));
                assertTrue(acl.send("GET", "where").join().isNil(), "database 0 sees database 3's key");
                assertEquals("relay", acl.send("ACL", "WHOAMI").join().asString());
            }
            try (RedisClient wrong = RedisClient.builder(RedisUri.parse("redis://:wrong@" + address)).build()) {
                RedisException refused = failure(wrong.send("PING"));
                assertEquals(Kind.DISCONNECTED, refused.kind());
                assertTrue(refused.getMessage().contains("login refused"), refused.getMessage());
            }
        }
    }

    @Test
    void nothingListeningFailsTheFirstCommandsInsteadOfHangingThem(@TempDir Path dir) throws Exception {
        int port;
        try (RedisServer redis = RedisServer.start(dir)) {
            port = redis.port();
        }
        try (RedisClient nowhere = RedisClient.builder(RedisUri.of("127.0.0.1", port)).build()) {
            assertEquals(Kind.DISCONNECTED, failure(nowhere.send("PING")).kind());
            assertFalse(nowhere.isConnected());
        }
    }

    @Test
    void aClosedClientFailsCommandsAtOnce() {
        RedisClient own = RedisClient.builder(RedisUri.parse(shared.uri())).build();
        own.close();
        CompletableFuture<RedisReply> after = own.send("PING");
        assertTrue(after.isCompletedExceptionally());
        assertEquals(Kind.CLOSED, failure(after).kind());
    }

    private static boolean pings(RedisClient redis) {
        try {
            return "PONG".equals(redis.send("PING").join().asString());
        } catch (CompletionException e) {
            return false;
        }
    }

    private static long commandCalls(String command) {
        String stats = client.send("INFO", "commandstats").join().asString();
        return Arrays.stream(stats.split("\r\n"))
                .filter(line -> line.startsWith("cmdstat_" + command + ":"))
                .mapToLong(line -> Long.parseLong(line.replaceAll("^[^:]*:calls=(\\d+),.*", "$1")))
                .findFirst().orElse(0);
    }

    private static RedisException failure(CompletableFuture<?> future) {
        CompletionException thrown = assertThrows(CompletionException.class, future::join);
        return (RedisException) thrown.getCause();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
