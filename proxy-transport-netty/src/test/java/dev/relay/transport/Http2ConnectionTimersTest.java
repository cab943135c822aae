package dev.relay.transport;

import dev.relay.testing.TestOrigin;
import dev.relay.transport.internal.ManualEngineClock;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2PingFrame;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The timers of a downstream HTTP/2 connection on a {@link ManualEngineClock}: PING-based detection of
 * a dead peer, and the keep-alive timeout when no stream is open.
 */
@Timeout(30)
class Http2ConnectionTimersTest {
    private final ManualEngineClock clock = new ManualEngineClock();
    private TestOrigin origin;
    private ProxyFixture fixture;

    @BeforeEach
    void start() {
        origin = TestOrigin.builder().name("h2-timers").build().start();
        ProxyOptions options = ProxyOptions.builder()
                .keepAliveTimeout(Duration.ofMinutes(10))
                .http2(Http2Settings.builder().pingInterval(Duration.ofSeconds(60)).pingTimeout(Duration.ofSeconds(20))
                        .build())
                .build();
        fixture = new ProxyFixture(new ProxyFixture.SimpleProxy(origin.address()), options, clock);
    }

    @AfterEach
    void stop() {
        fixture.close();
        origin.close();
    }

    /** Sends one request and waits for its end, so the proxy has certainly taken the connection as HTTP/2. */
    private static int oneRequest(H2TestClient client) throws Exception {
        Http2FrameStream stream = client.send(H2TestClient.request("GET", "/small", "proxy.test"), true);
        client.untilStreamEnd(stream.id(), 5);
        return stream.id();
    }

    @Test
    void aPeerThatDoesNotAnswerPingIsClosed() throws Exception {
        try (H2TestClient client = H2TestClient.connect(fixture.address, true, false)) {
            oneRequest(client);
            clock.advanceUntil(Duration.ofSeconds(10), 12, () -> client.events.stream()
                    .anyMatch(e -> e instanceof Http2PingFrame p && !p.ack()));
            assertTrue(client.isOpen(), "a PING is sent first");
            clock.advanceUntil(Duration.ofSeconds(5), 10, () -> !client.isOpen());
            assertFalse(client.isOpen());
        }
    }

    @Test
    void aPeerThatAnswersPingStaysConnected() throws Exception {
        try (H2TestClient client = H2TestClient.connect(fixture.address, true, true)) {
            oneRequest(client);
            for (int i = 0; i < 3; i++) {
                int pings = (int) client.events.stream().filter(e -> e instanceof Http2PingFrame p && !p.ack()).count();
                clock.advanceUntil(Duration.ofSeconds(10), 12, () -> client.events.stream()
                        .filter(e -> e instanceof Http2PingFrame p && !p.ack()).count() > pings);
                // Past the ack timeout: an acknowledged PING keeps the connection.
                clock.advance(Duration.ofSeconds(25));
            }
            oneRequest(client);
            assertTrue(client.isOpen());
        }
    }

    @Test
    void aConnectionWithoutStreamsClosesWithGoawayAfterTheKeepAliveTimeout() throws Exception {
        try (H2TestClient client = H2TestClient.connect(fixture.address, true, true)) {
            int served = oneRequest(client);
            // Pings are answered, so only the keep-alive timer (10 min) can end this connection.
            clock.advanceUntil(Duration.ofSeconds(30), 25, () -> !client.isOpen());
            H2TestClient.GoAway goAway = client.next(H2TestClient.GoAway.class);
            assertEquals(Http2Error.NO_ERROR.code(), goAway.errorCode());
            assertEquals(served, goAway.lastStreamId());
        }
    }
}
