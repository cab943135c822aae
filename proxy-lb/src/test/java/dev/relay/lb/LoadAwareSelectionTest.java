package dev.relay.lb;

import dev.relay.core.AttemptOutcome;
import dev.relay.core.Backend;
import dev.relay.core.HttpPeer;
import dev.relay.core.UpstreamObserver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Least connections and peak EWMA read the load the observer records. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LoadAwareSelectionTest {
    private static final List<Backend> THREE = TestBackends.of(3);

    private static HttpPeer peer(Backend b) {
        return HttpPeer.plain(b);
    }

    private static <S extends dev.relay.core.SelectionAlgorithm> LoadBalancer<S> lb(S algorithm, List<Backend> backends, FakeScheduler clock) {
        return LoadBalancer.builder(algorithm).staticBackends(backends).ticker(clock).scheduler(clock).build();
    }

    private static Map<Backend, Integer> count(LoadBalancer<?> lb, int picks) {
        Map<Backend, Integer> counts = new HashMap<>();
        for (int i = 0; i < picks; i++) {
            counts.merge(lb.selectOrNull(LoadBalancer.NO_KEY, 8), 1, Integer::sum);
        }
        return counts;
    }

    @Test
    void leastConnectionsPicksTheBackendWithFewestRequestsInFlight() {
        LoadBalancer<LeastConnections> lb = lb(LeastConnections.create(), THREE, new FakeScheduler());
        UpstreamObserver observer = lb.observer();
        observer.onAttemptStart(peer(THREE.get(0)));
        observer.onAttemptStart(peer(THREE.get(0)));
        observer.onAttemptStart(peer(THREE.get(2)));

        assertEquals(Map.of(THREE.get(1), 100), count(lb, 100));
        assertEquals(2, lb.backends().inFlight(THREE.get(0)));

        observer.onAttemptEnd(peer(THREE.get(0)), AttemptOutcome.SUCCESS, 1_000);
        observer.onAttemptEnd(peer(THREE.get(0)), AttemptOutcome.CANCELLED, 1_000);
        observer.onAttemptStart(peer(THREE.get(1)));
        observer.onAttemptStart(peer(THREE.get(1)));
        assertEquals(Map.of(THREE.get(0), 100), count(lb, 100), "0 in flight now, the others 1 and 2");
    }

    @Test
    void leastConnectionsComparesInFlightPerUnitOfWeight() {
        List<Backend> weighted = List.of(THREE.get(0).withWeight(4), THREE.get(1));
        LoadBalancer<LeastConnections> lb = lb(LeastConnections.exact(), weighted, new FakeScheduler());
        for (int i = 0; i < 3; i++) {
            lb.observer().onAttemptStart(peer(weighted.get(0)));
        }
        lb.observer().onAttemptStart(peer(weighted.get(1)));
        // 3/4 < 1/1: the heavy backend is less loaded for its capacity.
        assertEquals(Map.of(weighted.get(0), 50), count(lb, 50));
    }

    @Test
    void twoChoicesAvoidTheMostLoadedBackend() {
        List<Backend> backends = TestBackends.of(100);
        LoadBalancer<LeastConnections> lb = lb(LeastConnections.powerOfTwoChoices(), backends, new FakeScheduler());
        Backend busy = backends.get(42);
        for (int i = 0; i < 10; i++) {
            lb.observer().onAttemptStart(peer(busy));
        }
        assertEquals(null, count(lb, 20_000).get(busy), "two choices never keep the one busy backend over an idle one");
    }

    @Test
    void inFlightNeverGoesNegativeAndIgnoresUnknownPeers() {
        LoadBalancer<LeastConnections> lb = lb(LeastConnections.create(), THREE, new FakeScheduler());
        lb.observer().onAttemptEnd(peer(THREE.get(0)), AttemptOutcome.SUCCESS, 10);
        lb.observer().onAttemptStart(HttpPeer.plain("127.0.0.1:1"));
        lb.observer().onAttemptStart(peer(Backend.parse("192.0.2.1:80")));
        assertEquals(0, lb.backends().inFlight(THREE.get(0)));
    }

    @Test
    void inFlightCountsSurviveADiscoveryUpdate() {
        LoadBalancer<LeastConnections> lb = lb(LeastConnections.create(), THREE, new FakeScheduler());
        lb.observer().onAttemptStart(peer(THREE.get(0)));
        lb.backends().update(List.of(THREE.get(0), THREE.get(1)));
        assertEquals(1, lb.backends().inFlight(THREE.get(0)));
        lb.observer().onAttemptEnd(peer(THREE.get(0)), AttemptOutcome.SUCCESS, 10);
        assertEquals(0, lb.backends().inFlight(THREE.get(0)));
    }

    @Test
    void leastConnectionsPrefersAReadyBackendEvenIfBusier() {
        LoadBalancer<LeastConnections> lb = lb(LeastConnections.create(), THREE, new FakeScheduler());
        lb.backends().setEnabled(THREE.get(0), false);
        lb.observer().onAttemptStart(peer(THREE.get(1)));
        lb.observer().onAttemptStart(peer(THREE.get(2)));
        lb.observer().onAttemptStart(peer(THREE.get(2)));
        assertEquals(Map.of(THREE.get(1), 30), count(lb, 30));
    }

    @Test
    void peakEwmaSendsLessTrafficToASlowBackend() {
        FakeScheduler clock = new FakeScheduler();
        LoadBalancer<PeakEwma> lb = lb(PeakEwma.create(), THREE, clock);
        Backend slow = THREE.get(1);
        for (int round = 0; round < 20; round++) {
            for (Backend b : THREE) {
                lb.observer().onAttemptStart(peer(b));
                lb.observer().onAttemptEnd(peer(b), AttemptOutcome.SUCCESS, b.equals(slow) ? 200_000_000L : 5_000_000L);
            }
            clock.advance(Duration.ofMillis(50));
        }
        Map<Backend, Integer> counts = count(lb, 30_000);
        // With two choices out of three, the slow one wins only when it is drawn twice: never.
        assertEquals(null, counts.get(slow), "slow backend picked " + counts.get(slow) + " times");
        assertEquals(15_000, counts.get(THREE.get(0)), 1_000);
    }

    @Test
    void peakEwmaReactsToASlowResponseAtOnceAndForgetsItOverTime() {
        FakeScheduler clock = new FakeScheduler();
        List<Backend> two = THREE.subList(0, 2);
        LoadBalancer<PeakEwma> lb = lb(PeakEwma.create(), two, clock);
        for (Backend b : two) {
            lb.observer().onAttemptEnd(peer(b), AttemptOutcome.SUCCESS, 10_000_000L);
        }
        lb.observer().onAttemptEnd(peer(two.get(0)), AttemptOutcome.SUCCESS, 500_000_000L); // a peak
        assertEquals(Map.of(two.get(1), 100), count(lb, 100));

        // Fast responses pull the estimate down over the decay time (10 s), not at once.
        for (int s = 0; s < 60; s++) {
            clock.advance(Duration.ofSeconds(1));
            lb.observer().onAttemptEnd(peer(two.get(0)), AttemptOutcome.SUCCESS, 5_000_000L);
            lb.observer().onAttemptEnd(peer(two.get(1)), AttemptOutcome.SUCCESS, 10_000_000L);
        }
        assertEquals(Map.of(two.get(0), 100), count(lb, 100), "now the faster one");
    }

    @Test
    void peakEwmaCountsInFlightRequests() {
        FakeScheduler clock = new FakeScheduler();
        List<Backend> two = THREE.subList(0, 2);
        LoadBalancer<PeakEwma> lb = lb(PeakEwma.create(), two, clock);
        for (Backend b : two) {
            lb.observer().onAttemptEnd(peer(b), AttemptOutcome.SUCCESS, 10_000_000L);
        }
        lb.observer().onAttemptEnd(peer(two.get(1)), AttemptOutcome.SUCCESS, 15_000_000L);
        // 10 ms with 2 in flight (cost 30) loses to 15 ms idle (cost 15).
        lb.observer().onAttemptStart(peer(two.get(0)));
        lb.observer().onAttemptStart(peer(two.get(0)));
        assertEquals(Map.of(two.get(1), 50), count(lb, 50));
    }

    @Test
    void peakEwmaPenalisesFailuresThatAreFast() {
        FakeScheduler clock = new FakeScheduler();
        List<Backend> two = THREE.subList(0, 2);
        LoadBalancer<PeakEwma> lb = lb(PeakEwma.builder().failurePenalty(Duration.ofSeconds(2)).build(), two, clock);
        lb.observer().onAttemptEnd(peer(two.get(0)), AttemptOutcome.SUCCESS, 50_000_000L);
        lb.observer().onAttemptEnd(peer(two.get(1)), AttemptOutcome.CONNECT_FAILURE, 1_000L);
        assertEquals(Map.of(two.get(0), 50), count(lb, 50), "a 1 µs connect failure counts as 2 s");
    }

    @Test
    void peakEwmaTriesAnAvoidedBackendAgainOnceItsEstimateRelaxes() {
        FakeScheduler clock = new FakeScheduler();
        List<Backend> two = THREE.subList(0, 2);
        LoadBalancer<PeakEwma> lb = lb(PeakEwma.create(), two, clock);
        lb.observer().onAttemptEnd(peer(two.get(0)), AttemptOutcome.SUCCESS, 40_000_000L);
        lb.observer().onAttemptEnd(peer(two.get(1)), AttemptOutcome.SUCCESS, 2_000_000_000L);
        assertEquals(Map.of(two.get(0), 20), count(lb, 20));
        // No traffic for a minute: the slow estimate relaxes toward the initial 30 ms, below 40 ms.
        clock.advance(Duration.ofSeconds(60));
        lb.observer().onAttemptEnd(peer(two.get(0)), AttemptOutcome.SUCCESS, 40_000_000L);
        assertEquals(Map.of(two.get(1), 20), count(lb, 20));
    }

    @Test
    void fallbackOfLoadAwareAlgorithmsNeverRepeatsThePreviousPick() {
        for (dev.relay.core.SelectionAlgorithm algorithm : List.of(LeastConnections.create(), PeakEwma.create())) {
            dev.relay.core.BackendSelector selector = algorithm.build(TestBackends.of(5));
            for (int i = 0; i < 1_000; i++) {
                int prev = i % 5;
                assertNotEquals(prev, selector.next(LoadBalancer.NO_KEY, prev, 1));
            }
            assertTrue(selector.next(LoadBalancer.NO_KEY, 4, 5) == 0, "from the n-th pick the list is walked");
        }
    }
}
