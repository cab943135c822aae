package dev.relay.lb;

import dev.relay.core.Backend;
import dev.relay.lb.internal.BackendSet;
import dev.relay.lb.internal.BackendState;
import dev.relay.lb.internal.StaticDiscovery;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;

import static java.util.Objects.requireNonNull;

/**
 * A set of backends, as a {@link ServiceDiscovery} last reported it, with the administrative
 * (enabled/drained) and health state of each.
 *
 * <p>The set is an immutable snapshot held in one atomic reference: readers never lock, an update
 * builds a new snapshot and swaps it. A backend that survives an update keeps its state; a new one
 * starts enabled and healthy (Pingora's rule). {@link #ready} is healthy (active health checks),
 * enabled ({@link #setEnabled}, administrative drain) and not ejected (passive health); the three
 * are independent: re-enabling a drained backend does not make an unhealthy one healthy.
 *
 * <pre>{@code
 * Backends backends = Backends.staticSet(List.of(Backend.parse("10.0.0.1:80"), Backend.parse("10.0.0.2:80")));
 * backends.setEnabled(Backend.parse("10.0.0.2:80"), false); // drain for maintenance
 * }</pre>
 */
public final class Backends {
    private final ServiceDiscovery discovery;
    private final AtomicReference<BackendSet> snapshot = new AtomicReference<>(BackendSet.EMPTY);

    private Backends(ServiceDiscovery discovery) {
        this.discovery = requireNonNull(discovery, "discovery");
    }

    /** A set of exactly {@code backends} (static discovery), populated immediately. */
    public static Backends staticSet(Collection<Backend> backends) {
        StaticDiscovery discovery = new StaticDiscovery(backends);
        Backends set = new Backends(discovery);
        set.apply(discovery.current());
        return set;
    }

    /** An empty set fed by {@code discovery}; call {@link #update()} to populate it. */
    public static Backends of(ServiceDiscovery discovery) {
        return new Backends(discovery);
    }

    /** Where the backends come from. */
    public ServiceDiscovery discovery() {
        return discovery;
    }

    /**
     * The backends of the current snapshot, immutable, in canonical order (resolved addresses
     * by address bytes, then host names; then port and weight), whatever order discovery used.
     */
    public List<Backend> list() {
        return snapshot.get().list();
    }

    /** The number of backends in the current snapshot. */
    public int size() {
        return snapshot.get().size();
    }

    /** Whether {@code backend} is in the current snapshot. */
    public boolean contains(Backend backend) {
        return snapshot.get().stateOf(requireNonNull(backend, "backend")) != null;
    }

    /**
     * Whether {@code backend} may take traffic: healthy, enabled and not ejected. A backend this set
     * does not know counts as ready (Pingora's rule; it also covers a selector racing with an update).
     */
    public boolean ready(Backend backend) {
        BackendState state = snapshot.get().stateOf(requireNonNull(backend, "backend"));
        return state == null || state.isReady();
    }

    /** Whether {@code backend} is enabled; {@code false} when it is not in the set. */
    public boolean isEnabled(Backend backend) {
        BackendState state = snapshot.get().stateOf(requireNonNull(backend, "backend"));
        return state != null && state.isEnabled();
    }

    /** Whether {@code backend} is ejected by passive health right now; {@code false} when it is not in the set. */
    public boolean isEjected(Backend backend) {
        BackendState state = snapshot.get().stateOf(requireNonNull(backend, "backend"));
        return state != null && state.ejection() == BackendState.EJECTED;
    }

    /** Requests in flight to {@code backend} as reported to a load balancer's observer; 0 when it is not in the set. */
    public int inFlight(Backend backend) {
        BackendState state = snapshot.get().stateOf(requireNonNull(backend, "backend"));
        return state == null ? 0 : state.inFlight();
    }

    /** Whether {@code backend} is healthy (active health checks); {@code false} when it is not in the set. */
    public boolean isHealthy(Backend backend) {
        BackendState state = snapshot.get().stateOf(requireNonNull(backend, "backend"));
        return state != null && state.isHealthy();
    }

    /**
     * Drains ({@code false}) or re-enables {@code backend} without touching its health; the state
     * survives updates for as long as the backend stays in the set.
     *
     * @return whether the backend is in the set (nothing happens otherwise)
     */
    public boolean setEnabled(Backend backend, boolean enabled) {
        BackendState state = snapshot.get().stateOf(requireNonNull(backend, "backend"));
        if (state == null) {
            return false;
        }
        state.setEnabled(enabled);
        return true;
    }

    /**
     * Runs discovery and applies its result.
     *
     * @return a stage holding whether the set changed; it fails when discovery fails, or finds no
     *     backend while the set has some, leaving the set as it was
     */
    public CompletionStage<Boolean> update() {
        CompletionStage<List<Backend>> discovered;
        try {
            discovered = discovery.discover();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return discovered.thenApply(list -> {
            int current = size();
            if (list.isEmpty() && current > 0) {
                throw new IllegalStateException("discovery " + discovery + " found no backends"
                        + " (expected: at least one; keeping the " + current + " current ones)");
            }
            return apply(list);
        });
    }

    /**
     * Replaces the set with {@code backends} now, keeping the state of the surviving ones. With
     * static discovery this becomes the static list; with a dynamic discovery the next
     * {@link #update()} replaces it again.
     *
     * @return whether the set changed
     */
    public boolean update(Collection<Backend> backends) {
        requireNonNull(backends, "backends");
        if (discovery instanceof StaticDiscovery staticDiscovery) {
            staticDiscovery.set(backends);
        }
        return apply(backends);
    }

    private boolean apply(Collection<Backend> discovered) {
        for (;;) {
            BackendSet previous = snapshot.get();
            BackendSet next = BackendSet.derive(previous, discovered);
            if (next == previous) {
                return false;
            }
            if (snapshot.compareAndSet(previous, next)) {
                return true;
            }
        }
    }

    /** The current snapshot; its indexes address backends and their states directly. */
    BackendSet snapshot() {
        return snapshot.get();
    }

    @Override
    public String toString() {
        return "Backends" + snapshot.get();
    }
}
