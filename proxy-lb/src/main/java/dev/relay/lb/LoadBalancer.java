package dev.relay.lb;

import dev.relay.core.Addresses;
import dev.relay.core.Backend;
import dev.relay.core.BackendSelector;
import dev.relay.core.SelectionAlgorithm;
import dev.relay.lb.internal.BackendSet;
import dev.relay.lb.internal.SeenIndexes;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiPredicate;

import static java.util.Objects.requireNonNull;

/**
 * Picks a backend for a request: a {@link Backends} set plus the {@link BackendSelector} that the
 * algorithm {@code S} built over the set's current snapshot.
 *
 * <p>The selector is an immutable snapshot swapped through one atomic reference: {@link #update()}
 * rebuilds it when discovery changed the set, and a selection that notices a newer set than its
 * selector was built for (someone called {@link Backends#update(java.util.Collection)}) rebuilds it
 * first. Selection is lock-free and allocation-free ({@link #selectOrNull} and
 * {@link #selectWithOrNull}; the {@code Optional} variants allocate only the {@code Optional}).
 *
 * <p>A selection walks the selector's picks ({@code first}, then {@code next} after each rejected
 * one), offers each backend at most once, and gives up after {@code maxIterations} picks, counting
 * repeats: Pingora's {@code UniqueIterator}. The built-in algorithms reach every backend within
 * {@code 2 × size} picks.
 *
 * <pre>{@code
 * LoadBalancer<RoundRobin> upstreams = LoadBalancer.tryFromIterable(RoundRobin.create(), "10.0.0.1:80", "10.0.0.2:80");
 * Backend backend = upstreams.select(LoadBalancer.NO_KEY, 256).orElseThrow();
 * // a retry that avoids the backend that just failed:
 * Backend other = upstreams.selectWithOrNull(LoadBalancer.NO_KEY, 256, (b, ready) -> ready && !b.equals(backend));
 * }</pre>
 *
 * @param <S> the selection algorithm, for example {@link RoundRobin}
 */
public final class LoadBalancer<S extends SelectionAlgorithm> {
    /** The key for algorithms that ignore it (round robin, random): an empty array, safe to share. */
    public static final byte[] NO_KEY = new byte[0];

    private static final BiPredicate<Backend, Boolean> READY = (backend, ready) -> ready;

    private final S algorithm;
    private final Backends backends;
    private final AtomicReference<Selection> selection;

    private LoadBalancer(S algorithm, Backends backends) {
        this.algorithm = requireNonNull(algorithm, "algorithm");
        this.backends = requireNonNull(backends, "backends");
        BackendSet set = backends.snapshot();
        this.selection = new AtomicReference<>(new Selection(set, algorithm.build(set.list())));
    }

    /**
     * A load balancer over fixed addresses, like Pingora's {@code try_from_iter}: each entry is
     * {@code host:port} or {@code [v6]:port}; a host name is resolved now (blocking, with the JDK
     * resolver) and becomes one backend per address it resolves to. Every backend has weight 1.
     *
     * @throws IllegalArgumentException naming the entry that is not {@code host:port} or does not resolve
     */
    public static <S extends SelectionAlgorithm> LoadBalancer<S> tryFromIterable(S algorithm, Iterable<String> addresses) {
        requireNonNull(algorithm, "algorithm");
        requireNonNull(addresses, "addresses");
        List<Backend> parsed = new ArrayList<>();
        int i = 0;
        for (String entry : addresses) {
            parsed.addAll(resolve(entry, i));
            i++;
        }
        return fromBackends(algorithm, Backends.staticSet(parsed));
    }

    /** {@link #tryFromIterable(SelectionAlgorithm, Iterable)} over an array of {@code host:port}. */
    public static <S extends SelectionAlgorithm> LoadBalancer<S> tryFromIterable(S algorithm, String... addresses) {
        return tryFromIterable(algorithm, Arrays.asList(requireNonNull(addresses, "addresses")));
    }

    /** Round robin over fixed {@code host:port} addresses; see {@link #tryFromIterable(SelectionAlgorithm, Iterable)}. */
    public static LoadBalancer<RoundRobin> roundRobin(String... addresses) {
        return tryFromIterable(RoundRobin.create(), addresses);
    }

    /** Weighted random over fixed {@code host:port} addresses; see {@link #tryFromIterable(SelectionAlgorithm, Iterable)}. */
    public static LoadBalancer<Random> random(String... addresses) {
        return tryFromIterable(Random.create(), addresses);
    }

    /**
     * A load balancer over {@code backends} as they are now; with a dynamic discovery, call
     * {@link #update()} (and on a schedule) to populate and refresh them.
     */
    public static <S extends SelectionAlgorithm> LoadBalancer<S> fromBackends(S algorithm, Backends backends) {
        return new LoadBalancer<>(algorithm, backends);
    }

    /** The selection algorithm. */
    public S algorithm() {
        return algorithm;
    }

    /** The backend set, to drain backends or inspect their state. */
    public Backends backends() {
        return backends;
    }

    /**
     * Runs discovery and, when the set changed, rebuilds and swaps the selector. Discovery may
     * complete on another thread; static discovery completes at once.
     *
     * @return a stage holding whether the set changed
     */
    public CompletionStage<Boolean> update() {
        return backends.update().thenApply(changed -> {
            current();
            return changed;
        });
    }

    /**
     * The first ready (healthy and enabled) backend for {@code key}, trying at most
     * {@code maxIterations} picks; empty when none.
     *
     * @param key the hashing key, ignored by round robin and random ({@link #NO_KEY})
     */
    public Optional<Backend> select(byte[] key, int maxIterations) {
        return Optional.ofNullable(selectWithOrNull(key, maxIterations, READY));
    }

    /** {@link #select}, without the {@code Optional}: the backend, or {@code null} when none is ready. */
    public Backend selectOrNull(byte[] key, int maxIterations) {
        return selectWithOrNull(key, maxIterations, READY);
    }

    /**
     * The first backend that {@code accept} takes, trying at most {@code maxIterations} picks;
     * empty when none. {@code accept} receives each backend at most once with whether it is ready
     * (healthy and enabled), so a caller can ignore health or skip a backend that just failed.
     * It runs on the caller's thread and must not block; an exception it throws propagates.
     */
    public Optional<Backend> selectWith(byte[] key, int maxIterations, BiPredicate<? super Backend, ? super Boolean> accept) {
        return Optional.ofNullable(selectWithOrNull(key, maxIterations, accept));
    }

    /** {@link #selectWith}, without the {@code Optional}: the backend, or {@code null} when none is accepted. */
    public Backend selectWithOrNull(byte[] key, int maxIterations, BiPredicate<? super Backend, ? super Boolean> accept) {
        requireNonNull(key, "key");
        requireNonNull(accept, "accept");
        if (maxIterations < 0) {
            throw new IllegalArgumentException("maxIterations: " + maxIterations + " (expected: >= 0)");
        }
        if (maxIterations == 0) {
            return null;
        }
        Selection current = current();
        BackendSet set = current.set;
        BackendSelector selector = current.selector;
        int size = set.size();
        // Indexes below 64 are deduplicated in a bitmask held in a local; larger ones (big sets
        // only) in a reused per-thread stamp array, fetched only when such an index turns up.
        long seenLow = 0;
        SeenIndexes seenHigh = null;
        int offered = 0;
        try {
            int index = selector.first(key);
            for (int step = 1; index >= 0 && index < size; step++) {
                boolean unseen;
                if (index < 64) {
                    long bit = 1L << index;
                    unseen = (seenLow & bit) == 0;
                    seenLow |= bit;
                } else {
                    if (seenHigh == null) {
                        seenHigh = SeenIndexes.acquire(size);
                    }
                    unseen = seenHigh.add(index);
                }
                if (unseen) {
                    Backend backend = set.backend(index);
                    if (accept.test(backend, set.state(index).isReady())) {
                        return backend;
                    }
                    offered++;
                }
                // Every backend was offered and rejected: further picks could only repeat.
                if (step == maxIterations || offered == size) {
                    break;
                }
                index = selector.next(key, index, step);
            }
            return null;
        } finally {
            if (seenHigh != null) {
                seenHigh.release();
            }
        }
    }

    /** The selection for the newest backend snapshot, rebuilding it when the set moved on. */
    private Selection current() {
        Selection current = selection.get();
        BackendSet set = backends.snapshot();
        if (current.set == set) {
            return current;
        }
        return rebuild(set);
    }

    private Selection rebuild(BackendSet set) {
        Selection fresh = null;
        for (;;) {
            Selection current = selection.get();
            // Never replace a selector with one built for an older snapshot.
            if (current.set.version() >= set.version()) {
                return current;
            }
            if (fresh == null) {
                fresh = new Selection(set, algorithm.build(set.list()));
            }
            if (selection.compareAndSet(current, fresh)) {
                return fresh;
            }
        }
    }

    private static List<Backend> resolve(String entry, int i) {
        if (entry == null) {
            throw new IllegalArgumentException("addresses[" + i + "]: null (expected: host:port)");
        }
        InetSocketAddress address;
        try {
            address = Addresses.parseHostPort(entry);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("addresses[" + i + "]: " + e.getMessage(), e);
        }
        if (!address.isUnresolved()) {
            return List.of(Backend.of(address));
        }
        InetAddress[] resolved;
        try {
            resolved = InetAddress.getAllByName(address.getHostString());
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("addresses[" + i + "]: '" + entry
                    + "' (expected: a host name that resolves: " + e.getMessage() + ")", e);
        }
        List<Backend> out = new ArrayList<>(resolved.length);
        for (InetAddress ip : resolved) {
            out.add(Backend.of(new InetSocketAddress(ip, address.getPort())));
        }
        return out;
    }

    @Override
    public String toString() {
        return "LoadBalancer(" + algorithm + ", " + backends.list() + ")";
    }

    /** A backend snapshot and the selector built over it: indexes of one address the other. */
    private static final class Selection {
        final BackendSet set;
        final BackendSelector selector;

        Selection(BackendSet set, BackendSelector selector) {
            this.set = set;
            this.selector = requireNonNull(selector, "selector");
        }
    }
}
