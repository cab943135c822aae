package dev.relay.lb;

import dev.relay.core.Backend;
import dev.relay.core.RequestHeader;
import dev.relay.testing.RecordedRequest;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Active health checks against real servers on loopback, scheduled on a fake clock: a backend flips
 * only after its threshold of consecutive results, and only a round run by the scheduler (or by
 * hand) changes anything.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HealthCheckTest {
    private final FakeScheduler clock = new FakeScheduler();
    private final List<String> events = Collections.synchronizedList(new ArrayList<>());
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final HealthListener listener = new HealthListener() {
        @Override
        public void healthChanged(Backend backend, boolean healthy, Throwable cause) {
            events.add(backend.address().getPort() + (healthy ? " healthy" : " unhealthy"));
        }
    };

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private TestOrigin origin(TestOrigin.Builder builder) {
        TestOrigin o = builder.build().start();
        closeables.add(o);
        return o;
    }

    private static Backend backend(int port) {
        return Backend.of(new InetSocketAddress("127.0.0.1", port));
    }

    private LoadBalancer<RoundRobin> lb(List<Backend> backends, HealthCheck check) {
        LoadBalancer<RoundRobin> lb = LoadBalancer.builder(RoundRobin.create()).staticBackends(backends)
                .healthCheck(check).healthCheckInterval(Duration.ofSeconds(5)).healthCheckExecutor(Runnable::run)
                .listener(listener).ticker(clock).scheduler(clock).build();
        closeables.add(lb);
        return lb;
    }

    @Test
    void tcpCheckFlipsABackendOnlyAfterItsThresholds() throws Exception {
        ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        int port = server.getLocalPort();
        Backend up = backend(port);
        Backend down = backend(TestOrigin.closedPort());
        LoadBalancer<RoundRobin> lb = lb(List.of(up, down),
                TcpHealthCheck.builder().consecutiveFailures(2).consecutiveSuccesses(3).build());

        lb.start();
        assertTrue(lb.backends().isHealthy(down), "one failure is below the threshold of 2");
        assertEquals(1, clock.pending(), "the next round is scheduled");
        clock.advance(Duration.ofSeconds(5));
        assertFalse(lb.backends().isHealthy(down));
        assertTrue(lb.backends().isHealthy(up));
        for (int i = 0; i < 10; i++) {
            assertEquals(up, lb.selectOrNull(LoadBalancer.NO_KEY, 4));
        }

        server.close(); // now the first one goes down too
        clock.advance(Duration.ofSeconds(5));
        assertTrue(lb.backends().isHealthy(up));
        clock.advance(Duration.ofSeconds(5));
        assertFalse(lb.backends().isHealthy(up));
        assertEquals(null, lb.selectOrNull(LoadBalancer.NO_KEY, 4));

        try (ServerSocket again = new ServerSocket()) {
            again.setReuseAddress(true);
            again.bind(new InetSocketAddress("127.0.0.1", port));
            clock.advance(Duration.ofSeconds(10));
            assertFalse(lb.backends().isHealthy(up), "two successes are below the threshold of 3");
            clock.advance(Duration.ofSeconds(5));
            assertTrue(lb.backends().isHealthy(up));
        }
        assertEquals(List.of(down.address().getPort() + " unhealthy", port + " unhealthy", port + " healthy"), events);
    }

    @Test
    void httpCheckExpectsTheConfiguredStatusesAndSendsTheTemplate() throws Exception {
        AtomicInteger status = new AtomicInteger(200);
        TestOrigin origin = origin(TestOrigin.builder().name("hc").handler("/healthz", (req, res) -> res.status(status.get()).body("ok")));
        Backend b = backend(origin.port());
        LoadBalancer<RoundRobin> lb = lb(List.of(b), HttpHealthCheck.builder("api.example").path("/healthz")
                .header("X-Probe", "relay").expectStatuses(200, 204).build());

        lb.runHealthChecks().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertTrue(lb.backends().isHealthy(b));
        RecordedRequest seen = origin.requests().get(0);
        assertEquals("GET", seen.method());
        assertEquals("/healthz", seen.uri());
        assertEquals("api.example", seen.header("Host"));
        assertEquals("relay", seen.header("X-Probe"));
        assertEquals("close", seen.header("Connection"), "a fresh connection per check by default");

        status.set(503);
        lb.runHealthChecks().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertFalse(lb.backends().isHealthy(b));
        status.set(204);
        lb.runHealthChecks().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertTrue(lb.backends().isHealthy(b));
        assertEquals(3, origin.connectionsAccepted());
    }

    @Test
    void httpCheckWithAValidatorJudgesTheBody() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        TestOrigin origin = origin(TestOrigin.builder().handler("/status",
                (req, res) -> res.body(calls.incrementAndGet() == 1 ? "{\"status\":\"up\"}" : "{\"status\":\"down\"}")));
        Backend b = backend(origin.port());
        LoadBalancer<RoundRobin> lb = lb(List.of(b), HttpHealthCheck.builder("svc").path("/status").validator((header, body) -> {
            if (header.status() != 200 || !new String(body, StandardCharsets.UTF_8).contains("\"up\"")) {
                throw new IOException("not up");
            }
        }).build());
        lb.runHealthChecks().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertTrue(lb.backends().isHealthy(b));
        lb.runHealthChecks().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertFalse(lb.backends().isHealthy(b));
    }

    @Test
    void httpCheckCanReuseItsConnection() throws Exception {
        TestOrigin origin = origin(TestOrigin.builder());
        Backend b = backend(origin.port());
        LoadBalancer<RoundRobin> lb = lb(List.of(b), HttpHealthCheck.builder("svc").reuseConnection(true).build());
        for (int i = 0; i < 3; i++) {
            lb.runHealthChecks().toCompletableFuture().get(5, TimeUnit.SECONDS);
        }
        assertTrue(lb.backends().isHealthy(b));
        assertEquals(3, origin.requests().size());
        assertEquals(1, origin.connectionsAccepted());

        origin.closeConnections(); // the server drops the idle connection: the check reconnects, no failure
        lb.runHealthChecks().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertTrue(lb.backends().isHealthy(b));
        assertEquals(2, origin.connectionsAccepted());
        lb.close();
        origin.awaitRequests(4, Duration.ofSeconds(5));
    }

    @Test
    void portOverrideProbesAnotherPort() throws Exception {
        TestOrigin admin = origin(TestOrigin.builder().name("admin"));
        Backend b = backend(TestOrigin.closedPort()); // traffic port closed, admin port answers
        LoadBalancer<RoundRobin> lb = lb(List.of(b), HttpHealthCheck.builder("svc").portOverride(admin.port()).build());
        lb.runHealthChecks().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertTrue(lb.backends().isHealthy(b));
        assertEquals(1, admin.requests().size());
    }

    @Test
    void tlsChecksVerifyTheCertificate() throws Exception {
        TestOrigin origin = origin(TestOrigin.builder().tls(TestCertificates.localhost()));
        Backend b = backend(origin.port());
        LoadBalancer<RoundRobin> good = lb(List.of(b), HttpHealthCheck.builder("localhost").tls(true).sni("localhost")
                .sslContext(TestCertificates.clientSslContext()).build());
        good.runHealthChecks().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertTrue(good.backends().isHealthy(b));

        LoadBalancer<RoundRobin> wrongName = lb(List.of(b), TcpHealthCheck.builder().tls(true).sni("other.example")
                .sslContext(TestCertificates.clientSslContext()).build());
        wrongName.runHealthChecks().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertFalse(wrongName.backends().isHealthy(b), "the certificate does not name other.example");

        LoadBalancer<RoundRobin> untrusted = lb(List.of(b), TcpHealthCheck.builder().tls(true).sni("localhost").build());
        untrusted.runHealthChecks().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertFalse(untrusted.backends().isHealthy(b), "the default trust store does not know the test CA");

        LoadBalancer<RoundRobin> tcp = lb(List.of(b), TcpHealthCheck.builder().tls(true).sni("localhost")
                .sslContext(TestCertificates.clientSslContext()).build());
        tcp.runHealthChecks().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertTrue(tcp.backends().isHealthy(b));
    }

    @Test
    void aSlowServerFailsTheCheckAtItsTimeout() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Backend b = backend(silent.getLocalPort()); // accepts (backlog) but never answers
            LoadBalancer<RoundRobin> lb = lb(List.of(b), HttpHealthCheck.builder("svc").readTimeout(Duration.ofMillis(200)).build());
            lb.runHealthChecks().toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertFalse(lb.backends().isHealthy(b));
        }
    }

    @Test
    void parallelChecksRunConcurrentlyAndSequentialOnesDoNot() throws Exception {
        List<Backend> backends = TestBackends.of(6);
        AtomicInteger running = new AtomicInteger();
        AtomicInteger maxRunning = new AtomicInteger();
        CountDownLatch threeInside = new CountDownLatch(3);
        HealthCheck slow = backend -> {
            int now = running.incrementAndGet();
            maxRunning.accumulateAndGet(now, Math::max);
            threeInside.countDown();
            try {
                threeInside.await(2, TimeUnit.SECONDS); // parallel checks meet here; sequential ones time out
            } finally {
                running.decrementAndGet();
            }
        };
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            LoadBalancer<RoundRobin> parallel = LoadBalancer.builder(RoundRobin.create()).staticBackends(backends)
                    .healthCheck(slow).healthCheckParallelism(3).healthCheckExecutor(pool).ticker(clock).scheduler(clock).build();
            parallel.runHealthChecks().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertEquals(3, maxRunning.get());

            maxRunning.set(0);
            LoadBalancer<RoundRobin> sequential = LoadBalancer.builder(RoundRobin.create()).staticBackends(backends.subList(0, 2))
                    .healthCheck(backend -> {
                        maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
                        running.decrementAndGet();
                    }).parallelHealthChecks(false).healthCheckExecutor(pool).ticker(clock).scheduler(clock).build();
            sequential.runHealthChecks().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertEquals(1, maxRunning.get());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void healthSurvivesDiscoveryUpdatesAndIsIndependentOfDrain() throws Exception {
        Backend down = backend(TestOrigin.closedPort());
        TestOrigin origin = origin(TestOrigin.builder());
        Backend up = backend(origin.port());
        LoadBalancer<RoundRobin> lb = lb(List.of(up, down), TcpHealthCheck.builder().build());
        lb.runHealthChecks().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertFalse(lb.backends().isHealthy(down));

        lb.backends().update(List.of(down, up, backend(1)));
        assertFalse(lb.backends().isHealthy(down), "a surviving backend keeps its verdict");
        assertTrue(lb.backends().isHealthy(backend(1)), "a new backend starts healthy");

        lb.backends().setEnabled(down, false);
        lb.backends().setEnabled(down, true);
        assertFalse(lb.backends().ready(down), "enabling does not make it healthy");
        lb.backends().setEnabled(up, false);
        assertTrue(lb.backends().isHealthy(up));
        assertFalse(lb.backends().ready(up), "draining does not touch health");
    }

    @Test
    void closeStopsTheScheduleAndAThrowingCheckCountsAsAFailure() {
        Backend b = backend(80);
        LoadBalancer<RoundRobin> lb = lb(List.of(b), backend -> {
            throw new IllegalStateException("boom");
        });
        lb.start();
        assertFalse(lb.backends().isHealthy(b));
        assertEquals(1, clock.pending());
        lb.close();
        assertEquals(0, clock.pending());
        clock.advance(Duration.ofMinutes(1));
        assertEquals(0, lb.pendingTasks());
        assertThrows(IllegalStateException.class, lb::start);
    }

    @Test
    void buildersRejectConflictingSettingsNamingThem() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> HttpHealthCheck.builder("h").expectStatuses(200).validator((h, b) -> { }).build());
        assertTrue(e.getMessage().startsWith("validator:"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> TcpHealthCheck.builder().sni("x").build());
        assertTrue(e.getMessage().startsWith("tls:"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> LoadBalancer.builder(RoundRobin.create())
                .staticBackends(List.of()).healthCheckInterval(Duration.ofSeconds(1)).build());
        assertTrue(e.getMessage().startsWith("healthCheckInterval:"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> LoadBalancer.builder(RoundRobin.create())
                .staticBackends(List.of()).discovery(ServiceDiscovery.staticSet(List.of())));
        assertTrue(e.getMessage().startsWith("discovery:"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> HttpHealthCheck.builder("h").header("Host", "x"));
        assertThrows(IllegalArgumentException.class, () -> HttpHealthCheck.builder("h").path("no-slash"));
        assertThrows(IllegalArgumentException.class, () -> TcpHealthCheck.builder().consecutiveFailures(0));
    }

    @Test
    void requestTemplateSetsMethodTargetAndHeaders() throws Exception {
        TestOrigin origin = origin(TestOrigin.builder());
        RequestHeader template = RequestHeader.of("HEAD", "/ping?deep=1");
        template.headers().set("Host", "templated.example");
        template.headers().set("Authorization", "Bearer t");
        LoadBalancer<RoundRobin> lb = lb(List.of(backend(origin.port())), HttpHealthCheck.builder("ignored").request(template).build());
        lb.runHealthChecks().toCompletableFuture().get(5, TimeUnit.SECONDS);
        RecordedRequest seen = origin.requests().get(0);
        assertEquals("HEAD", seen.method());
        assertEquals("/ping?deep=1", seen.uri());
        assertEquals("templated.example", seen.header("Host"));
        assertEquals("Bearer t", seen.header("Authorization"));
        assertTrue(lb.backends().isHealthy(backend(origin.port())));
    }
}
