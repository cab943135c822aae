package dev.relay.lb;

import dev.relay.core.Backend;
import dev.relay.core.SelectionAlgorithm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every algorithm honours weights: over many selections (many keys for the hashing ones; an idle
 * set for the load-aware ones) each backend's share is its share of the total weight, within the
 * tolerance stated per algorithm.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SelectionDistributionTest {
    private static final int PICKS = 200_000;

    /** Backend {@code i}'s share of picks divided by its share of weight, for every backend. */
    private static double[] ratios(SelectionAlgorithm algorithm, List<Backend> backends, boolean keyed) {
        LoadBalancer<SelectionAlgorithm> lb = LoadBalancer.fromBackends(algorithm, Backends.staticSet(backends));
        List<Backend> order = lb.backends().list();
        int[] counts = new int[order.size()];
        for (int i = 0; i < PICKS; i++) {
            Backend b = lb.selectOrNull(keyed ? TestBackends.key(i) : LoadBalancer.NO_KEY, 8);
            counts[order.indexOf(b)]++;
        }
        long total = 0;
        for (Backend b : order) {
            total += b.weight();
        }
        double[] ratios = new double[counts.length];
        for (int i = 0; i < counts.length; i++) {
            ratios[i] = (counts[i] / (double) PICKS) / (order.get(i).weight() / (double) total);
        }
        return ratios;
    }

    private static void assertWithin(double[] ratios, double tolerance, String what) {
        for (int i = 0; i < ratios.length; i++) {
            assertEquals(1.0, ratios[i], tolerance, what + ": backend " + i + " got " + ratios[i] + " of its weighted share");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"round-robin", "random", "fnv", "ketama", "maglev", "least-connections", "peak-ewma"})
    void equalWeightsSpreadEvenly(String name) {
        boolean keyed = SelectionAlgorithms.usesKey(name);
        // Ketama's 160 points per backend leave arcs uneven: about +-10% is its documented spread.
        double tolerance = name.equals("ketama") ? 0.20 : name.equals("round-robin") ? 0.001 : 0.05;
        assertWithin(ratios(SelectionAlgorithms.forName(name), TestBackends.of(8), keyed), tolerance, name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"round-robin", "random", "fnv", "ketama", "maglev", "least-connections", "peak-ewma"})
    void unequalWeightsAreHonoured(String name) {
        boolean keyed = SelectionAlgorithms.usesKey(name);
        double tolerance = name.equals("ketama") ? 0.20 : name.equals("round-robin") ? 0.001 : 0.06;
        assertWithin(ratios(SelectionAlgorithms.forName(name), TestBackends.of(6, 1, 2, 5, 1, 3, 8), keyed), tolerance, name);
    }

    @Test
    void leastConnectionsOnALargeSetSamplesByWeight() {
        double[] ratios = ratios(LeastConnections.powerOfTwoChoices(), TestBackends.of(100, 1, 4), false);
        // Per backend: at least 800 expected picks, so +-25% is over 7 standard deviations.
        assertWithin(ratios, 0.25, "two choices");
        // Per weight class (50 backends each): the heavy ones take 80% of the picks, +-1% (over 10 deviations).
        double heavy = 0;
        for (int i = 1; i < ratios.length; i += 2) {
            heavy += ratios[i] * 4 / 250.0; // a backend's share of picks is its ratio times its share of weight
        }
        assertEquals(0.8, heavy, 0.01, "share of the weight-4 backends");
    }

    @Test
    void maglevFollowsWeightsOnAThousandBackends() {
        List<Backend> backends = TestBackends.of(1_000, 1, 2);
        dev.relay.lb.internal.MaglevSelector selector = (dev.relay.lb.internal.MaglevSelector) Maglev.create().build(backends);
        // About 1,333 keys per unit of weight: +-15% is over 5 standard deviations of key sampling.
        int m = selector.tableSize();
        assertTrue(m >= 100_000, "table size " + m);
        java.util.Map<Integer, Integer> seen = new java.util.HashMap<>();
        for (int i = 0; i < 2_000_000; i++) {
            seen.merge(selector.first(TestBackends.key(i)), 1, Integer::sum);
        }
        for (int i = 0; i < backends.size(); i++) {
            double expected = 2_000_000.0 * backends.get(i).weight() / 1_500.0;
            assertEquals(expected, seen.getOrDefault(i, 0), expected * 0.15, "backend " + i);
        }
    }

    @Test
    void fnvSendsAKeyToTheSameBackendEveryTime() {
        LoadBalancer<FnvHash> lb = LoadBalancer.fromBackends(FnvHash.create(), Backends.staticSet(TestBackends.of(10, 1, 3)));
        for (int i = 0; i < 1_000; i++) {
            Backend first = lb.selectOrNull(TestBackends.key(i), 4);
            assertEquals(first, lb.selectOrNull(TestBackends.key(i), 4));
        }
    }
}
