package dev.relay.transport;

import dev.relay.core.AttemptOutcome;
import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.core.UpstreamObserver;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the engine reports to {@link UpstreamObserver} for each way an attempt can end. */
@Timeout(60)
class UpstreamObserverTest {
    private TestOrigin a;
    private String dead;
    private final Recorder recorder = new Recorder();

    /** Records "start PEER" and "end PEER OUTCOME", in order. */
    static final class Recorder implements UpstreamObserver {
        private final List<String> events = new ArrayList<>();
        private final List<Long> durations = new ArrayList<>();

        @Override
        public synchronized void onAttemptStart(HttpPeer peer) {
            events.add("start " + peer.hostAndPort());
        }

        @Override
        public synchronized void onAttemptEnd(HttpPeer peer, AttemptOutcome outcome, long durationNanos) {
            events.add("end " + peer.hostAndPort() + " " + outcome);
            durations.add(durationNanos);
        }

        synchronized List<String> events() {
            return List.copyOf(events);
        }

        synchronized List<Long> durations() {
            return List.copyOf(durations);
        }
    }

    @BeforeEach
    void start() {
        a = TestOrigin.builder().name("a").build().start();
        dead = "127.0.0.1:" + TestOrigin.closedPort();
    }

    @AfterEach
    void stop() {
        a.close();
    }

    private List<String> run(FailoverProxy proxy, String path, int expectedStatus) throws Exception {
        try (ProxyFixture fixture = new ProxyFixture(proxy,
                ProxyOptions.builder().maxAttempts(3).upstreamObserver(recorder).build())) {
            HttpResponse<String> response = fixture.client.send(HttpRequest.newBuilder(fixture.uri(path))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(expectedStatus, response.statusCode());
            proxy.nextOutcome();
            return recorder.events();
        }
    }

    @Test
    void successIsReportedOnce() throws Exception {
        List<String> events = run(new FailoverProxy(FailoverProxy.peer(a.address())), "/small", 200);
        assertEquals(List.of("start " + a.address(), "end " + a.address() + " SUCCESS"), events);
        assertTrue(recorder.durations().get(0) > 0);
    }

    @Test
    void connectFailureThenSuccessAreReportedPerAttempt() throws Exception {
        List<String> events = run(new FailoverProxy(FailoverProxy.peer(dead), FailoverProxy.peer(a.address())),
                "/", 200);
        assertEquals(List.of("start " + dead, "end " + dead + " CONNECT_FAILURE",
                "start " + a.address(), "end " + a.address() + " SUCCESS"), events);
    }

    @Test
    void readTimeoutIsReportedAsTimeout() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(a.address(),
                PeerOptions.builder().readTimeout(Duration.ofMillis(300)).build()));
        List<String> events = run(proxy, "/hang", 504);
        assertEquals(List.of("start " + a.address(), "end " + a.address() + " TIMEOUT"), events);
    }

    @Test
    void fiveHundredsAreReportedAsServerError() throws Exception {
        List<String> events = run(new FailoverProxy(FailoverProxy.peer(a.address())), "/status/503", 503);
        assertEquals(List.of("start " + a.address(), "end " + a.address() + " SERVER_ERROR"), events);
    }

    @Test
    void fourHundredsAreASuccessForTheUpstream() throws Exception {
        List<String> events = run(new FailoverProxy(FailoverProxy.peer(a.address())), "/status/404", 404);
        assertEquals(List.of("start " + a.address(), "end " + a.address() + " SUCCESS"), events);
    }

    @Test
    void malformedResponseIsReportedAsFailure() throws Exception {
        List<String> events = run(new FailoverProxy(FailoverProxy.peer(a.address())), "/bad-status-line", 502);
        assertEquals(List.of("start " + a.address(), "end " + a.address() + " FAILURE"), events);
    }

    @Test
    void requestDeadlineIsReportedAsTimeout() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(a.address()));
        try (ProxyFixture fixture = new ProxyFixture(proxy, ProxyOptions.builder()
                .requestDeadline(Duration.ofMillis(300)).upstreamObserver(recorder).build())) {
            assertEquals(504, fixture.client.send(HttpRequest.newBuilder(fixture.uri("/hang")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            proxy.nextOutcome();
        }
        assertEquals(List.of("start " + a.address(), "end " + a.address() + " TIMEOUT"), recorder.events());
    }

    @Test
    void clientLeavingMidResponseIsReportedAsCancelled() throws Exception {
        FailoverProxy proxy = new FailoverProxy(FailoverProxy.peer(a.address()));
        try (ProxyFixture fixture = new ProxyFixture(proxy,
                ProxyOptions.builder().upstreamObserver(recorder).build())) {
            try (RawHttpConnection client = new RawHttpConnection(fixture.address.getPort())) {
                client.send("GET /bytes/1000000000 HTTP/1.1\r\nHost: x\r\n\r\n");
                client.readHead();
                client.readBytes(64 * 1024);
            }
            proxy.nextOutcome();
        }
        assertEquals(List.of("start " + a.address(), "end " + a.address() + " CANCELLED"), recorder.events());
    }
}
