package dev.relay.server.internal;

import dev.relay.core.MirrorModuleFactory;
import dev.relay.core.RequestHeader;
import dev.relay.server.internal.proxy.ConfiguredProxy;
import dev.relay.server.testing.AccessLogLines;
import dev.relay.server.testing.InProcessRelay;
import dev.relay.testing.Await;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.RawHttpConnection.Response;
import dev.relay.testing.RecordedRequest;
import dev.relay.testing.TestOrigin;
import dev.relay.server.internal.config.ConfigLoader;
import dev.relay.server.internal.config.ConfigProblem;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code mirror} filter in the configured server, with two real origins: the main group answers,
 * the shadow group gets the copies (all, none, about half), a held or dead shadow leaves the main path
 * alone, big bodies and copies over the in-flight cap are counted, not sent, a reload that drops the
 * shadow group is refused naming the key, and one that drops the mirror with its group closes the filters'
 * client's idle connection to it.
 */
@Timeout(90)
class MirrorEndToEndTest {
    private static final String HOST = "site.test";
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    @RegisterExtension
    final AccessLogLines accessLines = new AccessLogLines();

    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private TestOrigin main;
    private TestOrigin shadow;

    @BeforeEach
    void startOrigins() {
        main = TestOrigin.builder().name("main").build().start();
        shadow = TestOrigin.builder().name("shadow").build().start();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
        main.close();
        shadow.close();
    }

    private String conf(String mirror, String shadowAddress) {
        return """
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  admin.address = "127.0.0.1:0"
                  server { upgrade-socket = none, %s }
                  upstreams {
                    web { backends = [ "%s" ], host-header = "main.internal" }
                    shadow { backends = [ "%s" ] }
                  }
                  filters = [ { name = mirror, upstream = shadow %s } ]
                  routes = [ { name = all, upstream = web } ]
                }
                """.formatted(accessLines.setting(), main.address(), shadowAddress, mirror);
    }

    private InProcessRelay start(String conf) throws Exception {
        InProcessRelay relay = new InProcessRelay(dir.resolve("relay.conf"), conf);
        cleanup.add(relay);
        return relay;
    }

    private static Response get(InProcessRelay relay, String path) throws Exception {
        return RawHttpConnection.get(relay.proxy(), HOST, path);
    }

    private static Response post(InProcessRelay relay, String path, byte[] body) throws Exception {
        try (RawHttpConnection c = new RawHttpConnection(relay.proxy())) {
            c.send(("POST " + path + " HTTP/1.1\r\nHost: " + HOST + "\r\nContent-Length: " + body.length
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            c.send(body);
            return c.readResponse();
        }
    }

    private static String mirrorSeries(String outcome) {
        return "relay_mirror_requests_total{mirror=\"global\",outcome=\"" + outcome + "\",upstream=\"shadow\"}";
    }

    @Test
    void everyRequestIsCopiedWithTheClientsHostTheMarkerAndTheBody() throws Exception {
        InProcessRelay relay = start(conf("", shadow.address()));
        byte[] body = new byte[10_000];
        new Random(3).nextBytes(body);

        Response got = get(relay, "/a?x=1");
        Response posted = post(relay, "/b", body);

        assertEquals("main", got.header("X-Origin"));
        assertEquals("main", posted.header("X-Origin"));
        List<RecordedRequest> copies = shadow.awaitRequests(2, WAIT);
        RecordedRequest getCopy = copies.stream().filter(r -> r.path().equals("/a")).findFirst().orElseThrow();
        RecordedRequest postCopy = copies.stream().filter(r -> r.path().equals("/b")).findFirst().orElseThrow();
        assertEquals("/a?x=1", getCopy.uri());
        assertEquals(HOST, getCopy.header("Host"), "the client's Host, not the main group's host-header");
        assertEquals("1", getCopy.header("X-Relay-Mirror"));
        assertEquals("POST", postCopy.method());
        assertEquals(TestOrigin.sha256Hex(body), postCopy.bodySha256());
        assertEquals(String.valueOf(body.length), postCopy.header("Content-Length"));
        assertEquals("main.internal", main.requests().get(0).header("Host"));
        assertEquals(null, main.requests().get(0).header("X-Relay-Mirror"), "the main request is not marked");
        awaitMetric(relay, mirrorSeries("mirrored"), "2.0");
        awaitMetric(relay, "relay_mirror_in_flight{mirror=\"global\",upstream=\"shadow\"}", "0.0");
    }

    @Test
    void sampleZeroCopiesNothing() throws Exception {
        InProcessRelay relay = start(conf(", sample = 0.0", shadow.address()));
        for (int i = 0; i < 30; i++) {
            assertEquals(200, get(relay, "/n" + i).status());
        }
        assertEquals(30, main.requests().size());
        // Copies would leave asynchronously: the filter's own counters say none was even started (each
        // copy is in flight from the moment it is sent), which the shadow's silence alone cannot show.
        assertEquals("0.0", relay.metric("relay_mirror_in_flight{mirror=\"global\",upstream=\"shadow\"}"));
        assertEquals("0.0", relay.metric(mirrorSeries("mirrored")));
        assertEquals("0.0", relay.metric(mirrorSeries("failed")));
        assertEquals("0.0", relay.metric(mirrorSeries("over_in_flight")));
        assertEquals(0, shadow.requests().size());
    }

    @Test
    void sampleOneHalfCopiesAboutHalfOfTheRequests() throws Exception {
        InProcessRelay relay = start(conf(", sample = 0.5", shadow.address()));
        int requests = 400;
        for (int i = 0; i < requests; i++) {
            assertEquals(200, get(relay, "/h" + i).status());
        }
        // Every sampled copy is answered in the end: then the shadow's count is the sample's size.
        Await.until(() -> "0.0".equals(relay.metric("relay_mirror_in_flight{mirror=\"global\",upstream=\"shadow\"}"))
                && metricValue(relay, mirrorSeries("mirrored")) == shadow.requests().size(), WAIT,
                () -> "mirrored " + relay.metric(mirrorSeries("mirrored")) + ", shadow saw " + shadow.requests().size());
        int copied = shadow.requests().size();
        // Binomial(400, 0.5): mean 200, standard deviation 10; 140..260 is six deviations either way.
        assertTrue(copied >= 140 && copied <= 260, "copied " + copied + " of " + requests);
    }

    @Test
    void heldShadowNeitherDelaysNorFailsTheMainPathAndExtraCopiesAreDropped() throws Exception {
        shadow.holdResponses();
        InProcessRelay relay = start(conf(", max-in-flight = 3", shadow.address()));
        for (int i = 0; i < 12; i++) {
            // Each answer arrives while every copy so far is still unanswered by the shadow.
            assertEquals(200, get(relay, "/held" + i).status());
        }
        shadow.awaitHeldResponses(3, WAIT);
        assertEquals("3.0", relay.metric("relay_mirror_in_flight{mirror=\"global\",upstream=\"shadow\"}"));
        assertEquals("9.0", relay.metric(mirrorSeries("over_in_flight")));

        shadow.releaseResponses();
        awaitMetric(relay, mirrorSeries("mirrored"), "3.0");
        awaitMetric(relay, "relay_mirror_in_flight{mirror=\"global\",upstream=\"shadow\"}", "0.0");
    }

    @Test
    void copyUnansweredWithinTheTimeoutIsAbortedAndFreesItsSlot() throws Exception {
        shadow.holdResponses();
        InProcessRelay relay = start(conf(", max-in-flight = 1, timeout = 300ms", shadow.address()));

        assertEquals(200, get(relay, "/first").status());
        awaitMetric(relay, mirrorSeries("failed"), "1.0");
        awaitMetric(relay, "relay_mirror_in_flight{mirror=\"global\",upstream=\"shadow\"}", "0.0");
        assertEquals(200, get(relay, "/second").status());

        // The slot was free again: the second copy was sent rather than dropped.
        assertEquals("/second", shadow.awaitRequests(2, WAIT).get(1).path());
        assertEquals("0.0", relay.metric(mirrorSeries("over_in_flight")));
        shadow.releaseResponses();
    }

    @Test
    void gracefulStopLetsTheCopiesInFlightFinish() throws Exception {
        shadow.holdResponses();
        InProcessRelay relay = start(conf("", shadow.address()));
        MirrorModuleFactory mirror = relay.injector.getInstance(ConfiguredProxy.class).runtime().mirrors().get(0)
                .filter();
        assertEquals(200, get(relay, "/last").status());
        shadow.awaitHeldResponses(1, WAIT);

        CompletableFuture<Void> stopped = relay.server.stop(Duration.ofSeconds(30)).toCompletableFuture();
        // The proxy drains at once (nothing in flight) and the filters' client service stops next: from
        // then on new copies are refused. The one in flight is still unanswered; a stop that closed the
        // client now would cut it.
        var groups = relay.injector.getInstance(FilterRegistry.class).groupRequests().forConfiguration(Set.of());
        // A group that does not exist: refused as such while the service runs, as "not running" once it stopped.
        Await.until(() -> refusal(groups.sendDiscardingBody("nowhere", RequestHeader.of("GET", "/"), new byte[0],
                Duration.ofSeconds(1))).contains("not running"), WAIT, () -> "the filters' client still runs");
        assertFalse(stopped.isDone(), "the stop waits for the copy in flight");
        shadow.releaseResponses();
        stopped.get(40, TimeUnit.SECONDS);

        assertEquals(new MirrorModuleFactory.Stats(1, 0, 0, 0, 0), mirror.stats(), "answered, not cut by the stop");
    }

    @Test
    void deadShadowCountsFailuresWhileTheMainPathAnswers() throws Exception {
        InProcessRelay relay = start(conf("", "127.0.0.1:" + TestOrigin.closedPort()));
        for (int i = 0; i < 5; i++) {
            assertEquals("main", get(relay, "/d" + i).header("X-Origin"));
        }
        awaitMetric(relay, mirrorSeries("failed"), "5.0");
        assertEquals("0.0", relay.metric(mirrorSeries("mirrored")));
    }

    @Test
    void bodyOverMaxBodyIsNotCopiedButCounted() throws Exception {
        InProcessRelay relay = start(conf(", max-body = 1KiB", shadow.address()));

        Response big = post(relay, "/big", new byte[4096]);
        Response small = post(relay, "/small", new byte[1024]);

        assertEquals(200, big.status());
        assertEquals(200, small.status());
        assertEquals("/small", shadow.awaitRequests(1, WAIT).get(0).path());
        assertEquals("1.0", relay.metric(mirrorSeries("body_too_large")));
        awaitMetric(relay, mirrorSeries("mirrored"), "1.0");
        assertEquals(1, shadow.requests().size());
    }

    @Test
    void reloadThatDropsTheShadowGroupIsRefusedNamingTheKey() throws Exception {
        InProcessRelay relay = start(conf("", shadow.address()));
        String withoutShadow = conf("", shadow.address()).replace("shadow { backends = [ \"" + shadow.address()
                + "\" ] }", "");
        relay.rewrite(withoutShadow);

        HttpResponse<String> answer = relay.adminPost("/reload");

        assertEquals(400, answer.statusCode());
        assertTrue(answer.body().contains("key 'proxy.filters[0].upstream': 'shadow' (expected one of: web)"),
                answer.body());
        get(relay, "/still-mirrored");
        assertEquals("/still-mirrored", shadow.awaitRequests(1, WAIT).get(0).path());

        ConfigProblem atLoad = assertThrows(ConfigProblem.class, () -> new ConfigLoader(
                FilterRegistry.load(getClass().getClassLoader())).parseString(withoutShadow, "test.conf"));
        assertTrue(atLoad.getMessage().contains("proxy.filters[0].upstream"), atLoad.getMessage());
    }

    @Test
    void reloadThatDropsTheMirrorAndItsGroupClosesTheClientsIdleConnectionToIt() throws Exception {
        InProcessRelay relay = start(conf("", shadow.address()));
        get(relay, "/copied");
        shadow.awaitRequests(1, WAIT);
        // The copy's connection went back to the filters' client pool: it idles there, open.
        awaitMetric(relay, mirrorSeries("mirrored"), "1.0");
        assertEquals(1, shadow.openConnections());
        String withoutMirror = conf("", shadow.address())
                .replace("shadow { backends = [ \"" + shadow.address() + "\" ] }", "")
                .replace("filters = [ { name = mirror, upstream = shadow  } ]", "filters = [ ]");
        relay.rewrite(withoutMirror);

        assertEquals(200, relay.adminPost("/reload").statusCode());

        // Closed by the reload, not by the client's 60 s idle timeout.
        shadow.awaitOpenConnections(0, WAIT);
        assertEquals(200, get(relay, "/after").status());
        assertEquals(1, shadow.requests().size());
    }

    private static String refusal(java.util.concurrent.CompletionStage<?> stage) {
        try {
            stage.toCompletableFuture().join();
            return "sent";
        } catch (java.util.concurrent.CompletionException e) {
            return String.valueOf(e.getCause().getMessage());
        }
    }

    private static void awaitMetric(InProcessRelay relay, String series, String value) {
        Await.until(() -> value.equals(relay.metric(series)), WAIT, () -> series + " = " + relay.metric(series));
    }

    private static double metricValue(InProcessRelay relay, String series) {
        String value = relay.metric(series);
        return value == null ? -1 : Double.parseDouble(value);
    }
}
