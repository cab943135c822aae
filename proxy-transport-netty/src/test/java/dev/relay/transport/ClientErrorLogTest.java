package dev.relay.transport;

import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpPeer;
import dev.relay.testing.Await;
import dev.relay.testing.LogCapture;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.TestOrigin;
import dev.relay.transport.internal.ManualEngineClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.System.Logger.Level;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Who must act on a failed request decides how it is logged: a client's malformed request, refused
 * version or hang-up is one quiet line (INFO, or DEBUG for a hang-up) on {@code dev.relay.proxy.client},
 * without a cause chain, rate-limited and counted by reason; an origin that refuses is a WARNING; nothing
 * of it is an ERROR. Real clients on loopback sockets, the log captured through {@code java.util.logging}.
 */
@Timeout(60)
class ClientErrorLogTest {
    private static final String ENGINE_LOGGER = "dev.relay.proxy";
    private static final String CLIENT_LOGGER = "dev.relay.proxy.client";

    private TestOrigin origin;
    private LogCapture log;

    @BeforeEach
    void start() {
        origin = TestOrigin.builder().name("client-errors").build().start();
        log = LogCapture.of(ENGINE_LOGGER);
    }

    @AfterEach
    void stop() {
        log.close();
        origin.close();
    }

    private ProxyFixture.SimpleProxy proxyToOrigin() {
        return new ProxyFixture.SimpleProxy(origin.address());
    }

    /** Sends {@code request} on a new connection and checks the proxy answered {@code status} and closed. */
    private static void assertAnswered(ProxyFixture fixture, String request, int status) throws Exception {
        String answer = fixture.raw(request);
        assertTrue(answer.startsWith("HTTP/1.1 " + status + " "), answer);
    }

    @Test
    void malformedRequestIsOneInfoLineWithTheParserReasonTheClientAndTheRequest() throws Exception {
        ProxyFixture.SimpleProxy proxy = proxyToOrigin();
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            assertAnswered(fixture, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc", 400);

            ProxyFixture.Logged logged = proxy.nextLogged("/upload");
            assertEquals(ErrorType.H1_ERROR, logged.error().type());
            assertEquals(ErrorSource.DOWNSTREAM, logged.error().source());
            Await.until(() -> !log.linesOf(CLIENT_LOGGER).isEmpty(), Duration.ofSeconds(5), log::toString);

            List<LogCapture.Line> lines = log.lines();
            assertEquals(1, lines.size(), lines.toString());
            LogCapture.Line line = lines.get(0);
            assertEquals(CLIENT_LOGGER, line.logger());
            assertEquals(Level.INFO, line.level());
            assertFalse(line.hasThrown(), "no stack trace");
            assertFalse(line.message().contains("\n"), line.message());
            assertFalse(line.message().contains("Exception"), "no cause chain: " + line.message());
            assertTrue(line.message().startsWith("client error from 127.0.0.1:"), line.message());
            assertTrue(line.message().contains("POST /upload"), line.message());
            assertTrue(line.message().contains("status 400: H1_ERROR (downstream): malformed request: "
                    + "invalid Content-Length: '3, 3'"), line.message());
            assertEquals(1L, fixture.server.clientErrorCounts().get("malformed"));
            assertEquals(0, origin.requests().size(), "never forwarded");
        }
    }

    @Test
    void unsupportedVersionIsAClientErrorFromDownstreamNotAnInternalStatus() throws Exception {
        ProxyFixture.SimpleProxy proxy = proxyToOrigin();
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            assertAnswered(fixture, "GET /v2 HTTP/2.0\r\nHost: x\r\n\r\n", 505);

            ProxyFixture.Logged logged = proxy.nextLogged();
            assertEquals(ErrorType.HTTP_STATUS, logged.error().type());
            assertEquals(505, logged.error().httpStatus());
            assertEquals(ErrorSource.DOWNSTREAM, logged.error().source());
            Await.until(() -> !log.linesOf(CLIENT_LOGGER).isEmpty(), Duration.ofSeconds(5), log::toString);
            LogCapture.Line line = log.linesOf(CLIENT_LOGGER).get(0);
            assertEquals(Level.INFO, line.level());
            assertTrue(line.message().contains("status 505: HTTP_STATUS 505 (downstream)"), line.message());
            assertEquals(List.of(), log.atLeast(Level.WARNING));
            assertEquals(1L, fixture.server.clientErrorCounts().get("unsupported_version"));
        }
    }

    @Test
    void aThousandBadRequestsLogAtMostTheLimitThenOneSummaryOfTheRest() throws Exception {
        ManualEngineClock clock = new ManualEngineClock();
        ProxyFixture.SimpleProxy proxy = proxyToOrigin();
        try (ProxyFixture fixture = new ProxyFixture(proxy, ProxyOptions.defaults(), clock)) {
            for (int i = 0; i < 1000; i++) {
                assertAnswered(fixture, "GET /bad HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", 400);
            }
            Await.until(() -> fixture.server.clientErrorCounts().get("malformed") == 1000, Duration.ofSeconds(10),
                    () -> "counted: " + fixture.server.clientErrorCounts());
            // The engine's clock stands still: the whole flood came within one instant, so one bucket's worth.
            List<LogCapture.Line> flood = log.linesOf(CLIENT_LOGGER);
            assertEquals(10, flood.size(), flood.toString());
            assertTrue(flood.stream().allMatch(l -> l.level() == Level.INFO && l.message().contains("GET /bad")),
                    flood.toString());

            clock.advance(Duration.ofSeconds(1));
            assertAnswered(fixture, "GET /after HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", 400);
            Await.until(() -> log.linesOf(CLIENT_LOGGER).size() == 12, Duration.ofSeconds(5), log::toString);

            List<LogCapture.Line> after = log.linesOf(CLIENT_LOGGER).subList(10, 12);
            assertEquals(new LogCapture.Line(CLIENT_LOGGER, Level.INFO,
                    "990 similar client error lines suppressed (at most 10 a second)", false), after.get(0));
            assertTrue(after.get(1).message().contains("GET /after"), after.get(1).toString());
            assertEquals(List.of(), log.atLeast(Level.WARNING));
        }
    }

    @Test
    void requestHeaderTooSlowToArriveIsA408CountedAsATimeoutAndLoggedAtInfo() throws Exception {
        ManualEngineClock clock = new ManualEngineClock();
        ProxyOptions options = ProxyOptions.builder().headerReadTimeout(Duration.ofMillis(300)).build();
        try (ProxyFixture fixture = new ProxyFixture(proxyToOrigin(), options, clock);
             RawHttpConnection client = new RawHttpConnection(fixture.address.getPort())) {
            client.send("GET /slo");
            CompletableFuture<String> read = CompletableFuture.supplyAsync(() -> {
                try {
                    return client.readToEnd();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            clock.advanceUntil(Duration.ofMillis(100), 100, read::isDone);
            assertTrue(read.get().startsWith("HTTP/1.1 408 "), read.get());

            Await.until(() -> !log.linesOf(CLIENT_LOGGER).isEmpty(), Duration.ofSeconds(5), log::toString);
            LogCapture.Line line = log.linesOf(CLIENT_LOGGER).get(0);
            assertEquals(Level.INFO, line.level());
            assertTrue(line.message().contains("status 408: READ_TIMEDOUT (downstream): request header not complete "
                    + "within 300 ms"), line.message());
            assertEquals(1L, fixture.server.clientErrorCounts().get("timeout"));
            assertEquals(List.of(), log.atLeast(Level.WARNING));
        }
    }

    @Test
    void clientThatResetsMidResponseIsAQuietDownstreamWriteFailureNeverAReadError() throws Exception {
        ProxyFixture.SimpleProxy proxy = proxyToOrigin();
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            try (RawHttpConnection client = new RawHttpConnection(fixture.address.getPort())) {
                client.send("GET /bytes/1000000000 HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals(200, client.readHead().status());
                client.readBytes(64 * 1024);
                // SO_LINGER 0: the close is a reset, with the proxy mid-write.
                client.socket().setSoLinger(true, 0);
            }
            ProxyFixture.Logged logged = proxy.nextLogged("/bytes/1000000000");
            assertEquals(ErrorSource.DOWNSTREAM, logged.error().source(), logged.error().toString());
            assertTrue(Set.of(ErrorType.WRITE_ERROR, ErrorType.CONNECTION_CLOSED).contains(logged.error().type()),
                    logged.error().toString());
            Await.until(() -> !log.linesOf(CLIENT_LOGGER).isEmpty(), Duration.ofSeconds(5), log::toString);

            LogCapture.Line line = log.linesOf(CLIENT_LOGGER).get(0);
            assertEquals(Level.DEBUG, line.level(), line.toString());
            assertTrue(line.message().contains("GET /bytes/1000000000"), line.message());
            assertFalse(line.message().contains("READ_ERROR"), line.message());
            assertEquals(List.of(), log.atLeast(Level.INFO), "a hang-up is not worth an INFO line");
            assertEquals(1L, fixture.server.clientErrorCounts().get("closed"));
        }
    }

    @Test
    void aFilterThatThrowsIsOneErrorLineWithTheStackTrace() throws Exception {
        ProxyFixture.SimpleProxy proxy = new ProxyFixture.SimpleProxy(session -> {
            throw new IllegalStateException("routing table is broken");
        });
        try (ProxyFixture fixture = new ProxyFixture(proxy)) {
            assertAnswered(fixture, "GET /bug HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 500);
            assertEquals(ErrorType.INTERNAL, proxy.nextLogged("/bug").error().type());
            Await.until(() -> !log.lines().isEmpty(), Duration.ofSeconds(5), log::toString);

            List<LogCapture.Line> lines = log.lines();
            assertEquals(1, lines.size(), lines.toString());
            assertEquals(new LogCapture.Line(ENGINE_LOGGER, Level.ERROR, "GET /bug, Host: x, status 500: INTERNAL "
                    + "(internal) context: upstreamPeer cause: java.lang.IllegalStateException: routing table is broken",
                    true), lines.get(0));
            assertTrue(fixture.server.clientErrorCounts().values().stream().allMatch(c -> c == 0));
        }
    }

    @Test
    void anOriginThatRefusesIsWarnedAboutAtMostTenTimesASecondAndNeverCountedAsAClientError() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        ManualEngineClock clock = new ManualEngineClock();
        ProxyFixture.SimpleProxy proxy = new ProxyFixture.SimpleProxy(
                session -> HttpPeer.plain("127.0.0.1:" + closedPort));
        try (ProxyFixture fixture = new ProxyFixture(proxy, ProxyOptions.builder().maxAttempts(1).build(), clock)) {
            for (int i = 0; i < 30; i++) {
                assertAnswered(fixture, "GET /refused HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 502);
                assertEquals(ErrorType.CONNECT_REFUSED, proxy.nextLogged("/refused").error().type());
            }
            List<LogCapture.Line> lines = log.lines();
            assertEquals(10, lines.size(), log.toString());
            assertTrue(lines.stream().allMatch(l -> l.level() == Level.WARNING && l.message().startsWith(
                    "GET /refused, Host: x, status 502: CONNECT_REFUSED (upstream) context: connect ")), log.toString());

            clock.advance(Duration.ofSeconds(1));
            assertAnswered(fixture, "GET /refused HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 502);
            proxy.nextLogged("/refused");
            assertEquals(new LogCapture.Line(ENGINE_LOGGER, Level.WARNING,
                    "20 similar warnings suppressed (at most 10 a second)", false), log.lines().get(10));
            assertEquals(12, log.lines().size(), log.toString());
            assertTrue(fixture.server.clientErrorCounts().values().stream().allMatch(c -> c == 0),
                    fixture.server.clientErrorCounts().toString());
        }
    }
}
