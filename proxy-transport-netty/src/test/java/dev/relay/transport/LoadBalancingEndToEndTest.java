package dev.relay.transport;

import dev.relay.core.AttemptOutcome;
import dev.relay.core.Backend;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.ProxyHttp;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.core.UpstreamObserver;
import dev.relay.lb.HealthCheck;
import dev.relay.lb.LoadBalancer;
import dev.relay.lb.RoundRobin;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A backend dies under load: the attempt loop hides the failures from clients at once, and the
 * active health check takes the backend out of rotation within its interval.
 */
@Timeout(60)
class LoadBalancingEndToEndTest {

    /** Load-balanced proxy that fails over to another backend after a connect failure. */
    static final class BalancedProxy implements ProxyHttp<List<Backend>> {
        final LoadBalancer<RoundRobin> lb;

        BalancedProxy(LoadBalancer<RoundRobin> lb) {
            this.lb = lb;
        }

        @Override
        public List<Backend> newCtx() {
            return new ArrayList<>(2);
        }

        @Override
        public CompletionStage<HttpPeer> upstreamPeer(Session session, List<Backend> failed) {
            Backend next = lb.selectWithOrNull(LoadBalancer.NO_KEY, 64, (b, ready) -> ready && !failed.contains(b));
            if (next == null) {
                next = lb.selectWithOrNull(LoadBalancer.NO_KEY, 64, (b, ready) -> !failed.contains(b));
            }
            return next == null ? Stages.failed(ProxyError.httpStatus(503))
                    : CompletableFuture.completedFuture(HttpPeer.plain(next));
        }

        @Override
        public ProxyError failToConnect(Session session, HttpPeer peer, List<Backend> failed, ProxyError error) {
            failed.add(peer.backend());
            return error.setRetry(true);
        }
    }

    @Test
    void trafficMovesOffADeadBackendWithinTheCheckIntervalWithoutClientErrors() throws Exception {
        TestOrigin a = TestOrigin.builder().name("a").build().start();
        TestOrigin b = TestOrigin.builder().name("b").build().start();
        Duration interval = Duration.ofMillis(200);
        try (LoadBalancer<RoundRobin> lb = LoadBalancer.builder(RoundRobin.create())
                .staticBackends(List.of(Backend.parse(a.address()), Backend.parse(b.address())))
                .healthCheck(HealthCheck.tcp().connectTimeout(Duration.ofMillis(500)).build())
                .healthCheckInterval(interval)
                .build()) {
            lb.start().toCompletableFuture().join();
            Backend backendB = Backend.parse(b.address());
            AtomicLong attemptsToB = new AtomicLong();
            UpstreamObserver countB = new UpstreamObserver() {
                @Override
                public void onAttemptEnd(HttpPeer peer, AttemptOutcome outcome, long durationNanos) {
                    if (backendB.equals(peer.backend())) {
                        attemptsToB.incrementAndGet();
                    }
                }
            };
            ProxyOptions options = ProxyOptions.builder().upstreamObserver(lb.observer().andThen(countB)).build();
            try (ProxyFixture proxy = new ProxyFixture(new BalancedProxy(lb), options)) {
                AtomicBoolean running = new AtomicBoolean(true);
                AtomicInteger ok = new AtomicInteger();
                ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
                CountDownLatch warmedUp = new CountDownLatch(200);
                List<Thread> clients = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    Thread client = new Thread(() -> {
                        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                        while (running.get()) {
                            try {
                                HttpResponse<String> response = http.send(HttpRequest.newBuilder(proxy.uri("/small")).build(),
                                        HttpResponse.BodyHandlers.ofString());
                                if (response.statusCode() == 200) {
                                    ok.incrementAndGet();
                                } else {
                                    failures.add("status " + response.statusCode());
                                }
                            } catch (Exception e) {
                                failures.add(e.toString());
                            }
                            warmedUp.countDown();
                        }
                    });
                    client.start();
                    clients.add(client);
                }
                assertTrue(warmedUp.await(20, java.util.concurrent.TimeUnit.SECONDS));
                assertTrue(b.requests().size() > 0, "b served traffic before it died");
                b.close();
                // Wait for the health check to mark b down: a few intervals, bounded.
                long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                while (lb.backends().ready(backendB) && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                assertTrue(!lb.backends().ready(backendB), "health check marked b down");
                // Attempts that picked b just before the flip may still be finishing: let 50 more
                // requests through, then no attempt at all may go to b for the next 500.
                int okWhenMarkedDown = ok.get();
                while (ok.get() < okWhenMarkedDown + 50) {
                    Thread.onSpinWait();
                }
                long attemptsWhenMarkedDown = attemptsToB.get();
                while (ok.get() < okWhenMarkedDown + 550) {
                    Thread.onSpinWait();
                }
                running.set(false);
                for (Thread client : clients) {
                    client.join(10_000);
                }
                assertEquals(List.of(), new ArrayList<>(failures), "no client-visible errors");
                assertEquals(attemptsWhenMarkedDown, attemptsToB.get(), "no attempt to b after it was marked down");
            }
        } finally {
            a.close();
            b.close();
        }
    }
}
