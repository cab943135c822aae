package dev.relay.server.internal;

import dev.relay.server.testing.AccessLogLines;
import dev.relay.server.testing.InProcessRelay;
import dev.relay.testing.Await;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.RawHttpConnection.Response;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code cache} filter in the configured server, against a real origin that counts its requests:
 * hits, {@code Cache-Status}, metrics, the admin endpoints, purges, per-route caches, the disk tier
 * across a restart and the cache across a reload.
 */
@Timeout(60)
class CacheEndToEndTest {
    private static final String HOST = "site.test";
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @RegisterExtension
    final AccessLogLines accessLines = new AccessLogLines();

    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private final AtomicInteger version = new AtomicInteger();
    private TestOrigin origin;

    @BeforeEach
    void startOrigin() {
        origin = TestOrigin.builder().name("origin")
                .fallbackHandler((request, response) -> response.header("Cache-Control", "max-age=600")
                        .body(request.path() + " v" + version.incrementAndGet()))
                .build().start();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
        origin.close();
    }

    private String conf(String filters, String routes) {
        return """
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  admin.address = "127.0.0.1:0"
                  server { upgrade-socket = none, %s }
                  upstreams { web { backends = [ "%s" ] } }
                  filters = [ %s ]
                  routes = [ %s ]
                }
                """.formatted(accessLines.setting(), origin.address(), filters, routes);
    }

    private String globalCache(String settings) {
        return conf("{ name = cache" + settings + " }", "{ name = all, upstream = web }");
    }

    private InProcessRelay start(String conf) throws Exception {
        InProcessRelay relay = new InProcessRelay(dir.resolve("relay.conf"), conf);
        cleanup.add(relay);
        return relay;
    }

    private static Response get(InProcessRelay relay, String path) throws Exception {
        return RawHttpConnection.get(relay.proxy(), HOST, path);
    }

    private static String cacheStatus(Response response) {
        return response.header("Cache-Status");
    }

    @Test
    void aSecondGetIsAHitThatMetricsTheAdminListenerAndTheAccessLogReport() throws Exception {
        InProcessRelay relay = start(globalCache(""));

        Response first = get(relay, "/a");
        Response second = get(relay, "/a");

        assertEquals("/a v1", first.bodyText());
        assertEquals("relay; fwd=miss; fwd-status=200; stored", cacheStatus(first));
        assertEquals("/a v1", second.bodyText());
        assertTrue(cacheStatus(second).startsWith("relay; hit; ttl="), cacheStatus(second));
        assertEquals(1, origin.requestCount("/a"));

        awaitMetric(relay, "relay_cache_requests_total{cache=\"global\",result=\"hit\"}", "1.0");
        awaitMetric(relay, "relay_cache_requests_total{cache=\"global\",result=\"miss\"}", "1.0");
        assertEquals("1.0", metric(relay, "relay_cache_entries{cache=\"global\",tier=\"memory\"}"));
        assertTrue(Double.parseDouble(metric(relay, "relay_cache_bytes{cache=\"global\",tier=\"memory\"}")) > 5,
                "the object's bytes are counted");
        assertEquals(String.valueOf((double) (256L << 20)), metric(relay, "relay_cache_max_bytes{cache=\"global\",tier=\"memory\"}"));
        assertEquals("0.0", metric(relay, "relay_cache_evictions_total{cache=\"global\",tier=\"memory\"}"));
        assertEquals("0.0", metric(relay, "relay_cache_lock_waits_total{cache=\"global\"}"));

        String json = relay.adminGet("/cache").body();
        assertTrue(json.startsWith("{\"caches\":[{\"name\":\"global\",\"status_name\":\"relay\",\"requests\":{"), json);
        assertTrue(json.contains("\"miss\":1,\"collapsed\":0,\"hit\":1,"), json);
        assertTrue(json.contains("\"tiers\":[{\"tier\":\"memory\",\"entries\":1,\"bytes\":"), json);
        assertTrue(json.contains("\"max_bytes\":268435456,\"evictions\":0}]"), json);

        Await.until(() -> accessLines.lines().size() >= 2, WAIT, () -> accessLines.lines().toString());
        assertTrue(accessLines.lines().get(0).endsWith(" cache=miss"), accessLines.lines().get(0));
        assertTrue(accessLines.lines().get(1).endsWith(" cache=hit"), accessLines.lines().get(1));
    }

    @Test
    void anAdminPurgeByPrefixOrKeySendsTheNextRequestsToTheOrigin() throws Exception {
        InProcessRelay relay = start(globalCache(""));
        get(relay, "/p/1");
        get(relay, "/p/2");
        get(relay, "/q");
        Await.until(() -> memoryEntries(relay) == 3, WAIT, () -> "entries: " + memoryEntries(relay));

        HttpResponse<String> missing = relay.adminPost("/cache/purge");
        assertEquals(400, missing.statusCode());
        assertTrue(missing.body().contains("expected key="), missing.body());

        HttpResponse<String> byPrefix = relay.adminPost("/cache/purge?prefix=http://SITE.test/p/");
        assertEquals(200, byPrefix.statusCode());
        assertEquals("{\"purged\":2}\n", byPrefix.body());
        HttpResponse<String> byKeyInABody = postForm(relay, "/cache/purge", "key=http%3A%2F%2Fsite.test%2Fq");
        assertEquals("{\"purged\":1}\n", byKeyInABody.body());

        assertEquals("/p/1 v4", get(relay, "/p/1").bodyText());
        assertEquals("/q v5", get(relay, "/q").bodyText());
        assertEquals(2, origin.requestCount("/p/1"));
        assertEquals(2, origin.requestCount("/q"));
        assertEquals(405, relay.adminGet("/cache/purge").statusCode());
    }

    @Test
    void aPurgeRequestFromLoopbackRemovesTheStoredResponse() throws Exception {
        InProcessRelay relay = start(globalCache(""));
        get(relay, "/a");

        Response purged;
        try (RawHttpConnection connection = new RawHttpConnection(relay.proxy())) {
            connection.send("PURGE /a HTTP/1.1\r\nHost: " + HOST + "\r\nConnection: close\r\n\r\n");
            purged = connection.readResponse();
        }

        assertEquals(200, purged.status());
        assertEquals("/a v2", get(relay, "/a").bodyText());
        assertEquals(2, origin.requestCount("/a"));
        awaitMetric(relay, "relay_cache_requests_total{cache=\"global\",result=\"purge\"}", "1.0");
    }

    @Test
    void aRouteWithItsOwnCacheCachesAndAnotherRouteDoesNot() throws Exception {
        InProcessRelay relay = start(conf("", """
                { name = cached, match.path-prefix = "/c", upstream = web, filters = [ { name = cache, status-name = edge } ] },
                { name = plain, upstream = web }"""));

        get(relay, "/c/x");
        Response hit = get(relay, "/c/x");
        get(relay, "/n/x");
        Response uncached = get(relay, "/n/x");

        assertTrue(cacheStatus(hit).startsWith("edge; hit"), cacheStatus(hit));
        assertEquals(1, origin.requestCount("/c/x"));
        assertNull(cacheStatus(uncached));
        assertEquals(2, origin.requestCount("/n/x"));
        awaitMetric(relay, "relay_cache_requests_total{cache=\"route:cached\",result=\"hit\"}", "1.0");
        assertTrue(relay.adminGet("/cache").body().startsWith("{\"caches\":[{\"name\":\"route:cached\",\"status_name\":\"edge\""));
    }

    @Test
    void theDiskTierServesAfterARestartWithoutAskingTheOrigin() throws Exception {
        String conf = globalCache(", disk { path = \"" + dir.resolve("cache") + "\" }");
        InProcessRelay before = start(conf);
        assertEquals("relay; fwd=miss; fwd-status=200; stored", cacheStatus(get(before, "/d")));
        // Disk writes are asynchronous: the file is there once the disk tier counts it.
        Await.until(() -> diskEntries(before) == 1, WAIT, () -> "disk entries: " + diskEntries(before));
        before.close();

        InProcessRelay after = start(conf);
        Response restarted = get(after, "/d");

        assertEquals("/d v1", restarted.bodyText());
        assertTrue(cacheStatus(restarted).startsWith("relay; hit; ttl="), cacheStatus(restarted));
        assertEquals(1, origin.requestCount("/d"));
    }

    @Test
    void aReloadWithTheSameCacheSettingsKeepsTheStoredObjectsAndNewSettingsStartAfresh() throws Exception {
        InProcessRelay relay = start(globalCache(""));
        String listener = "\"127.0.0.1:" + relay.proxy().getPort() + "\"";
        get(relay, "/r");

        relay.rewrite(globalCache("").replace("\"127.0.0.1:0\" ]", listener + " ]"));
        assertEquals(200, relay.adminPost("/reload").statusCode());
        Response kept = get(relay, "/r");
        assertTrue(cacheStatus(kept).startsWith("relay; hit"), cacheStatus(kept));
        assertEquals(1, origin.requestCount("/r"));

        relay.rewrite(globalCache(", max-size = 64MiB").replace("\"127.0.0.1:0\" ]", listener + " ]"));
        assertEquals(200, relay.adminPost("/reload").statusCode());
        Response fresh = get(relay, "/r");
        assertEquals("relay; fwd=miss; fwd-status=200; stored", cacheStatus(fresh));
        assertEquals(2, origin.requestCount("/r"));
        assertEquals(String.valueOf((double) (64L << 20)), metric(relay, "relay_cache_max_bytes{cache=\"global\",tier=\"memory\"}"));
    }

    @Test
    void aRejectedReloadKeepsTheRunningCache() throws Exception {
        InProcessRelay relay = start(globalCache(""));
        String listener = "\"127.0.0.1:" + relay.proxy().getPort() + "\"";
        get(relay, "/k");

        // The same cache settings, so the rejected configuration's filter shares the running cache:
        // releasing it when the load fails must leave that cache open.
        relay.rewrite(globalCache("").replace("\"127.0.0.1:0\" ]", listener + " ]")
                .replace("upstream = web", "upstream = nowhere"));
        assertEquals(400, relay.adminPost("/reload").statusCode());

        Response hit = get(relay, "/k");
        assertTrue(cacheStatus(hit).startsWith("relay; hit"), cacheStatus(hit));
        assertEquals(1, origin.requestCount("/k"));
    }

    private static long memoryEntries(InProcessRelay relay) {
        return tierEntries(relay, "memory");
    }

    private static long diskEntries(InProcessRelay relay) {
        return tierEntries(relay, "disk");
    }

    private static long tierEntries(InProcessRelay relay, String tier) {
        try {
            Matcher m = Pattern.compile("\\{\"tier\":\"" + tier + "\",\"entries\":(\\d+)").matcher(relay.adminGet("/cache").body());
            return m.find() ? Long.parseLong(m.group(1)) : -1;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static HttpResponse<String> postForm(InProcessRelay relay, String path, String form) throws Exception {
        InetSocketAddress admin = relay.admin();
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + admin.getPort() + path)).timeout(WAIT)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void awaitMetric(InProcessRelay relay, String series, String value) {
        Await.until(() -> value.equals(metric(relay, series)), WAIT, () -> series + " = " + metric(relay, series));
    }

    private static String metric(InProcessRelay relay, String series) {
        try {
            for (String line : relay.adminGet("/metrics").body().split("\n")) {
                if (line.startsWith(series + " ")) {
                    return line.substring(series.length() + 1);
                }
            }
            return null;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
