package dev.relay.lb;

import dev.relay.core.Backend;
import dev.relay.core.BackendSelector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
class RoundRobinTest {
    static final Backend A = backend(1, 1);
    static final Backend B = backend(2, 1);
    static final Backend C = backend(3, 1);

    static Backend backend(int lastOctet, int weight) {
        return Backend.of(new InetSocketAddress("127.0.0." + lastOctet, 8080), weight);
    }

    static List<Backend> picks(LoadBalancer<?> lb, int count) {
        List<Backend> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(lb.selectOrNull(LoadBalancer.NO_KEY, 8));
        }
        return out;
    }

    @Test
    void alternatesBetweenTwoEqualBackends() {
        LoadBalancer<RoundRobin> lb = LoadBalancer.roundRobin("127.0.0.1:8080", "127.0.0.2:8080");

        assertEquals(List.of(A, B, A, B, A, B), picks(lb, 6));
    }

    @Test
    void followsNginxSmoothWeightedOrderForWeightsFiveOneOne() {
        Backend a = backend(1, 5);
        Backend b = backend(2, 1);
        Backend c = backend(3, 1);
        LoadBalancer<RoundRobin> lb = LoadBalancer.fromBackends(RoundRobin.create(), Backends.staticSet(List.of(c, a, b)));

        List<Backend> period = List.of(a, a, b, a, c, a, a);
        List<Backend> twoPeriods = new ArrayList<>(period);
        twoPeriods.addAll(period);
        assertEquals(twoPeriods, picks(lb, 14));
    }

    @Test
    void sameSequenceWhenWeightsShareADivisor() {
        LoadBalancer<RoundRobin> lb = LoadBalancer.fromBackends(RoundRobin.create(),
                Backends.staticSet(List.of(backend(1, 50), backend(2, 10), backend(3, 10))));

        assertEquals(List.of(backend(1, 50), backend(1, 50), backend(2, 10), backend(1, 50),
                backend(3, 10), backend(1, 50), backend(1, 50)), picks(lb, 7));
    }

    @Test
    void largePeriodWithoutPrecomputedSequenceStillHonoursWeightsExactly() {
        // Total 100,003 exceeds the precomputed period; the stride layout takes over.
        List<Backend> backends = List.of(backend(1, 70_001), backend(2, 20_001), backend(3, 10_001));
        BackendSelector selector = RoundRobin.create().build(backends);
        int[] counts = new int[3];
        for (int i = 0; i < 100_003; i++) {
            counts[selector.first(LoadBalancer.NO_KEY)]++;
        }
        assertEquals(70_001, counts[0]);
        assertEquals(20_001, counts[1]);
        assertEquals(10_001, counts[2]);
    }

    @Test
    void largePeriodPicksAreSpreadNotBunched() {
        List<Backend> backends = List.of(backend(1, 70_001), backend(2, 30_002));
        BackendSelector selector = RoundRobin.create().build(backends);
        int longestRun = 0;
        int run = 0;
        int last = -1;
        for (int i = 0; i < 100_003; i++) {
            int pick = selector.first(LoadBalancer.NO_KEY);
            run = pick == last ? run + 1 : 1;
            last = pick;
            longestRun = Math.max(longestRun, run);
        }
        assertTrue(longestRun <= 4, "longest run of one backend: " + longestRun);
    }

    @Test
    void fallbackIsTheNextDifferentBackendOfTheSequence() {
        Backend a = backend(1, 5);
        BackendSelector selector = RoundRobin.create().build(List.of(a, backend(2, 1), backend(3, 1)));
        for (int i = 0; i < 50; i++) {
            int next = selector.next(LoadBalancer.NO_KEY, 0, 1);
            assertTrue(next == 1 || next == 2, "next: " + next);
        }
        // From the n-th pick on the selector walks the list in order.
        assertEquals(1, selector.next(LoadBalancer.NO_KEY, 0, 3));
        assertEquals(0, selector.next(LoadBalancer.NO_KEY, 2, 3));
    }

    @Test
    void singleBackendHasNoFallback() {
        BackendSelector selector = RoundRobin.create().build(List.of(A));
        assertEquals(0, selector.first(LoadBalancer.NO_KEY));
        assertEquals(-1, selector.next(LoadBalancer.NO_KEY, 0, 1));
    }

    @Test
    void emptySetSelectsNothing() {
        LoadBalancer<RoundRobin> lb = LoadBalancer.fromBackends(RoundRobin.create(), Backends.staticSet(List.of()));
        assertTrue(lb.select(LoadBalancer.NO_KEY, 10).isEmpty());
    }

    @Test
    void concurrentSelectsMatchWeightsExactly() throws Exception {
        Backend a = backend(1, 3);
        Backend b = backend(2, 2);
        Backend c = backend(3, 1);
        List<Backend> backends = List.of(a, b, c);
        LoadBalancer<RoundRobin> lb = LoadBalancer.fromBackends(RoundRobin.create(), Backends.staticSet(backends));
        int threads = 4;
        int perThread = 60_000; // 240,000 picks, a multiple of the total weight 6
        AtomicIntegerArray counts = new AtomicIntegerArray(3);
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit((Callable<Void>) () -> {
                    int[] local = new int[3];
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        local[backends.indexOf(lb.selectOrNull(LoadBalancer.NO_KEY, 4))]++;
                    }
                    for (int i = 0; i < 3; i++) {
                        counts.addAndGet(i, local[i]);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(15, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(120_000, counts.get(0));
        assertEquals(80_000, counts.get(1));
        assertEquals(40_000, counts.get(2));
    }

    @Test
    void sequenceRestartsWhenTheSetChanges() {
        LoadBalancer<RoundRobin> lb = LoadBalancer.roundRobin("127.0.0.1:8080", "127.0.0.2:8080");
        assertEquals(A, lb.selectOrNull(LoadBalancer.NO_KEY, 1));

        lb.backends().update(List.of(A, B, C));

        Map<Backend, Integer> counts = new HashMap<>();
        for (Backend b : picks(lb, 3)) {
            counts.merge(b, 1, Integer::sum);
        }
        assertEquals(Map.of(A, 1, B, 1, C, 1), counts);
    }
}
