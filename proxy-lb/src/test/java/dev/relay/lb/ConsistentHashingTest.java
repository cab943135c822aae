package dev.relay.lb;

import dev.relay.core.Backend;
import dev.relay.core.BackendSelector;
import dev.relay.core.SelectionAlgorithm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Consistent hashes move only about {@code 1/n} of the keys when one of {@code n} backends is added
 * or removed. Ketama moves exactly the removed backend's keys (and on an addition only keys that
 * now go to the new backend); Maglev moves at most a little more than the changed share (the
 * paper's "minimal disruption" is approximate): we allow 1.5 times it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConsistentHashingTest {
    private static final int KEYS = 100_000;
    private static final int N = 20;

    private static Backend[] picks(SelectionAlgorithm algorithm, List<Backend> backends) {
        BackendSelector selector = algorithm.build(backends);
        Backend[] out = new Backend[KEYS];
        for (int k = 0; k < KEYS; k++) {
            out[k] = selector.backend(selector.first(TestBackends.key(k)));
        }
        return out;
    }

    private static int moved(Backend[] before, Backend[] after) {
        int moved = 0;
        for (int k = 0; k < KEYS; k++) {
            if (!before[k].equals(after[k])) {
                moved++;
            }
        }
        return moved;
    }

    @ParameterizedTest
    @ValueSource(strings = {"ketama", "maglev"})
    void removingABackendMovesAboutItsShare(String name) {
        SelectionAlgorithm algorithm = SelectionAlgorithms.forName(name);
        List<Backend> all = TestBackends.of(N);
        Backend removed = all.get(7);
        List<Backend> fewer = new ArrayList<>(all);
        fewer.remove(removed);

        Backend[] before = picks(algorithm, all);
        Backend[] after = picks(algorithm, fewer);

        int moved = moved(before, after);
        int share = 0;
        for (Backend b : before) {
            if (b.equals(removed)) {
                share++;
            }
        }
        assertTrue(moved >= share, "every key of the removed backend moves");
        double limit = name.equals("ketama") ? 1.0 : 1.5;
        assertTrue(moved <= share * limit, name + " moved " + moved + " keys; the removed backend had " + share);
        assertEquals(1.0 / N, moved / (double) KEYS, 0.5 / N, name + " moved fraction");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ketama", "maglev"})
    void addingABackendMovesAboutItsShare(String name) {
        SelectionAlgorithm algorithm = SelectionAlgorithms.forName(name);
        List<Backend> all = TestBackends.of(N + 1);
        Backend added = all.get(N);
        List<Backend> fewer = all.subList(0, N);

        Backend[] before = picks(algorithm, fewer);
        Backend[] after = picks(algorithm, all);

        int moved = moved(before, after);
        int toNew = 0;
        for (Backend b : after) {
            if (b.equals(added)) {
                toNew++;
            }
        }
        if (name.equals("ketama")) {
            assertEquals(toNew, moved, "Ketama moves only the keys that the new backend takes");
        } else {
            assertTrue(moved <= toNew * 1.5, "Maglev moved " + moved + "; the new backend took " + toNew);
        }
        assertEquals(1.0 / (N + 1), moved / (double) KEYS, 0.5 / (N + 1), name + " moved fraction");
    }

    @Test
    void fnvIsNotConsistentButStable() {
        List<Backend> all = TestBackends.of(N);
        Backend[] before = picks(FnvHash.create(), all);
        assertEquals(0, moved(before, picks(FnvHash.create(), all)), "same set, same picks");
        List<Backend> fewer = new ArrayList<>(all);
        fewer.remove(3);
        assertTrue(moved(before, picks(FnvHash.create(), fewer)) > KEYS / 2, "a modulo hash remaps most keys");
    }

    @Test
    void picksDoNotDependOnDiscoveryOrder() {
        List<Backend> all = TestBackends.of(N, 1, 2, 3);
        List<Backend> reversed = new ArrayList<>(all);
        java.util.Collections.reverse(reversed);
        for (SelectionAlgorithm algorithm : List.of(Ketama.create(), Maglev.create(), FnvHash.create())) {
            LoadBalancer<SelectionAlgorithm> a = LoadBalancer.fromBackends(algorithm, Backends.staticSet(all));
            LoadBalancer<SelectionAlgorithm> b = LoadBalancer.fromBackends(algorithm, Backends.staticSet(reversed));
            for (int k = 0; k < 2_000; k++) {
                assertEquals(a.selectOrNull(TestBackends.key(k), 4), b.selectOrNull(TestBackends.key(k), 4), algorithm + " key " + k);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"fnv", "ketama", "maglev"})
    void fallbackIsDeterministicPerKeyAndReachesEveryBackend(String name) {
        List<Backend> all = TestBackends.of(12, 1, 2);
        LoadBalancer<SelectionAlgorithm> lb = LoadBalancer.fromBackends(SelectionAlgorithms.forName(name), Backends.staticSet(all));
        for (int k = 0; k < 200; k++) {
            byte[] key = TestBackends.key(k);
            Backend first = lb.selectOrNull(key, 1);
            // The first choice is down: the fallback is the same every time for the key.
            Backend second = lb.selectWithOrNull(key, 1_000, (b, ready) -> !b.equals(first));
            assertEquals(second, lb.selectWithOrNull(key, 1_000, (b, ready) -> !b.equals(first)));
            assertTrue(!second.equals(first));
            Set<Backend> offered = new HashSet<>();
            lb.selectWithOrNull(key, 10_000, (b, ready) -> {
                offered.add(b);
                return false;
            });
            assertEquals(12, offered.size(), name + " offers every backend once the others are rejected");
        }
    }

    @Test
    void ketamaFallbackWalksTheRingLikeNginx() {
        List<Backend> all = TestBackends.of(5);
        BackendSelector selector = Ketama.create().build(all);
        byte[] key = TestBackends.key(1);
        int first = selector.first(key);
        // Pick k after the first is the owner of the k-th next ring point; over a lap it meets every backend.
        Set<Integer> lap = new HashSet<>();
        lap.add(first);
        int points = ((dev.relay.lb.internal.KetamaSelector) selector).points();
        assertEquals(5 * 160, points);
        for (int attempt = 1; attempt < points; attempt++) {
            lap.add(selector.next(key, -1, attempt));
        }
        assertEquals(5, lap.size());
        assertEquals(-1, selector.next(key, first, points), "one lap at most");
    }
}
