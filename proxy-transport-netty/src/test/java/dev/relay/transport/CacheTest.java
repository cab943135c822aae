package dev.relay.transport;

import dev.relay.core.cache.CacheResult;
import dev.relay.core.cache.HttpCache;
import dev.relay.filters.cache.MemoryCacheStorage;
import dev.relay.testing.RecordedRequest;
import dev.relay.testing.TestOrigin;
import dev.relay.transport.internal.ManualEngineClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cache in the engine, against a scripted origin that counts what it receives: one test per
 * statement of RFC 9111 (and RFC 9110's conditional and range requests, RFC 5861's stale windows,
 * RFC 9211's Cache-Status) the cache implements. Time moves on a manual clock, so that freshness runs
 * out without waiting.
 */
@Timeout(60)
class CacheTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final int LARGE = 1 << 20;

    private final AtomicInteger version = new AtomicInteger();
    private final ManualEngineClock clock = new ManualEngineClock();
    private TestOrigin origin;
    private MemoryCacheStorage storage;
    private CachingProxy proxy;
    private ProxyFixture fixture;
    private volatile int sieStatus = 200;

    @BeforeEach
    void start() {
        origin = TestOrigin.builder()
                .handler("/fresh", (req, res) -> res.header("Cache-Control", "max-age=60")
                        .body("fresh " + version.incrementAndGet()))
                .handler("/no-store", (req, res) -> res.header("Cache-Control", "no-store, max-age=60")
                        .body("v" + version.incrementAndGet()))
                .handler("/private", (req, res) -> res.header("Cache-Control", "private, max-age=60")
                        .body("v" + version.incrementAndGet()))
                .handler("/public", (req, res) -> res.header("Cache-Control", "public, max-age=60")
                        .body("v" + version.incrementAndGet()))
                .handler("/no-freshness", (req, res) -> res.body("v" + version.incrementAndGet()))
                .handler("/etag", (req, res) -> {
                    res.header("ETag", "\"e1\"").header("Cache-Control", "max-age=1");
                    if ("\"e1\"".equals(req.header("If-None-Match"))) {
                        res.status(304).header("X-Checked", "yes");
                    } else {
                        res.header("X-Checked", "no").body("etag body " + version.incrementAndGet());
                    }
                })
                .handler("/vary", (req, res) -> res.header("Cache-Control", "max-age=60")
                        .header("Vary", "Accept-Language").body("lang " + req.header("Accept-Language")))
                .handler("/swr", (req, res) -> res.header("Cache-Control", "max-age=1, stale-while-revalidate=60")
                        .body("swr " + version.incrementAndGet()))
                .handler("/sie", (req, res) -> res.status(sieStatus)
                        .header("Cache-Control", "max-age=1, stale-if-error=60").body("sie " + version.incrementAndGet()))
                .handler("/big", (req, res) -> res.header("Cache-Control", "max-age=60")
                        .body(TestOrigin.patternBytes(0, 3 << 20)))
                .handler("/large", (req, res) -> res.header("Cache-Control", "max-age=60")
                        .body(TestOrigin.patternBytes(0, LARGE)))
                .handler("/range", (req, res) -> res.header("Cache-Control", "max-age=60").header("ETag", "\"r\"")
                        .body("0123456789"))
                .build().start();
        storage = MemoryCacheStorage.builder(16 << 20).maxObjectSize(2 << 20).build();
        proxy = new CachingProxy(HttpCache.builder(storage).build(), origin.address());
        fixture = new ProxyFixture(proxy, ProxyOptions.defaults(), clock);
    }

    @AfterEach
    void stop() {
        fixture.close();
        origin.close();
        storage.close();
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(fixture.uri(path)).timeout(WAIT);
        if (headers.length > 0) {
            b.headers(headers);
        }
        return fixture.client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Waits until {@code n} requests wait on another's fetch (they reached the lock). */
    private void awaitLockWaits(long n) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (proxy.cache.stats().lockWaits() < n && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(proxy.cache.stats().lockWaits() >= n, "requests waiting on the lock: " + proxy.cache.stats().lockWaits());
    }

    private static String cacheStatus(HttpResponse<?> response) {
        return response.headers().firstValue("Cache-Status").orElse("");
    }

    // ---- storing and freshness (RFC 9111 §3, §4.2) ----------------------------------------------------

    @Test
    void aFreshStoredResponseAnswersWithoutTheOrigin() throws Exception {
        HttpResponse<String> first = get("/fresh");
        assertEquals("fresh 1", first.body());
        assertEquals("relay; fwd=miss; fwd-status=200; stored", cacheStatus(first));
        assertEquals(CacheResult.MISS, proxy.nextResult());
        HttpResponse<String> second = get("/fresh");
        assertEquals("fresh 1", second.body());
        assertEquals(CacheResult.HIT, proxy.nextResult());
        assertTrue(cacheStatus(second).startsWith("relay; hit; ttl="), cacheStatus(second));
        assertEquals(1, origin.requestCount("/fresh"));
    }

    @Test
    void everyHitCarriesItsAge() throws Exception {
        get("/fresh");
        clock.advance(Duration.ofSeconds(7));
        HttpResponse<String> hit = get("/fresh");
        long age = Long.parseLong(hit.headers().firstValue("Age").orElseThrow());
        assertTrue(age >= 7 && age <= 9, "Age " + age);
    }

    @Test
    void aResponseIsStaleOnceItsMaxAgeHasPassed() throws Exception {
        get("/fresh");
        clock.advance(Duration.ofSeconds(61));
        HttpResponse<String> refetched = get("/fresh");
        assertEquals("fresh 2", refetched.body());
        assertEquals(2, origin.requestCount("/fresh"));
    }

    @Test
    void noStoreIsNeverStored() throws Exception {
        get("/no-store");
        get("/no-store");
        assertEquals(2, origin.requestCount("/no-store"));
    }

    @Test
    void privateIsNotStoredByASharedCache() throws Exception {
        get("/private");
        get("/private");
        assertEquals(2, origin.requestCount("/private"));
    }

    @Test
    void aResponseWithoutFreshnessOrValidatorIsNotStoredWithHeuristicsOff() throws Exception {
        get("/no-freshness");
        get("/no-freshness");
        assertEquals(2, origin.requestCount("/no-freshness"));
    }

    @Test
    void aRequestWithAuthorizationIsStoredOnlyWhenTheResponseIsPublic() throws Exception {
        get("/fresh", "Authorization", "Bearer x");
        get("/fresh", "Authorization", "Bearer x");
        assertEquals(2, origin.requestCount("/fresh"));
        get("/public", "Authorization", "Bearer x");
        get("/public", "Authorization", "Bearer x");
        assertEquals(1, origin.requestCount("/public"));
    }

    @Test
    void aResponseLargerThanTheMaximumObjectSizeStreamsThroughUncached() throws Exception {
        HttpResponse<byte[]> first = fixture.client.send(HttpRequest.newBuilder(fixture.uri("/big")).timeout(WAIT).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(3 << 20, first.body().length);
        fixture.client.send(HttpRequest.newBuilder(fixture.uri("/big")).timeout(WAIT).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(2, origin.requestCount("/big"));
    }

    // ---- request directives (RFC 9111 §5.2.1) ---------------------------------------------------------

    @Test
    void requestNoCacheMakesTheCacheAskTheOrigin() throws Exception {
        get("/fresh");
        HttpResponse<String> forced = get("/fresh", "Cache-Control", "no-cache");
        assertEquals("fresh 2", forced.body());
        assertEquals(2, origin.requestCount("/fresh"));
    }

    @Test
    void requestMaxAgeZeroRevalidates() throws Exception {
        get("/etag");
        HttpResponse<String> checked = get("/etag", "Cache-Control", "max-age=0");
        assertEquals("etag body 1", checked.body());
        assertEquals("\"e1\"", origin.requests().get(1).header("If-None-Match"));
    }

    @Test
    void onlyIfCachedWithNothingStoredIs504() throws Exception {
        assertEquals(504, get("/fresh", "Cache-Control", "only-if-cached").statusCode());
        assertEquals(0, origin.requestCount("/fresh"));
    }

    // ---- revalidation (RFC 9111 §4.3) -----------------------------------------------------------------

    @Test
    void aStaleResponseIsRevalidatedAndA304UpdatesTheStoredHeader() throws Exception {
        HttpResponse<String> first = get("/etag");
        assertEquals("no", first.headers().firstValue("X-Checked").orElseThrow());
        clock.advance(Duration.ofSeconds(2));
        HttpResponse<String> second = get("/etag");
        assertEquals(200, second.statusCode());
        assertEquals("etag body 1", second.body());
        assertEquals("yes", second.headers().firstValue("X-Checked").orElseThrow(), "the 304's field replaced the stored one");
        assertEquals("relay; fwd=stale; fwd-status=304", cacheStatus(second));
        RecordedRequest revalidation = origin.requests().get(1);
        assertEquals("\"e1\"", revalidation.header("If-None-Match"));
        proxy.nextResult();
        assertEquals(CacheResult.REVALIDATED, proxy.nextResult());
        HttpResponse<String> third = get("/etag");
        assertEquals("yes", third.headers().firstValue("X-Checked").orElseThrow(), "the merged header was stored");
        assertEquals(2, origin.requestCount("/etag"));
        assertEquals(1, fixture.server.idleUpstreamConnections(), "the 304's connection went back to the pool");
    }

    // ---- answering conditional and range requests (RFC 9110 §13, §14) --------------------------------

    @Test
    void aConditionalRequestMatchingTheStoredETagGets304() throws Exception {
        get("/range");
        HttpResponse<String> notModified = get("/range", "If-None-Match", "\"r\"");
        assertEquals(304, notModified.statusCode());
        assertEquals("", notModified.body());
        assertEquals("\"r\"", notModified.headers().firstValue("ETag").orElseThrow());
        assertEquals(1, origin.requestCount("/range"));
    }

    @Test
    void aSingleRangeIsServedFromTheStoredObject() throws Exception {
        get("/range");
        HttpResponse<String> part = get("/range", "Range", "bytes=2-5");
        assertEquals(206, part.statusCode());
        assertEquals("2345", part.body());
        assertEquals("bytes 2-5/10", part.headers().firstValue("Content-Range").orElseThrow());
        HttpResponse<String> suffix = get("/range", "Range", "bytes=-3");
        assertEquals("789", suffix.body());
        HttpResponse<String> beyond = get("/range", "Range", "bytes=20-");
        assertEquals(416, beyond.statusCode());
        assertEquals("bytes */10", beyond.headers().firstValue("Content-Range").orElseThrow());
        assertEquals(1, origin.requestCount("/range"));
    }

    @Test
    void headIsAnsweredFromAStoredGet() throws Exception {
        get("/range");
        HttpResponse<String> head = fixture.client.send(HttpRequest.newBuilder(fixture.uri("/range")).timeout(WAIT)
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, head.statusCode());
        assertEquals("10", head.headers().firstValue("Content-Length").orElseThrow());
        assertEquals("", head.body());
        assertEquals(1, origin.requestCount("/range"));
    }

    // ---- Vary (RFC 9111 §4.1) -------------------------------------------------------------------------

    @Test
    void varyKeepsOneStoredResponsePerVariant() throws Exception {
        assertEquals("lang en", get("/vary", "Accept-Language", "en").body());
        assertEquals("lang fr", get("/vary", "Accept-Language", "fr").body());
        assertEquals("lang en", get("/vary", "Accept-Language", "en").body());
        assertEquals("lang fr", get("/vary", "Accept-Language", "fr").body());
        assertEquals(2, origin.requestCount("/vary"));
    }

    // ---- stale serving (RFC 5861) ---------------------------------------------------------------------

    @Test
    void staleWhileRevalidateServesTheStaleCopyAndRefreshesItOnceInTheBackground() throws Exception {
        assertEquals("swr 1", get("/swr").body());
        clock.advance(Duration.ofSeconds(5));
        HttpResponse<String> stale = get("/swr");
        assertEquals("swr 1", stale.body());
        assertTrue(cacheStatus(stale).contains("detail=stale-while-revalidate"), cacheStatus(stale));
        origin.awaitRequests(2, WAIT);
        // The refresh stored its answer: the next request gets it, fresh.
        long deadline = System.nanoTime() + WAIT.toNanos();
        String body;
        do {
            body = get("/swr").body();
        } while (!body.equals("swr 2") && System.nanoTime() < deadline);
        assertEquals("swr 2", body);
        assertEquals(2, origin.requestCount("/swr"));
    }

    @Test
    void staleIfErrorServesTheStaleCopyWhenTheOriginFails() throws Exception {
        assertEquals("sie 1", get("/sie").body());
        clock.advance(Duration.ofSeconds(5));
        sieStatus = 503;
        HttpResponse<String> stale = get("/sie");
        assertEquals(200, stale.statusCode());
        assertEquals("sie 1", stale.body());
        assertTrue(cacheStatus(stale).contains("detail=stale-if-error"), cacheStatus(stale));
    }

    @Test
    void staleIfErrorServesTheStaleCopyWhenTheOriginIsDown() throws Exception {
        assertEquals("sie 1", get("/sie").body());
        clock.advance(Duration.ofSeconds(5));
        origin.close();
        HttpResponse<String> stale = get("/sie");
        assertEquals(200, stale.statusCode());
        assertEquals("sie 1", stale.body());
    }

    @Test
    void staleIfErrorServesTheStaleCopyWhenTheOriginTimesOut() throws Exception {
        CachingProxy patient = new CachingProxy(HttpCache.builder(storage).build(), dev.relay.core.HttpPeer
                .plain(origin.address()).withOptions(dev.relay.core.PeerOptions.builder().readTimeout(Duration.ofSeconds(2)).build()));
        try (ProxyFixture other = new ProxyFixture(patient, ProxyOptions.defaults(), clock)) {
            HttpRequest request = HttpRequest.newBuilder(other.uri("/sie")).timeout(WAIT).build();
            assertEquals("sie 1", other.client.send(request, HttpResponse.BodyHandlers.ofString()).body());
            clock.advance(Duration.ofSeconds(5));
            origin.holdResponses();
            CompletableFuture<HttpResponse<String>> stale = other.client.sendAsync(request, HttpResponse.BodyHandlers.ofString());
            origin.awaitHeldResponses(1, WAIT);
            clock.advance(Duration.ofSeconds(3));
            HttpResponse<String> answer = stale.get();
            assertEquals(200, answer.statusCode());
            assertEquals("sie 1", answer.body());
            assertTrue(cacheStatus(answer).contains("detail=stale-if-error"), cacheStatus(answer));
            origin.releaseResponses();
        }
    }

    // ---- the cache lock -------------------------------------------------------------------------------

    @Test
    void aThousandConcurrentMissesForOneKeyMakeOneOriginRequest() throws Exception {
        origin.holdResponses();
        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            responses.add(fixture.client.sendAsync(HttpRequest.newBuilder(fixture.uri("/fresh"))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        origin.awaitHeldResponses(1, WAIT);
        // Every other request reaches the proxy and waits on the lock; then the one fetch finishes.
        awaitLockWaits(999);
        origin.releaseResponses();
        for (CompletableFuture<HttpResponse<String>> r : responses) {
            HttpResponse<String> response = r.get();
            assertEquals(200, response.statusCode());
            assertEquals("fresh 1", response.body());
        }
        assertEquals(1, origin.requestCount("/fresh"));
    }

    @Test
    void aClientThatLeavesDoesNotAbortAFillOthersWaitOn() throws Exception {
        origin.holdResponses();
        try (java.net.Socket writer = new java.net.Socket(fixture.address.getAddress(), fixture.address.getPort())) {
            writer.getOutputStream().write(("GET /fresh HTTP/1.1\r\nHost: " + fixture.uri("/").getAuthority()
                    + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            writer.getOutputStream().flush();
            origin.awaitHeldResponses(1, WAIT);
            CompletableFuture<HttpResponse<String>> waiter = fixture.client.sendAsync(HttpRequest.newBuilder(
                    fixture.uri("/fresh")).timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
            awaitLockWaits(1);
            // The writer's client goes away before the origin answers; the waiter must still be served.
            writer.close();
            Thread.sleep(100);
            origin.releaseResponses();
            assertEquals("fresh 1", waiter.get().body());
        }
        assertEquals(1, origin.requestCount("/fresh"));
        assertEquals("fresh 1", get("/fresh").body(), "the fill was stored");
    }

    @Test
    void waitersStreamALargeBodyWhileItArrivesAndGetEveryByte() throws Exception {
        origin.holdResponses();
        List<CompletableFuture<HttpResponse<byte[]>>> responses = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            responses.add(fixture.client.sendAsync(HttpRequest.newBuilder(fixture.uri("/large")).timeout(WAIT).build(),
                    HttpResponse.BodyHandlers.ofByteArray()));
        }
        origin.awaitHeldResponses(1, WAIT);
        awaitLockWaits(19);
        origin.releaseResponses();
        String expected = TestOrigin.sha256Hex(TestOrigin.patternBytes(0, LARGE));
        for (CompletableFuture<HttpResponse<byte[]>> r : responses) {
            assertEquals(expected, TestOrigin.sha256Hex(r.get().body()));
        }
        assertEquals(1, origin.requestCount("/large"));
        assertEquals(19, proxy.cache.stats().lockWaits());
    }

    @Test
    void aWaiterWhoseLockTimesOutGoesToTheOriginItself() throws Exception {
        origin.holdResponses();
        CompletableFuture<HttpResponse<String>> writer = fixture.client.sendAsync(HttpRequest.newBuilder(
                fixture.uri("/fresh")).timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
        origin.awaitHeldResponses(1, WAIT);
        CompletableFuture<HttpResponse<String>> waiter = fixture.client.sendAsync(HttpRequest.newBuilder(
                fixture.uri("/fresh")).timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
        awaitLockWaits(1);
        clock.advance(Duration.ofSeconds(6));
        origin.awaitHeldResponses(2, WAIT);
        origin.releaseResponses();
        assertEquals(200, writer.get().statusCode());
        assertEquals(200, waiter.get().statusCode());
        assertEquals(2, origin.requestCount("/fresh"));
        assertEquals(1, proxy.cache.stats().lockTimeouts());
    }

    @Test
    void hitsAreServedToHttp2ClientsToo() throws Exception {
        String url = "http://127.0.0.1:" + fixture.address.getPort() + "/fresh";
        dev.relay.testing.ExternalTool.Result first = dev.relay.testing.ExternalTool.run(WAIT,
                "curl", "-sS", "--http2-prior-knowledge", url);
        assertEquals("fresh 1", first.stdout(), first.stderr());
        dev.relay.testing.ExternalTool.Result second = dev.relay.testing.ExternalTool.run(WAIT,
                "curl", "-sS", "--http2-prior-knowledge", "-D", "-", url);
        assertTrue(second.stdout().startsWith("HTTP/2 200"), second.stdout());
        assertTrue(second.stdout().contains("cache-status: relay; hit"), second.stdout());
        assertTrue(second.stdout().endsWith("fresh 1"), second.stdout());
        assertEquals(1, origin.requestCount("/fresh"));
    }

    // ---- purge ----------------------------------------------------------------------------------------

    @Test
    void purgeFromLoopbackRemovesTheStoredResponse() throws Exception {
        get("/fresh");
        HttpResponse<String> purged = fixture.client.send(HttpRequest.newBuilder(fixture.uri("/fresh")).timeout(WAIT)
                .method("PURGE", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, purged.statusCode());
        assertEquals("fresh 2", get("/fresh").body());
        HttpResponse<String> again = fixture.client.send(HttpRequest.newBuilder(fixture.uri("/nothing")).timeout(WAIT)
                .method("PURGE", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, again.statusCode());
    }

    @Test
    void purgeByPrefixRemovesEveryKeyUnderIt() throws Exception {
        get("/fresh");
        get("/public");
        HttpResponse<String> purged = fixture.client.send(HttpRequest.newBuilder(fixture.uri("/*")).timeout(WAIT)
                .method("PURGE", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, purged.statusCode());
        assertEquals("purged 2\n", purged.body());
        assertNull(storage.lookup(proxyKey("/fresh")).toCompletableFuture().get());
    }

    @Test
    void purgeFromAClientOutsideTheAllowedNetworksIs403() throws Exception {
        CachingProxy closed = new CachingProxy(HttpCache.builder(storage).purgeAllowedFrom(List.of()).build(),
                origin.address());
        try (ProxyFixture other = new ProxyFixture(closed, ProxyOptions.defaults(), clock)) {
            other.client.send(HttpRequest.newBuilder(other.uri("/fresh")).timeout(WAIT).build(),
                    HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> refused = other.client.send(HttpRequest.newBuilder(other.uri("/fresh")).timeout(WAIT)
                    .method("PURGE", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(403, refused.statusCode());
            assertTrue(storage.lookup("http://" + other.uri("/fresh").getAuthority() + "/fresh").toCompletableFuture()
                    .get() != null, "still stored");
        }
    }

    private String proxyKey(String path) {
        return "http://" + fixture.uri(path).getAuthority() + path;
    }
}
