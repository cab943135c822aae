package dev.relay.lb;

import dev.relay.core.Backend;
import dev.relay.core.BackendSelector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
class RandomTest {

    static Backend backend(int lastOctet, int weight) {
        return Backend.of(new InetSocketAddress("127.0.0." + lastOctet, 8080), weight);
    }

    static int[] counts(Random algorithm, List<Backend> backends, int picks) {
        LoadBalancer<Random> lb = LoadBalancer.fromBackends(algorithm, Backends.staticSet(backends));
        int[] counts = new int[backends.size()];
        for (int i = 0; i < picks; i++) {
            counts[backends.indexOf(lb.selectOrNull(LoadBalancer.NO_KEY, 4))]++;
        }
        return counts;
    }

    @Test
    void seededPicksFollowWeightsWithinOnePercent() {
        List<Backend> backends = List.of(backend(1, 1), backend(2, 2), backend(3, 7));
        int[] counts = counts(Random.withGenerator(new java.util.Random(42)), backends, 100_000);
        // Expected 10,000 / 20,000 / 70,000; one standard deviation is at most 145 picks.
        assertEquals(10_000, counts[0], 1_000);
        assertEquals(20_000, counts[1], 1_000);
        assertEquals(70_000, counts[2], 1_000);
    }

    @Test
    void threadLocalPicksFollowWeightsWithinAToleranceThatCannotFlake() {
        List<Backend> backends = List.of(backend(1, 1), backend(2, 2), backend(3, 7));
        int[] counts = counts(Random.create(), backends, 100_000);
        // +-3,000 is more than 20 standard deviations for each count.
        assertEquals(10_000, counts[0], 3_000);
        assertEquals(20_000, counts[1], 3_000);
        assertEquals(70_000, counts[2], 3_000);
    }

    @Test
    void equalWeightsAreUniform() {
        List<Backend> backends = List.of(backend(1, 1), backend(2, 1), backend(3, 1), backend(4, 1));
        int[] counts = counts(Random.withGenerator(new java.util.Random(7)), backends, 100_000);
        for (int c : counts) {
            assertEquals(25_000, c, 1_000);
        }
    }

    @Test
    void fallbackNeverRepeatsThePreviousPickAndStaysWeighted() {
        List<Backend> backends = List.of(backend(1, 8), backend(2, 1), backend(3, 3));
        BackendSelector selector = Random.withGenerator(new java.util.Random(3)).build(backends);
        int[] counts = new int[3];
        for (int i = 0; i < 40_000; i++) {
            int next = selector.next(LoadBalancer.NO_KEY, 0, 1);
            assertNotEquals(0, next);
            counts[next]++;
        }
        // Among the others, weights 1 : 3.
        assertEquals(10_000, counts[1], 600);
        assertEquals(30_000, counts[2], 600);
    }

    @Test
    void fallbackWalksTheListFromTheNthPick() {
        BackendSelector selector = Random.create().build(List.of(backend(1, 1), backend(2, 5), backend(3, 1)));
        assertEquals(2, selector.next(LoadBalancer.NO_KEY, 1, 3));
        assertEquals(0, selector.next(LoadBalancer.NO_KEY, 2, 4));
    }

    @Test
    void everyBackendIsReachableWithinTwiceTheSetSize() {
        List<Backend> backends = List.of(backend(1, 100), backend(2, 1), backend(3, 1), backend(4, 1));
        LoadBalancer<Random> lb = LoadBalancer.fromBackends(Random.create(), Backends.staticSet(backends));
        Backend onlyAcceptable = backends.get(3);
        for (int i = 0; i < 1_000; i++) {
            assertEquals(onlyAcceptable, lb.selectWithOrNull(LoadBalancer.NO_KEY, 8, (b, ready) -> b.equals(onlyAcceptable)));
        }
    }

    @Test
    void randomAlgorithmIsTheTypeParameter() {
        LoadBalancer<Random> lb = LoadBalancer.random("127.0.0.1:1", "127.0.0.2:1");
        assertTrue(lb.algorithm() instanceof Random);
    }
}
