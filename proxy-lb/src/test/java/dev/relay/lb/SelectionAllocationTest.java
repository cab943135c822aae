package dev.relay.lb;

import dev.relay.core.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BiPredicate;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Selection allocates nothing: measured with HotSpot's per-thread allocation counter over many
 * selections. A single allocation per selection would show as at least 16 bytes × 100,000; the
 * bound leaves room only for one-off noise.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class SelectionAllocationTest {
    private static final int SELECTIONS = 100_000;
    private static final long ONE_OFF_BYTES = 64 * 1024;

    private static List<Backend> backends(int count, boolean weighted) {
        List<Backend> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(Backend.of(new InetSocketAddress("10.1." + (i / 250) + "." + (i % 250 + 1), 80), weighted ? 1 + i % 5 : 1));
        }
        return out;
    }

    private static long allocatedBytes(Runnable work) {
        java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        assumeTrue(bean instanceof com.sun.management.ThreadMXBean, "needs HotSpot's allocation counter");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) bean;
        assumeTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled());
        long id = Thread.currentThread().getId();
        work.run(); // warm-up: lazy rebuilds, class initialisation, the per-thread scratch
        long before = threads.getThreadAllocatedBytes(id);
        work.run();
        return threads.getThreadAllocatedBytes(id) - before;
    }

    private static void assertAllocationFree(LoadBalancer<?> lb, BiPredicate<Backend, Boolean> accept, int maxIterations) {
        long bytes = allocatedBytes(() -> {
            for (int i = 0; i < SELECTIONS; i++) {
                lb.selectWithOrNull(LoadBalancer.NO_KEY, maxIterations, accept);
            }
        });
        assertTrue(bytes < ONE_OFF_BYTES, lb.algorithm() + " allocated " + bytes + " bytes in " + SELECTIONS + " selections");
    }

    @Test
    void smoothWeightedRoundRobinAllocatesNothing() {
        LoadBalancer<RoundRobin> lb = LoadBalancer.fromBackends(RoundRobin.create(), Backends.staticSet(backends(10, true)));
        assertAllocationFree(lb, (b, ready) -> ready, 16);
    }

    @Test
    void weightedRandomWithFallbacksAllocatesNothing() {
        List<Backend> all = backends(10, true);
        Backend rejected = all.get(3);
        LoadBalancer<Random> lb = LoadBalancer.fromBackends(Random.create(), Backends.staticSet(all));
        assertAllocationFree(lb, (b, ready) -> ready && b != rejected, 16);
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"fnv", "ketama", "maglev", "least-connections", "peak-ewma"})
    void everyAlgorithmSelectsWithoutAllocating(String name) {
        for (int size : new int[] {10, 1_000}) {
            LoadBalancer<dev.relay.core.SelectionAlgorithm> lb = LoadBalancer.fromBackends(
                    SelectionAlgorithms.forName(name), Backends.staticSet(backends(size, true)));
            byte[][] keys = new byte[64][];
            for (int i = 0; i < keys.length; i++) {
                keys[i] = ("/key/" + i).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            }
            Backend rejected = lb.selectOrNull(keys[0], 4);
            BiPredicate<Backend, Boolean> accept = (b, ready) -> ready && b != rejected; // one instance: a lambda per call would allocate
            long bytes = allocatedBytes(() -> {
                for (int i = 0; i < SELECTIONS; i++) {
                    lb.selectWithOrNull(keys[i & 63], 16, accept);
                }
            });
            assertTrue(bytes < ONE_OFF_BYTES, name + " at " + size + " allocated " + bytes + " bytes in " + SELECTIONS + " selections");
        }
    }

    @Test
    void theObserverAllocatesNothing() {
        List<Backend> all = backends(100, true);
        LoadBalancer<PeakEwma> lb = LoadBalancer.builder(PeakEwma.create()).staticBackends(all)
                .outlierDetection(OutlierDetection.builder().consecutiveFailures(0).failureRatePercent(0).build()).build();
        dev.relay.core.HttpPeer[] peers = new dev.relay.core.HttpPeer[all.size()];
        for (int i = 0; i < peers.length; i++) {
            peers[i] = dev.relay.core.HttpPeer.plain(all.get(i));
        }
        dev.relay.core.UpstreamObserver observer = lb.observer();
        long bytes = allocatedBytes(() -> {
            for (int i = 0; i < SELECTIONS; i++) {
                dev.relay.core.HttpPeer peer = peers[i % peers.length];
                observer.onAttemptStart(peer);
                observer.onAttemptEnd(peer, (i & 7) == 0 ? dev.relay.core.AttemptOutcome.SERVER_ERROR : dev.relay.core.AttemptOutcome.SUCCESS, 1_000_000L + i);
            }
        });
        assertTrue(bytes < ONE_OFF_BYTES, "observer allocated " + bytes + " bytes in " + SELECTIONS + " attempts");
    }

    @Test
    void dedupBeyondSixtyFourBackendsAllocatesNothing() {
        List<Backend> all = backends(300, false);
        LoadBalancer<RoundRobin> lb = LoadBalancer.fromBackends(RoundRobin.create(), Backends.staticSet(all));
        Backend last = all.get(299);
        // Every selection walks many backends before the one accepted, most of them above index 63.
        long bytes = allocatedBytes(() -> {
            for (int i = 0; i < SELECTIONS / 100; i++) {
                lb.selectWithOrNull(LoadBalancer.NO_KEY, 600, (b, ready) -> b == last);
            }
        });
        assertTrue(bytes < ONE_OFF_BYTES, "allocated " + bytes + " bytes");
    }
}
