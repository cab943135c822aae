package dev.relay.server.internal.metrics;

import dev.relay.server.testing.AccessLogLines;
import dev.relay.server.testing.InProcessRelay;
import dev.relay.server.testing.Origins;
import dev.relay.testing.Await;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The access log through the server: every line of a request answered before a graceful stop is in
 * the file afterwards, a reload reopens the file (logrotate) or moves to another path, and a JSON
 * line escapes what a client sent.
 */
@Timeout(90)
class AccessLogEndToEndTest {
    @TempDir
    Path dir;

    @RegisterExtension
    final AccessLogLines accessLines = new AccessLogLines();

    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    private String conf(TestOrigin origin, String server) {
        return """
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  admin.address = "127.0.0.1:0"
                  server { upgrade-socket = none, grace-period = 20s, %s }
                  upstreams { web { backends = [ "%s" ] } }
                  routes = [ { upstream = web } ]
                }
                """.formatted(server, origin.address());
    }

    private InProcessRelay start(TestOrigin origin, String server) throws IOException {
        InProcessRelay relay = new InProcessRelay(dir.resolve("relay.conf"), conf(origin, server));
        cleanup.add(relay);
        return relay;
    }

    private TestOrigin origin() throws IOException {
        TestOrigin origin = Origins.start("o");
        cleanup.add(origin);
        return origin;
    }

    private static List<String> lines(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            return text.isEmpty() ? List.of() : List.of(text.substring(0, text.lastIndexOf('\n')).split("\n"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void everyRequestAnsweredBeforeAGracefulStopHasItsLineInTheFile() throws Exception {
        TestOrigin origin = origin();
        InProcessRelay relay = start(origin, accessLines.setting());
        int requests = 300;
        for (int i = 0; i < requests; i++) {
            assertEquals(200, RawHttpConnection.get(relay.proxy(), "site.test", "/r/" + i).status());
        }
        // One request still in flight when the stop begins: it is answered during the drain.
        origin.holdResponses();
        CompletableFuture<RawHttpConnection.Response> inFlight = CompletableFuture.supplyAsync(() -> {
            try {
                return RawHttpConnection.get(relay.proxy(), "site.test", "/in-flight");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        origin.awaitHeldResponses(1, Duration.ofSeconds(15));
        relay.server.stop(Duration.ofSeconds(20));
        origin.releaseResponses();
        assertEquals(200, inFlight.get(15, TimeUnit.SECONDS).status());
        relay.server.terminationFuture().toCompletableFuture().get(30, TimeUnit.SECONDS);

        List<String> lines = accessLines.lines();
        assertEquals(requests + 1, lines.size());
        Set<String> uris = new HashSet<>();
        for (String line : lines) {
            assertTrue(line.matches("127\\.0\\.0\\.1 - - \\[[^]]+] \"GET /\\S+ HTTP/1\\.1\" 200 .* attempts=1 .*"), line);
            uris.add(line.substring(line.indexOf("\"GET ") + 5, line.indexOf(" HTTP/1.1\"")));
        }
        for (int i = 0; i < requests; i++) {
            assertTrue(uris.contains("/r/" + i), "/r/" + i);
        }
        assertTrue(uris.contains("/in-flight"), uris.toString());
    }

    @Test
    void aReloadReopensTheFileThatLogrotateRenamed() throws Exception {
        TestOrigin origin = origin();
        InProcessRelay relay = start(origin, accessLines.setting());
        RawHttpConnection.get(relay.proxy(), "site.test", "/before");
        Await.until(() -> accessLines.lines().size() == 1, Duration.ofSeconds(10), () -> "the first line");

        Path rotated = dir.resolve("access.log.1");
        Files.move(accessLines.file(), rotated);
        assertEquals(200, relay.adminPost("/reload").statusCode());
        RawHttpConnection.get(relay.proxy(), "site.test", "/after");
        Await.until(() -> Files.exists(accessLines.file()) && accessLines.lines().size() == 1, Duration.ofSeconds(10),
                () -> "a line in a new file");
        assertTrue(accessLines.lines().get(0).contains("\"GET /after HTTP/1.1\""), accessLines.lines().toString());
        List<String> old = lines(rotated);
        assertEquals(1, old.size(), old.toString());
        assertTrue(old.get(0).contains("\"GET /before HTTP/1.1\""), old.toString());
    }

    @Test
    void aReloadMovesTheLinesToTheNewPathAndFormat() throws Exception {
        TestOrigin origin = origin();
        InProcessRelay relay = start(origin, accessLines.setting());
        RawHttpConnection.get(relay.proxy(), "site.test", "/first");
        Await.until(() -> accessLines.lines().size() == 1, Duration.ofSeconds(10), () -> "the first line");

        Path next = dir.resolve("next.log");
        Files.writeString(relay.file, conf(origin, "access-log-path = \"" + next + "\", access-log-format = json"));
        assertEquals(200, relay.adminPost("/reload").statusCode());
        RawHttpConnection.get(relay.proxy(), "site.test", "/second", Map.of("User-Agent", "a \"quoted\\ agent\tx"));
        Await.until(() -> Files.exists(next) && lines(next).size() == 1, Duration.ofSeconds(10), () -> "a line in next.log");
        String json = lines(next).get(0);
        assertTrue(json.contains("\"uri\":\"/second\""), json);
        assertTrue(json.contains("\"user_agent\":\"a \\\"quoted\\\\ agent\\tx\""), json);
        assertEquals(1, accessLines.lines().size(), accessLines.lines().toString());
    }
}
