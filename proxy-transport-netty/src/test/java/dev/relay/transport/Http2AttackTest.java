package dev.relay.transport;

import dev.relay.testing.LatencyProbe;
import dev.relay.testing.RawHttp2Connection;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.TestOrigin;
import dev.relay.transport.internal.ManualEngineClock;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static dev.relay.testing.RawHttp2Connection.DATA;
import static dev.relay.testing.RawHttp2Connection.HEADERS;
import static dev.relay.testing.RawHttp2Connection.SETTINGS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HTTP/2 attacks of the last years, each driven with raw frames ({@link RawHttp2Connection}) against
 * a real {@link HttpProxyServer} in front of an HTTP/1.1 {@link TestOrigin}, while a well-behaved
 * HTTP/1.1 client ({@link LatencyProbe}) keeps using the same proxy: every attack must end in a GOAWAY,
 * a reset or a refusal, and the bystander must see no error and a p99 under a second.
 */
@Timeout(90)
class Http2AttackTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration BYSTANDER_P99_BOUND = Duration.ofSeconds(1);
    private static final String BYSTANDER_PATH = "/small";
    /** What attacks request: the origin's requests for it are the attack's, not the bystander's. */
    private static final String ATTACK_PATH = "/small?attack";

    private TestOrigin origin;
    private ProxyFixture fixture;

    @BeforeEach
    void startOrigin() {
        origin = TestOrigin.builder().name("h2-attack-origin").build().start();
    }

    @AfterEach
    void stop() {
        if (fixture != null) {
            fixture.close();
        }
        origin.close();
    }

    private ProxyFixture proxy(Http2Settings http2) {
        fixture = new ProxyFixture(new ProxyFixture.SimpleProxy(origin.address()),
                ProxyOptions.builder().http2(http2).build());
        return fixture;
    }

    private ProxyFixture proxy(Http2Settings http2, ProxyOptions.Builder options, ManualEngineClock clock) {
        fixture = new ProxyFixture(new ProxyFixture.SimpleProxy(origin.address()), options.http2(http2).build(), clock);
        return fixture;
    }

    private RawHttp2Connection connect() throws IOException {
        return RawHttp2Connection.open(fixture.address.getPort());
    }

    private Http2Headers get(String path) {
        return RawHttp2Connection.get("127.0.0.1:" + fixture.address.getPort(), path);
    }

    private Http2Headers post(String path) {
        return RawHttp2Connection.request("POST", "127.0.0.1:" + fixture.address.getPort(), path);
    }

    /** An attack: frames written on one connection. */
    @FunctionalInterface
    private interface Attack {
        void run() throws Exception;
    }

    /** Runs {@code attack} while a bystander sends requests through the same proxy; asserts it was served. */
    private void withBystander(Attack attack) throws Exception {
        LatencyProbe.Result bystander;
        try (LatencyProbe probe = LatencyProbe.start(fixture.uri(BYSTANDER_PATH))) {
            probe.awaitRequests(5, WAIT);
            attack.run();
            // Served after the attack too, not only before it.
            probe.awaitRequests(probe.requests() + 5, WAIT);
            bystander = probe.stop();
        }
        assertEquals(List.of(), bystander.errors(), "bystander errors during the attack");
        assertTrue(bystander.p99().compareTo(BYSTANDER_P99_BOUND) < 0, "bystander during the attack: " + bystander);
    }

    private static void assertEnhanceYourCalm(RawHttp2Connection h2) throws InterruptedException {
        RawHttp2Connection.GoAway goAway = h2.awaitGoAway(WAIT);
        assertEquals(Http2Error.ENHANCE_YOUR_CALM, goAway.error(), goAway.toString());
        assertTrue(h2.awaitClosed(WAIT), "closed after the GOAWAY");
    }

    private long originRequestsOfTheAttack() {
        return origin.requests().stream().filter(r -> r.uri().equals(ATTACK_PATH)).count();
    }

    private long abuse(String reason) {
        return fixture.server.http2AbuseCounts().get(reason);
    }

    // ------------------------------------------------------------------------------------ stream churn

    /** CVE-2023-44487: 10,000 streams opened and at once reset; returns the GOAWAY (ENHANCE_YOUR_CALM) that ends it. */
    private RawHttp2Connection.GoAway rapidReset() throws Exception {
        try (RawHttp2Connection h2 = connect()) {
            h2.sendUntilClosed(10_000, (c, i) -> {
                int stream = 2 * i + 1;
                c.headers(stream, get(ATTACK_PATH), true);
                c.rstStream(stream, Http2Error.CANCEL);
            });

            RawHttp2Connection.GoAway goAway = h2.awaitGoAway(WAIT);
            assertEquals(Http2Error.ENHANCE_YOUR_CALM, goAway.error(), goAway.toString());
            assertTrue(h2.awaitClosed(WAIT), "closed after the GOAWAY");
            return goAway;
        }
    }

    @Test
    void rapidResetGetsGoAwayEnhanceYourCalm() throws Exception {
        proxy(Http2Settings.defaults());
        withBystander(() -> {
            RawHttp2Connection.GoAway goAway = rapidReset();
            assertTrue(goAway.lastStreamId() < 2 * 1_000, "cut off early: " + goAway);
        });
    }

    @Test
    void rapidResetIsCaughtByTheChurnLimitWhenTheWindowLimitIsRaised() throws Exception {
        proxy(Http2Settings.builder().maxResetsPerWindow(1_000_000).maxStreamChurnPerSecond(200).build());
        withBystander(() -> {
            assertEquals("stream_churn", rapidReset().debugData());
        });
        assertEquals(1, abuse("stream_churn"));
    }

    /**
     * CVE-2025-8671: streams opened with a valid request, each followed by a frame that obliges the
     * server to reset it ({@code provoke}), in batches of 50 (under MAX_CONCURRENT_STREAMS: the streams
     * the server resets are closed, so the client is never limited by concurrency, only by the churn),
     * until the server sends GOAWAY; returns it.
     */
    private RawHttp2Connection.GoAway madeYouReset(Http2Headers request, boolean endStream, Http2Error expectedReset,
                                                   RawHttp2Connection.FrameBatch provoke) throws Exception {
        try (RawHttp2Connection h2 = connect()) {
            for (int batch = 0; batch < 100; batch++) {
                int first = batch * 50;
                int written = h2.sendUntilClosed(50, (c, i) -> {
                    c.headers(2 * (first + i) + 1, request, endStream);
                    provoke.write(c, 2 * (first + i) + 1);
                });
                if (written < 50) {
                    break;
                }
                int last = 2 * (first + 49) + 1;
                RawHttp2Connection.Frame answer = h2.awaitFrame(f -> f.type() == RawHttp2Connection.GOAWAY
                        || f.type() == RawHttp2Connection.RST_STREAM && f.streamId() == last, WAIT);
                if (answer.type() == RawHttp2Connection.GOAWAY) {
                    break;
                }
                assertEquals(expectedReset, Http2Error.valueOf(answer.int32(0)), "the server's reset");
            }
            RawHttp2Connection.GoAway goAway = h2.awaitGoAway(WAIT);
            assertEquals(Http2Error.ENHANCE_YOUR_CALM, goAway.error(), goAway.toString());
            assertTrue(h2.awaitClosed(WAIT), "closed after the GOAWAY");
            return goAway;
        }
    }

    @Test
    void madeYouResetWithZeroWindowUpdatesGetsGoAwayEnhanceYourCalm() throws Exception {
        proxy(Http2Settings.defaults());
        // An increment of 0 on a stream is a stream error (RFC 9113 §6.9): the reset is the server's,
        // the churn the client's. Netty's limit on the proxy's resets (max-resets-per-window) ends it.
        withBystander(() -> madeYouReset(post("/echo"), false, Http2Error.PROTOCOL_ERROR,
                (c, stream) -> c.windowUpdate(stream, 0)));
    }

    @Test
    void madeYouResetWithDataOnHalfClosedStreamsIsCaughtByTheChurnLimit() throws Exception {
        proxy(Http2Settings.builder().maxResetsPerWindow(1_000_000).build());
        // DATA after END_STREAM: the stream is half-closed (remote), so the server must reset it with
        // STREAM_CLOSED (RFC 9113 §5.1); the origin never answers, so no stream ends by itself. With
        // Netty's window limit out of the way, the churn limit ends it.
        withBystander(() -> assertEquals("stream_churn", madeYouReset(get("/hang"), true, Http2Error.STREAM_CLOSED,
                (c, stream) -> c.data(stream, new byte[1], false)).debugData()));
        assertEquals(1, abuse("stream_churn"));
    }

    // ------------------------------------------------------------------------------------ CONTINUATION

    @Test
    void aFloodOfEmptyContinuationFramesIsCutOff() throws Exception {
        proxy(Http2Settings.defaults());
        withBystander(() -> {
            try (RawHttp2Connection h2 = connect()) {
                byte[] block = h2.encode(1, get(ATTACK_PATH));
                h2.headersFragment(1, Arrays.copyOf(block, 1), 0); // no END_HEADERS: CONTINUATION must follow
                h2.sendUntilClosed(100_000, (c, i) -> c.continuation(1, new byte[0], false));

                assertEnhanceYourCalm(h2);
            }
        });
        assertEquals(0, originRequestsOfTheAttack(), "the header block never reached the origin");
    }

    @Test
    void aFloodOfLargeContinuationFramesIsCutOffWithBoundedBuffering() throws Exception {
        proxy(Http2Settings.defaults());
        withBystander(() -> {
            try (RawHttp2Connection h2 = connect()) {
                byte[] junk = new byte[16_384];
                Arrays.fill(junk, (byte) 'a');
                h2.headersFragment(1, h2.encode(1, get(ATTACK_PATH)), 0);
                // 10,000 x 16 KiB = 160 MiB of header block, if the server kept it.
                int rounds = h2.sendUntilClosed(10_000, (c, i) -> c.continuation(1, junk, false));

                assertTrue(h2.awaitClosed(WAIT), "closed");
                assertTrue(rounds < 1_000, "the server stopped reading after " + rounds + " frames of 16 KiB");
            }
        });
        assertEquals(0, originRequestsOfTheAttack());
    }

    @Test
    void aHeaderBlockThatNeverEndsIsClosedAfterTheHeaderReadTimeout() throws Exception {
        ManualEngineClock clock = new ManualEngineClock();
        proxy(Http2Settings.defaults(), ProxyOptions.builder().headerReadTimeout(Duration.ofSeconds(5)), clock);
        withBystander(() -> {
            try (RawHttp2Connection h2 = connect()) {
                byte[] block = h2.encode(1, get(ATTACK_PATH));
                h2.headersFragment(1, Arrays.copyOf(block, 2), 0);
                h2.continuation(1, Arrays.copyOfRange(block, 2, 3), false);
                h2.flush();
                h2.awaitFrame(f -> f.type() == SETTINGS, WAIT); // the server has the connection

                clock.advanceUntil(Duration.ofSeconds(1), 10, h2::closedByPeer);

                RawHttp2Connection.GoAway goAway = h2.awaitGoAway(WAIT);
                assertEquals(Http2Error.ENHANCE_YOUR_CALM, goAway.error(), h2.frames().toString());
                assertEquals("headers_timeout", goAway.debugData());
            }
        });
        assertEquals(1, abuse("headers_timeout"));
    }

    // ------------------------------------------------------------------------------------ control-frame floods

    /** One control-frame flood: what each round writes, and who refuses it (the guard names its reason). */
    enum Flood {
        SETTINGS_FLOOD("settings_flood") {
            @Override
            void write(RawHttp2Connection c, int i) throws IOException {
                c.settings(java.util.Map.of());
            }
        },
        PING_FLOOD("ping_flood") {
            @Override
            void write(RawHttp2Connection c, int i) throws IOException {
                c.ping(i);
            }
        },
        PRIORITY_FLOOD("priority_flood") {
            @Override
            void write(RawHttp2Connection c, int i) throws IOException {
                c.priority(3 + 2 * (i % 1000), 1, 16, false);
            }
        },
        WINDOW_UPDATE_FLOOD("window_update_flood") {
            @Override
            void write(RawHttp2Connection c, int i) throws IOException {
                c.windowUpdate(0, 1);
            }
        },
        /**
         * Netty's limit on consecutive empty DATA frames or the guard, whichever sees it first (the guard
         * reads a whole buffer before the codec), so the reason is not asserted.
         */
        EMPTY_DATA_FLOOD(null) {
            @Override
            void write(RawHttp2Connection c, int i) throws IOException {
                c.data(1, new byte[0], false);
            }
        };

        final String guardReason;

        Flood(String guardReason) {
            this.guardReason = guardReason;
        }

        abstract void write(RawHttp2Connection c, int i) throws IOException;
    }

    @ParameterizedTest
    @EnumSource(Flood.class)
    void aControlFrameFloodGetsGoAwayEnhanceYourCalm(Flood flood) throws Exception {
        proxy(Http2Settings.defaults());
        withBystander(() -> {
            try (RawHttp2Connection h2 = connect()) {
                h2.headers(1, post("/echo"), false); // an open stream for DATA
                h2.sendUntilClosed(200_000, flood::write);

                RawHttp2Connection.GoAway goAway = h2.awaitGoAway(WAIT);
                assertEquals(Http2Error.ENHANCE_YOUR_CALM, goAway.error(), goAway.toString());
                if (flood.guardReason != null) {
                    assertEquals(flood.guardReason, goAway.debugData());
                }
                assertTrue(h2.awaitClosed(WAIT));
            }
        });
        if (flood.guardReason != null) {
            assertEquals(1, abuse(flood.guardReason));
        }
    }

    @Test
    void aFloodOverTlsWithAlpnH2GetsTheSameGoAway() throws Exception {
        proxy(Http2Settings.defaults());
        TlsSettings tls = TlsSettings.builder().certificate(TestCertificates.localhost().certificateChainPem(),
                TestCertificates.localhost().privateKeyPem()).build();
        java.net.InetSocketAddress secure = fixture.server.bind("127.0.0.1:0", ListenerOptions.builder().tls(tls).build());
        withBystander(() -> {
            try (RawHttp2Connection h2 = RawHttp2Connection.openTls(secure.getPort(),
                    TestCertificates.clientSslContext(), "localhost")) {
                h2.sendUntilClosed(50_000, Flood.PING_FLOOD::write);

                RawHttp2Connection.GoAway goAway = h2.awaitGoAway(WAIT);
                assertEquals(Http2Error.ENHANCE_YOUR_CALM, goAway.error(), goAway.toString());
                assertEquals("ping_flood", goAway.debugData());
                assertTrue(h2.awaitClosed(WAIT));
            }
        });
    }

    @Test
    void emptyDataFramesBetweenOthersAreCaughtByTheGuard() throws Exception {
        proxy(Http2Settings.builder().maxControlFramesPerSecond(100).build());
        withBystander(() -> {
            try (RawHttp2Connection h2 = connect()) {
                // Never two empty frames in a row (Netty's limit counts consecutive ones): one byte between.
                h2.headers(1, post("/sink"), false);
                h2.sendUntilClosed(60_000, (c, i) -> c.data(1, i % 2 == 0 ? new byte[0] : new byte[1], false));

                RawHttp2Connection.GoAway goAway = h2.awaitGoAway(WAIT);
                assertEquals(Http2Error.ENHANCE_YOUR_CALM, goAway.error());
                assertEquals("empty_data_flood", goAway.debugData());
            }
        });
    }

    @Test
    void aFastDownloadWithSmallWindowsIsNoWindowUpdateFlood() throws Exception {
        proxy(Http2Settings.builder().maxControlFramesPerSecond(20).build());
        try (RawHttp2Connection h2 = connect()) {
            h2.headers(1, get("/bytes/4000000"), true);
            h2.flush();
            // A client with 64 KiB windows that gives back every DATA frame at once: two WINDOW_UPDATEs
            // (stream and connection) per frame, hundreds per second, far above the limit of 20.
            long received = 0;
            int seen = 0;
            while (received < 4_000_000) {
                int from = seen;
                RawHttp2Connection.Frame data = h2.awaitFrame(f -> f.type() == DATA && h2.frames().indexOf(f) >= from,
                        WAIT);
                seen = h2.frames().indexOf(data) + 1;
                received += data.payload().length;
                if (data.payload().length > 0) {
                    h2.windowUpdate(1, data.payload().length);
                    h2.windowUpdate(0, data.payload().length);
                    h2.flush();
                }
            }
            assertEquals(4_000_000, received);
            assertTrue(!h2.closedByPeer(), "the connection is still open");
        }
        assertEquals(0, abuse("window_update_flood"));
    }

    // ------------------------------------------------------------------------------------ header limits

    @Test
    void anHpackBombIsAnswered431AndNeverReachesTheOrigin() throws Exception {
        proxy(Http2Settings.defaults());
        withBystander(() -> {
            try (RawHttp2Connection h2 = connect()) {
                // One 4000-byte field added to the dynamic table, then referenced 16,000 times by its
                // one-byte index: a 20 KiB block that decodes to 64 MB of fields.
                ByteArrayOutputStream block = new ByteArrayOutputStream();
                block.writeBytes(h2.encode(1, get(ATTACK_PATH)));
                block.write(0x40);                  // literal with incremental indexing, new name
                block.write(6);
                block.writeBytes("x-bomb".getBytes(StandardCharsets.US_ASCII));
                block.writeBytes(new byte[] {0x7f, (byte) 0xa1, 0x1e}); // value length 4000 (7-bit prefix)
                byte[] value = new byte[4000];
                Arrays.fill(value, (byte) 'b');
                block.writeBytes(value);
                byte[] references = new byte[16_000];
                Arrays.fill(references, (byte) 0xbe);      // indexed field 62: the newest dynamic entry
                block.writeBytes(references);
                h2.headerBlock(1, block.toByteArray(), true);
                h2.flush();

                RawHttp2Connection.Frame answer = h2.awaitFrame(f -> f.streamId() == 1 && (f.type() == HEADERS
                        || f.type() == RawHttp2Connection.RST_STREAM) || f.type() == RawHttp2Connection.GOAWAY, WAIT);

                assertEquals(HEADERS, answer.type(), answer.toString());
                assertEquals("431", answer.headers().status().toString());
                assertTrue(h2.bytesReceived() < 1_000, "the answer is small: " + h2.bytesReceived());
            }
        });
        assertEquals(0, originRequestsOfTheAttack(), "the bomb never reached the origin");
    }

    @Test
    void maxConcurrentStreamsIsAnnouncedAndEnforced() throws Exception {
        proxy(Http2Settings.builder().maxConcurrentStreams(5).build());
        withBystander(() -> {
            try (RawHttp2Connection h2 = connect()) {
                RawHttp2Connection.Frame settings = h2.awaitFrame(f -> f.type() == SETTINGS
                        && !f.has(RawHttp2Connection.ACK), WAIT);
                assertEquals(5, setting(settings, 0x3), "SETTINGS_MAX_CONCURRENT_STREAMS");
                // Five uploads that stay open (their bodies never end), then a sixth stream.
                for (int i = 0; i < 5; i++) {
                    h2.headers(2 * i + 1, post("/echo"), false);
                }
                h2.headers(11, get(ATTACK_PATH), true);
                h2.flush();

                assertEquals(Http2Error.REFUSED_STREAM, h2.awaitReset(11, WAIT));
            }
        });
    }

    private static long setting(RawHttp2Connection.Frame settings, int id) {
        byte[] p = settings.payload();
        for (int i = 0; i + 6 <= p.length; i += 6) {
            if (((p[i] & 0xff) << 8 | p[i + 1] & 0xff) == id) {
                return settings.int32(i + 2);
            }
        }
        throw new AssertionError("setting " + id + " not in " + settings);
    }

    // ------------------------------------------------------------------------------------ idle streams

    /**
     * Opens a stream with {@code request}, waits for {@code started}, then moves the manual clock a
     * second at a time until the server resets the stream: it must be with CANCEL, within the idle timeout.
     */
    private void idleStream(ManualEngineClock clock, Http2Headers request, boolean endStream,
                            java.util.function.Predicate<RawHttp2Connection.Frame> started) throws Exception {
        try (RawHttp2Connection h2 = connect()) {
            h2.headers(1, request, endStream);
            h2.flush();
            h2.awaitFrame(started, WAIT);

            clock.advanceUntil(Duration.ofSeconds(1), 30, () -> h2.frames().stream()
                    .anyMatch(f -> f.type() == RawHttp2Connection.RST_STREAM));

            assertEquals(Http2Error.CANCEL, h2.awaitReset(1, WAIT));
            assertTrue(!h2.closedByPeer(), "only the stream ends, not the connection");
        }
    }

    @Test
    void aStreamWhoseClientNeverSendsItsBodyIsResetAfterTheStreamIdleTimeout() throws Exception {
        ManualEngineClock clock = new ManualEngineClock();
        proxy(Http2Settings.builder().streamIdleTimeout(Duration.ofSeconds(10)).build(),
                ProxyOptions.builder().bodyReadTimeout(Duration.ofMinutes(10)), clock);
        withBystander(() -> idleStream(clock, post("/echo"), false, f -> f.type() == SETTINGS));
    }

    @Test
    void aStreamWhoseClientNeverReadsIsResetAfterTheStreamIdleTimeout() throws Exception {
        ManualEngineClock clock = new ManualEngineClock();
        proxy(Http2Settings.builder().streamIdleTimeout(Duration.ofSeconds(10)).build(), ProxyOptions.builder(),
                clock);
        // The client's windows (64 KiB) are never given back: the response stops after 64 KiB.
        withBystander(() -> idleStream(clock, get("/bytes/1000000"), true, f -> f.type() == DATA));
    }
}
