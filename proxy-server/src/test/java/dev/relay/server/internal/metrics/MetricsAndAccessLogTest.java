package dev.relay.server.internal.metrics;

import dev.relay.server.testing.AccessLogLines;
import dev.relay.server.testing.InProcessRelay;
import dev.relay.server.testing.Origins;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code /metrics} scraped and parsed after known traffic, the access log's lines, and the admin endpoints. */
@Timeout(60)
class MetricsAndAccessLogTest {
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\\{[^}]*})?) (\\S+)$");

    @TempDir
    Path dir;

    private final List<AutoCloseable> cleanup = new ArrayList<>();
    @RegisterExtension
    final AccessLogLines accessLines = new AccessLogLines();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    private InProcessRelay start(TestOrigin origin, String format) throws IOException {
        InProcessRelay relay = new InProcessRelay(dir.resolve("relay.conf"), """
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  admin.address = "127.0.0.1:0"
                  server { upgrade-socket = none, access-log-format = %s, %s }
                  upstreams { web { backends = [ "%s" ] } }
                  routes = [ { name = api, match.host = "api.test", upstream = web } ]
                }
                """.formatted(format, accessLines.setting(), origin.address()));
        cleanup.add(relay);
        return relay;
    }

    /** Every sample of a scrape: {@code name{labels}} to value; label order as the library writes it. */
    static Map<String, Double> parse(String text) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertTrue(m.matches(), "a sample line: " + line);
            out.put(m.group(1), Double.parseDouble(m.group(2)));
        }
        return out;
    }

    private Map<String, Double> scrapeWhen(InProcessRelay relay, String key, double expected) throws Exception {
        // Metrics are recorded in the logging phase, just after the response went out: wait (bounded).
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            HttpResponse<String> r = relay.adminGet("/metrics");
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/plain"));
            Map<String, Double> samples = parse(r.body());
            if (Double.valueOf(expected).equals(samples.get(key)) || System.nanoTime() > deadline) {
                return samples;
            }
            Thread.sleep(20);
        }
    }

    private static void post(InetSocketAddress proxy, String body) throws IOException {
        try (Socket s = new Socket(proxy.getAddress(), proxy.getPort())) {
            OutputStream out = s.getOutputStream();
            out.write(("POST /upload HTTP/1.1\r\nHost: api.test\r\nConnection: close\r\nContent-Length: " + body.length()
                    + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
            out.flush();
            s.getInputStream().readAllBytes();
        }
    }

    @Test
    void countsAreExactAfterKnownTraffic() throws Exception {
        TestOrigin origin = Origins.start("o");
        cleanup.add(origin);
        InProcessRelay relay = start(origin, "combined");
        InetSocketAddress proxy = relay.proxy();

        for (int i = 0; i < 5; i++) {
            assertEquals(200, RawHttpConnection.get(proxy, "api.test", "/x").status());   // body "o /x": 4 bytes
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(404, RawHttpConnection.get(proxy, "other.test", "/").status());
        }
        post(proxy, "1234567");

        Map<String, Double> m = scrapeWhen(relay, "relay_requests_total{route=\"none\",status_class=\"4xx\",upstream=\"none\"}", 3);
        assertEquals(6.0, m.get("relay_requests_total{route=\"api\",status_class=\"2xx\",upstream=\"web\"}"), m.toString());
        assertEquals(0.0, m.get("relay_requests_total{route=\"api\",status_class=\"5xx\",upstream=\"web\"}"));
        assertEquals(3.0, m.get("relay_requests_total{route=\"none\",status_class=\"4xx\",upstream=\"none\"}"));
        assertEquals(6.0, m.get("relay_request_duration_seconds_count{route=\"api\"}"));
        assertEquals(6.0, m.get("relay_request_duration_seconds_bucket{route=\"api\",le=\"+Inf\"}"));
        assertEquals(7.0, m.get("relay_request_body_bytes_total{route=\"api\"}"));
        // "o /x" five times and "o /upload" once.
        assertEquals(5 * 4 + 9.0, m.get("relay_response_body_bytes_total{route=\"api\"}"));
        double opened = m.get("relay_upstream_connections_used_total{kind=\"opened\",upstream=\"web\"}");
        double reused = m.get("relay_upstream_connections_used_total{kind=\"reused\",upstream=\"web\"}");
        assertEquals(6.0, opened + reused);
        assertEquals(opened, m.get("relay_upstream_connect_duration_seconds_count{upstream=\"web\"}"));
        assertEquals(0.0, m.get("relay_upstream_retries_total{upstream=\"web\"}"));
        String backend = "backend=\"" + origin.address() + "\"";
        assertEquals(1.0, m.get("relay_backend_healthy{" + backend + ",upstream=\"web\"}"), m.keySet().toString());
        assertEquals(0.0, m.get("relay_backend_in_flight{" + backend + ",upstream=\"web\"}"));
        assertEquals(0.0, m.get("relay_requests_active"));
        assertTrue(m.containsKey("relay_downstream_connections"));
        assertTrue(m.containsKey("relay_upstream_connection_reuse_ratio"));
        assertTrue(m.containsKey("relay_upstream_connections{state=\"idle\"}"));
        // The proxy's own buffers came from the default allocator, so it has reserved direct memory.
        assertTrue(m.get("relay_buffer_memory_bytes{kind=\"direct\"}") > 0, m.toString());
        assertTrue(m.get("relay_buffer_memory_bytes{kind=\"heap\"}") >= 0, m.toString());
    }

    @Test
    void writesOneCombinedLinePerRequestWithTheUpstreamFields() throws Exception {
        TestOrigin origin = Origins.start("o");
        cleanup.add(origin);
        InProcessRelay relay = start(origin, "combined");
        RawHttpConnection.get(relay.proxy(), "api.test", "/logged?q=1");
        RawHttpConnection.get(relay.proxy(), "other.test", "/missing");

        List<String> lines = awaitLines(2);
        String ok = lines.stream().filter(l -> l.contains("/logged")).findFirst().orElseThrow();
        assertTrue(ok.matches("127\\.0\\.0\\.1 - - \\[[^]]+] \"GET /logged\\?q=1 HTTP/1\\.1\" 200 9 \"-\" \"-\" host=api\\.test "
                + "route=api upstream=web peer=" + Pattern.quote(origin.address()) + " attempts=1 reused=[01] "
                + "connect_time=\\d+\\.\\d{3} upstream_time=\\d+\\.\\d{3} request_bytes=0 time=\\d+\\.\\d{3}"), ok);
        String missing = lines.stream().filter(l -> l.contains("/missing")).findFirst().orElseThrow();
        assertTrue(missing.contains("\" 404 ") && missing.contains("route=- upstream=- peer=- attempts=0"), missing);
    }

    @Test
    void writesJsonLinesWhenConfigured() throws Exception {
        TestOrigin origin = Origins.start("o");
        cleanup.add(origin);
        InProcessRelay relay = start(origin, "json");
        RawHttpConnection.get(relay.proxy(), "api.test", "/json?a=b");

        String line = awaitLines(1).get(0);
        assertTrue(line.startsWith("{\"time\":\""), line);
        assertTrue(line.contains("\"client\":\"127.0.0.1\",\"method\":\"GET\",\"uri\":\"/json?a=b\",\"protocol\":\"HTTP/1.1\",\"status\":200"), line);
        assertTrue(line.contains("\"route\":\"api\",\"upstream\":\"web\",\"peer\":\"" + origin.address() + "\",\"attempts\":1"), line);
        assertTrue(line.endsWith("\"error\":null}"), line);
    }

    private static int answer(InetSocketAddress proxy, String request) throws IOException {
        try (RawHttpConnection client = new RawHttpConnection(proxy)) {
            client.send(request);
            return client.readResponse().status();
        }
    }

    @Test
    void requestsRefusedForTheClientsFaultAreCountedByReasonAndLoggedWithTheirPreciseType() throws Exception {
        TestOrigin origin = Origins.start("o");
        cleanup.add(origin);
        InProcessRelay relay = start(origin, "combined");
        String malformed = "relay_client_errors_total{reason=\"malformed\"}";
        assertEquals(0.0, parse(relay.adminGet("/metrics").body()).get(malformed), "every reason from the start");

        assertEquals(400, answer(relay.proxy(), "POST /cl HTTP/1.1\r\nHost: api.test\r\nContent-Length: 3, 3\r\n\r\nabc"));
        assertEquals(400, answer(relay.proxy(), "GET /name HTTP/1.1\r\nHost: api.test\r\nBad Name: v\r\n\r\n"));
        assertEquals(505, answer(relay.proxy(), "GET /v2 HTTP/2.0\r\nHost: api.test\r\n\r\n"));

        // Counted just after each answer went out, on the connection's event loop: wait for each.
        String version = "relay_client_errors_total{reason=\"unsupported_version\"}";
        assertEquals(1.0, scrapeWhen(relay, version, 1).get(version));
        Map<String, Double> m = scrapeWhen(relay, malformed, 2);
        assertEquals(2.0, m.get(malformed), m.toString());
        assertEquals(0.0, m.get("relay_client_errors_total{reason=\"closed\"}"));
        assertEquals(0, origin.requests().size(), "nothing refused was forwarded");
        List<String> lines = awaitLines(3);
        assertEquals(2, lines.stream().filter(l -> l.contains("\" 400 ") && l.endsWith(" error=H1_ERROR")).count(),
                lines.toString());
        assertEquals(1, lines.stream().filter(l -> l.contains("\" 505 ") && l.endsWith(" error=HTTP_STATUS")).count(),
                lines.toString());
    }

    private List<String> awaitLines(int count) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (accessLines.lines().size() < count && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        List<String> out = accessLines.lines();
        assertEquals(count, out.size(), out.toString());
        return out;
    }

    @Test
    void theAdminListenerAnswersHealthReadinessAndUpstreams() throws Exception {
        TestOrigin origin = Origins.start("o");
        cleanup.add(origin);
        InProcessRelay relay = start(origin, "combined");

        assertEquals(200, relay.adminGet("/health").statusCode());
        assertEquals("ready\n", relay.adminGet("/ready").body());
        HttpResponse<String> upstreams = relay.adminGet("/upstreams");
        assertEquals("{\"generation\":1,\"upstreams\":{\"web\":{\"selection\":\"round-robin\",\"hash_key\":null,"
                + "\"tls\":false,\"discovery\":\"static\",\"health_check\":null,\"outlier_detection\":true,"
                + "\"alpn\":\"h1\",\"h2_connections\":0,\"h2_active_streams\":0,\"backends\":["
                + "{\"address\":\"" + origin.address() + "\",\"weight\":1,\"healthy\":true,\"enabled\":true,"
                + "\"ejected\":false,\"ready\":true,\"in_flight\":0}]}}}\n", upstreams.body());
        assertEquals(405, relay.adminGet("/reload").statusCode());
        assertEquals(404, relay.adminGet("/nope").statusCode());

        // A request in flight holds the drain open; meanwhile the admin listener says not ready.
        origin.holdResponses();
        java.util.concurrent.CompletableFuture<RawHttpConnection.Response> inFlight = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return RawHttpConnection.get(relay.proxy(), "api.test", "/slow");
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        origin.awaitHeldResponses(1, java.time.Duration.ofSeconds(15));
        relay.server.stop(java.time.Duration.ofSeconds(20));
        assertEquals(503, relay.adminGet("/ready").statusCode());
        assertEquals("draining\n", relay.adminGet("/health").body());
        origin.releaseResponses();
        assertEquals(200, inFlight.get(15, java.util.concurrent.TimeUnit.SECONDS).status());
    }
}
