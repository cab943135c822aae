package dev.relay.lb;

import dev.relay.core.Backend;
import dev.relay.core.BackendSelector;
import dev.relay.core.SelectionAlgorithm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
class LoadBalancerTest {
    static final byte[] KEY = LoadBalancer.NO_KEY;

    static Backend backend(int lastOctet) {
        return Backend.of(new InetSocketAddress("127.0.0." + lastOctet, 8080));
    }

    static List<Backend> backends(int count) {
        List<Backend> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(Backend.of(new InetSocketAddress("10.0." + (i / 250) + "." + (i % 250 + 1), 80)));
        }
        return out;
    }

    @Test
    void selectSkipsADisabledBackend() {
        LoadBalancer<RoundRobin> lb = LoadBalancer.roundRobin("127.0.0.1:8080", "127.0.0.2:8080", "127.0.0.3:8080");
        assertTrue(lb.backends().setEnabled(backend(2), false));

        for (int i = 0; i < 30; i++) {
            Backend picked = lb.selectOrNull(KEY, 10);
            assertTrue(picked.equals(backend(1)) || picked.equals(backend(3)), "picked " + picked);
        }
        assertFalse(lb.backends().ready(backend(2)));
        assertTrue(lb.backends().isHealthy(backend(2)));
    }

    @Test
    void selectFindsNothingWhenEveryBackendIsDisabled() {
        LoadBalancer<RoundRobin> lb = LoadBalancer.roundRobin("127.0.0.1:8080", "127.0.0.2:8080");
        lb.backends().setEnabled(backend(1), false);
        lb.backends().setEnabled(backend(2), false);

        assertTrue(lb.select(KEY, 100).isEmpty());
        // selectWith still offers them, flagged as not ready, so a caller may ignore readiness.
        assertEquals(backend(1), lb.selectWith(KEY, 100, (b, ready) -> !ready).orElseThrow());
    }

    @Test
    void reEnabledBackendIsSelectedAgain() {
        LoadBalancer<RoundRobin> lb = LoadBalancer.roundRobin("127.0.0.1:8080", "127.0.0.2:8080");
        lb.backends().setEnabled(backend(2), false);
        lb.backends().setEnabled(backend(2), true);

        Set<Backend> seen = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            seen.add(lb.selectOrNull(KEY, 1));
        }
        assertEquals(Set.of(backend(1), backend(2)), seen);
    }

    @Test
    void selectWithSkipsARejectedBackend() {
        LoadBalancer<RoundRobin> lb = LoadBalancer.roundRobin("127.0.0.1:8080", "127.0.0.2:8080", "127.0.0.3:8080");
        for (int i = 0; i < 30; i++) {
            Backend picked = lb.selectWith(KEY, 10, (b, ready) -> !b.equals(backend(1))).orElseThrow();
            assertFalse(picked.equals(backend(1)));
        }
    }

    @Test
    void selectWithOffersEachBackendAtMostOnce() {
        List<Backend> all = backends(3);
        LoadBalancer<RoundRobin> lb = LoadBalancer.fromBackends(RoundRobin.create(), Backends.staticSet(all));
        List<Backend> offered = new ArrayList<>();

        assertNull(lb.selectWithOrNull(KEY, 1_000, (b, ready) -> {
            offered.add(b);
            return false;
        }));
        assertEquals(3, offered.size());
        assertEquals(Set.copyOf(all), Set.copyOf(offered));
    }

    @Test
    void selectWithOffersEachOfManyBackendsAtMostOnceBeyondTheBitmask() {
        List<Backend> all = backends(300);
        LoadBalancer<Random> lb = LoadBalancer.fromBackends(Random.create(), Backends.staticSet(all));
        for (int round = 0; round < 3; round++) {
            List<Backend> offered = new ArrayList<>();
            assertNull(lb.selectWithOrNull(KEY, 600, (b, ready) -> {
                offered.add(b);
                return false;
            }));
            assertEquals(300, offered.size(), "2 x size iterations reach every backend, once each");
            assertEquals(300, Set.copyOf(offered).size());
        }
    }

    @Test
    void selectionStartedInsideAnAcceptCallbackDoesNotDisturbTheOuterOne() {
        List<Backend> all = backends(200);
        LoadBalancer<Random> lb = LoadBalancer.fromBackends(Random.create(), Backends.staticSet(all));
        List<Backend> offered = new ArrayList<>();

        assertNull(lb.selectWithOrNull(KEY, 400, (b, ready) -> {
            offered.add(b);
            lb.selectWithOrNull(KEY, 400, (inner, innerReady) -> false);
            return false;
        }));
        assertEquals(200, Set.copyOf(offered).size());
        assertEquals(200, offered.size());
    }

    @Test
    void maxIterationsBoundsThePicksIncludingRepeats() {
        AtomicInteger picks = new AtomicInteger();
        SelectionAlgorithm alwaysTheFirst = backends -> new BackendSelector() {
            @Override
            public int size() {
                return backends.size();
            }

            @Override
            public Backend backend(int index) {
                return backends.get(index);
            }

            @Override
            public int first(byte[] key) {
                picks.incrementAndGet();
                return 0;
            }

            @Override
            public int next(byte[] key, int previous, int attempt) {
                picks.incrementAndGet();
                return 0;
            }
        };
        LoadBalancer<SelectionAlgorithm> lb = LoadBalancer.fromBackends(alwaysTheFirst, Backends.staticSet(backends(3)));
        AtomicInteger offers = new AtomicInteger();

        assertNull(lb.selectWithOrNull(KEY, 7, (b, ready) -> {
            offers.incrementAndGet();
            return false;
        }));
        assertEquals(7, picks.get());
        assertEquals(1, offers.get());
    }

    @Test
    void stopsOnceEveryBackendWasOfferedAndRejected() {
        AtomicInteger picks = new AtomicInteger();
        SelectionAlgorithm counting = backends -> {
            BackendSelector inner = Random.create().build(backends);
            return new BackendSelector() {
                @Override
                public int size() {
                    return inner.size();
                }

                @Override
                public Backend backend(int index) {
                    return inner.backend(index);
                }

                @Override
                public int first(byte[] key) {
                    picks.incrementAndGet();
                    return inner.first(key);
                }

                @Override
                public int next(byte[] key, int previous, int attempt) {
                    picks.incrementAndGet();
                    return inner.next(key, previous, attempt);
                }
            };
        };
        LoadBalancer<SelectionAlgorithm> lb = LoadBalancer.fromBackends(counting, Backends.staticSet(backends(3)));

        assertNull(lb.selectWithOrNull(KEY, 1_000, (b, ready) -> false));
        assertTrue(picks.get() <= 6, "picks: " + picks.get());
    }

    @Test
    void maxIterationsLimitsHowManyBackendsAreTried() {
        LoadBalancer<RoundRobin> lb = LoadBalancer.fromBackends(RoundRobin.create(), Backends.staticSet(backends(10)));
        AtomicInteger offers = new AtomicInteger();

        assertNull(lb.selectWithOrNull(KEY, 3, (b, ready) -> offers.incrementAndGet() < 0));
        assertEquals(3, offers.get());
        assertTrue(lb.select(KEY, 0).isEmpty());
        assertThrows(IllegalArgumentException.class, () -> lb.select(KEY, -1));
    }

    @Test
    void tryFromIterableRejectsMalformedEntriesNamingThem() {
        for (String bad : List.of("no-port", "host:", ":80", "1.2.3.4:99999", "1.2.3.4:http", "::1:80", " ")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> LoadBalancer.tryFromIterable(RoundRobin.create(), List.of("127.0.0.1:80", bad)));
            assertTrue(e.getMessage().startsWith("addresses[1]: "), e.getMessage());
            assertTrue(e.getMessage().contains(bad.isBlank() ? "'" : bad), e.getMessage());
        }
        IllegalArgumentException nullEntry = assertThrows(IllegalArgumentException.class,
                () -> LoadBalancer.tryFromIterable(RoundRobin.create(), "127.0.0.1:80", null));
        assertTrue(nullEntry.getMessage().startsWith("addresses[1]: null"), nullEntry.getMessage());
    }

    @Test
    void tryFromIterableRejectsAHostThatDoesNotResolve() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LoadBalancer.tryFromIterable(RoundRobin.create(), "no-such-host.invalid:80"));
        assertTrue(e.getMessage().contains("addresses[0]: 'no-such-host.invalid:80'"), e.getMessage());
    }

    @Test
    void tryFromIterableParsesLiteralsAndResolvesNames() {
        LoadBalancer<RoundRobin> lb = LoadBalancer.tryFromIterable(RoundRobin.create(),
                List.of("[::1]:8443", "127.0.0.1:8080", "localhost:9090", "127.0.0.1:8080"));
        List<Backend> list = lb.backends().list();

        assertEquals(backend(1), list.get(0), "IPv4 sorts first, duplicates collapse");
        assertTrue(list.contains(Backend.parse("[::1]:8443")));
        List<Backend> fromName = list.stream().filter(b -> b.address().getPort() == 9090).toList();
        assertFalse(fromName.isEmpty());
        for (Backend b : fromName) {
            assertFalse(b.address().isUnresolved());
            assertTrue(b.address().getAddress().isLoopbackAddress());
        }
        assertSame(RoundRobin.create(), lb.algorithm());
    }

    @Test
    void updateKeepsTheEnabledStateOfSurvivingBackends() {
        Backends backends = Backends.staticSet(List.of(backend(1), backend(2), backend(3)));
        LoadBalancer<RoundRobin> lb = LoadBalancer.fromBackends(RoundRobin.create(), backends);
        backends.setEnabled(backend(2), false);
        backends.setEnabled(backend(3), false);

        assertTrue(backends.update(List.of(backend(2), backend(4))));

        assertEquals(List.of(backend(2), backend(4)), backends.list());
        assertFalse(backends.isEnabled(backend(2)), "survivor keeps its drain");
        assertTrue(backends.isEnabled(backend(4)), "newcomer starts enabled");
        assertFalse(backends.contains(backend(3)));
        assertFalse(backends.setEnabled(backend(3), true), "a removed backend cannot be enabled");
        for (int i = 0; i < 10; i++) {
            assertEquals(backend(4), lb.selectOrNull(KEY, 4));
        }
    }

    @Test
    void updateWithTheSameSetChangesNothing() {
        Backends backends = Backends.staticSet(List.of(backend(1), backend(2)));
        assertFalse(backends.update(List.of(backend(2), backend(1), backend(2))));
        assertTrue(backends.update(List.of(backend(1).withMetadata(Map.of("sni", "a.example")), backend(2))),
                "a metadata change reaches the selector");
        assertEquals(Map.of("sni", "a.example"), backends.list().get(0).metadata());
    }

    @Test
    void updateRunsDiscoveryAndSwapsTheSelector() {
        AtomicReference<List<Backend>> discovered = new AtomicReference<>(List.of());
        ServiceDiscovery discovery = () -> CompletableFuture.completedFuture(discovered.get());
        LoadBalancer<RoundRobin> lb = LoadBalancer.fromBackends(RoundRobin.create(), Backends.of(discovery));
        assertNull(lb.selectOrNull(KEY, 4));

        discovered.set(List.of(backend(7)));
        assertTrue(lb.update().toCompletableFuture().join());
        assertEquals(backend(7), lb.selectOrNull(KEY, 4));

        assertFalse(lb.update().toCompletableFuture().join());
    }

    @Test
    void failedDiscoveryLeavesTheSetAsItWas() {
        AtomicReference<CompletionStage<List<Backend>>> answer =
                new AtomicReference<>(CompletableFuture.completedFuture(List.of(backend(1))));
        Backends backends = Backends.of(() -> answer.get());
        backends.update().toCompletableFuture().join();

        answer.set(CompletableFuture.failedFuture(new IllegalStateException("dns down")));
        assertTrue(backends.update().toCompletableFuture().isCompletedExceptionally());
        assertEquals(List.of(backend(1)), backends.list());
    }

    @Test
    void staticUpdateBecomesTheStaticList() {
        Backends backends = Backends.staticSet(List.of(backend(1)));
        backends.update(List.of(backend(2)));

        assertFalse(backends.update().toCompletableFuture().join(), "re-running static discovery keeps the new list");
        assertEquals(List.of(backend(2)), backends.list());
    }

    @Test
    void unknownBackendCountsAsReadyWithoutAHealthCheck() {
        Backends backends = Backends.staticSet(List.of(backend(1)));
        assertTrue(backends.ready(backend(9)));
        assertFalse(backends.isEnabled(backend(9)));
    }

    @Test
    void backendsAreKeptInCanonicalOrder() {
        Backend named = Backend.parse("origin.internal:80");
        Backends backends = Backends.staticSet(List.of(named, Backend.parse("10.0.0.10:80"),
                Backend.parse("[::1]:80"), Backend.parse("10.0.0.9:80"), Backend.parse("10.0.0.9:79")));

        assertEquals(List.of(Backend.parse("10.0.0.9:79"), Backend.parse("10.0.0.9:80"), Backend.parse("10.0.0.10:80"),
                Backend.parse("[::1]:80"), named), backends.list());
    }

    @Test
    void loadBalancersSharingABackendSetSeeEachUpdate() {
        Backends backends = Backends.staticSet(List.of(backend(1)));
        LoadBalancer<RoundRobin> first = LoadBalancer.fromBackends(RoundRobin.create(), backends);
        LoadBalancer<Random> second = LoadBalancer.fromBackends(Random.create(), backends);

        backends.update(List.of(backend(2)));

        assertEquals(backend(2), first.selectOrNull(KEY, 2));
        assertEquals(backend(2), second.selectOrNull(KEY, 2));
    }
}
