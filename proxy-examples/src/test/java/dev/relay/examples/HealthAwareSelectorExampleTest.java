package dev.relay.examples;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.relay.core.Backend;
import dev.relay.examples.HealthAwareSelectorExample.HealthAwareNodeSelector;
import dev.relay.examples.HealthAwareSelectorExample.NodeHealthRepository;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The health-aware Ketama selector routing requests between four local origins, two of them marked unhealthy. */
@Timeout(60)
class HealthAwareSelectorExampleTest {
    private static final int KEYS = 100;

    @Test
    void keysStickToHealthyNodesAndOnlyTheKeysOfARecoveredNodeMove() throws Exception {
        try (TestOrigin a = TestOrigin.builder().name("a").build().start();
             TestOrigin b = TestOrigin.builder().name("b").build().start();
             TestOrigin c = TestOrigin.builder().name("c").build().start();
             TestOrigin d = TestOrigin.builder().name("d").build().start()) {
            NodeHealthRepository health = new NodeHealthRepository();
            health.setNodeHealth(Backend.parse(a.address()), true);
            health.setNodeHealth(Backend.parse(b.address()), true);
            health.setNodeHealth(Backend.parse(c.address()), false);
            // d is never recorded: unknown nodes count as unhealthy.
            List<Backend> nodes = List.of(Backend.parse(a.address()), Backend.parse(b.address()),
                    Backend.parse(c.address()), Backend.parse(d.address()));
            HealthAwareNodeSelector selector = new HealthAwareNodeSelector(nodes, 256, health);

            Server server = Server.create();
            HttpProxyService proxy = HttpProxyService.create(new HealthAwareSelectorExample(selector));
            proxy.addTcp("127.0.0.1:0");
            server.addService(proxy);
            server.start();
            try {
                String base = "http://127.0.0.1:" + proxy.boundAddresses().get(0).getPort();
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

                Map<String, String> before = route(client, base);
                assertEquals(Set.of("a", "b"), Set.copyOf(before.values()), "only healthy nodes serve");
                assertEquals(before, route(client, base), "a key keeps its node");
                assertEquals(0, c.requests().size() + d.requests().size());

                health.setNodeHealth(Backend.parse(c.address()), true);
                Map<String, String> after = route(client, base);
                int moved = 0;
                for (String key : before.keySet()) {
                    if (!after.get(key).equals(before.get(key))) {
                        assertEquals("c", after.get(key), "a key moves only to the node that recovered: " + key);
                        moved++;
                    }
                }
                assertTrue(moved > 0, "some keys belong to c");
                assertEquals(0, d.requests().size());

                health.setNodeHealth(Backend.parse(a.address()), false);
                health.setNodeHealth(Backend.parse(b.address()), false);
                health.setNodeHealth(Backend.parse(c.address()), false);
                HttpResponse<String> none = client.send(HttpRequest.newBuilder(URI.create(base + "/key_0")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(502, none.statusCode(), "no healthy node: the proxy answers 502");
            } finally {
                server.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
            }
        }
    }

    @Test
    void mainPrintsAHealthyNodeOrNoneForFiveKeys() {
        ch.qos.logback.classic.Logger log =
                (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(HealthAwareSelectorExample.class);
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        log.addAppender(captured);
        try {
            HealthAwareSelectorExample.main(new String[0]);
        } finally {
            log.detachAppender(captured);
        }
        List<String> lines = captured.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        assertEquals(5, lines.size(), lines.toString());
        for (int i = 0; i < 5; i++) {
            String line = lines.get(i);
            assertTrue(line.matches("key_" + i + ": (127\\.0\\.0\\.[1-5]:6443|no healthy node found!)"), line);
        }
    }

    /** The origin that answers each of {@link #KEYS} paths. */
    private static Map<String, String> route(HttpClient client, String base) throws Exception {
        Map<String, String> servedBy = new HashMap<>();
        for (int i = 0; i < KEYS; i++) {
            String key = "/key_" + i;
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create(base + key)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), key);
            servedBy.put(key, response.headers().firstValue("X-Origin").orElseThrow());
        }
        return servedBy;
    }
}
