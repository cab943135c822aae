package dev.relay.lb;

import dev.relay.core.Addresses;
import dev.relay.core.AttemptOutcome;
import dev.relay.core.Backend;
import dev.relay.core.BackendSelector;
import dev.relay.core.HttpPeer;
import dev.relay.core.SelectionAlgorithm;
import dev.relay.core.UpstreamObserver;
import dev.relay.lb.internal.BackendSet;
import dev.relay.lb.internal.BackendState;
import dev.relay.lb.internal.DaemonThreads;
import dev.relay.lb.internal.SeenIndexes;
import org.jspecify.annotations.Nullable;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiPredicate;

import static java.util.Objects.requireNonNull;

/**
 * Picks a backend for a request: a {@link Backends} set plus the {@link BackendSelector} that the
 * algorithm {@code S} built over the set's current snapshot; and, once {@link #start() started},
 * the background work that keeps the set fresh and healthy: discovery refreshes, active health
 * checks, and passive health (outlier ejection) fed by {@link #observer()}.
 *
 * <p>The selector is an immutable snapshot swapped through one atomic reference: {@link #update()}
 * (and the background discovery) rebuilds it when discovery changed the set, and a selection that
 * notices a newer set than its selector was built for (someone called
 * {@link Backends#update(java.util.Collection)}) rebuilds it first. Selection is lock-free and
 * allocation-free ({@link #selectOrNull} and {@link #selectWithOrNull}; the {@code Optional}
 * variants allocate only the {@code Optional}).
 *
 * <p>A selection walks the selector's picks ({@code first}, then {@code next} after each rejected
 * one), offers each backend at most once, and gives up after {@code maxIterations} picks, counting
 * repeats: Pingora's {@code UniqueIterator}. Round robin, random, FNV, Maglev and the load-aware
 * algorithms reach every backend within {@code 2 × size} picks; Ketama walks its ring, about
 * {@code size × ln(size)} picks.
 *
 * <pre>{@code
 * LoadBalancer<RoundRobin> upstreams = LoadBalancer.tryFromIterable(RoundRobin.create(), "10.0.0.1:80", "10.0.0.2:80");
 * Backend backend = upstreams.select(LoadBalancer.NO_KEY, 256).orElseThrow();
 * // a retry that avoids the backend that just failed:
 * Backend other = upstreams.selectWithOrNull(LoadBalancer.NO_KEY, 256, (b, ready) -> ready && !b.equals(backend));
 *
 * // discovery, health checks and passive health, in the background:
 * LoadBalancer<Ketama> lb = LoadBalancer.builder(Ketama.create())
 *         .discovery(ServiceDiscovery.dns("api.internal", 8080))
 *         .healthCheck(HealthCheck.http("api.internal").path("/healthz").build())
 *         .healthCheckInterval(Duration.ofSeconds(5))
 *         .outlierDetection(OutlierDetection.defaults())
 *         .build();
 * lb.start().toCompletableFuture().join(); // after the first discovery
 * ProxyOptions.builder().upstreamObserver(lb.observer());
 * ...
 * lb.close();
 * }</pre>
 *
 * @param <S> the selection algorithm, for example {@link RoundRobin}
 */
public final class LoadBalancer<S extends SelectionAlgorithm> implements AutoCloseable {
    /** The key for algorithms that ignore it (round robin, random): an empty array, safe to share. */
    public static final byte[] NO_KEY = new byte[0];

    private static final System.Logger DISCOVERY_LOG = System.getLogger("dev.relay.lb.discovery");
    private static final BiPredicate<Backend, Boolean> READY = (backend, ready) -> ready;

    private final S algorithm;
    private final Backends backends;
    private final AtomicReference<Selection> selection;
    private final Ticker ticker;
    private final BackgroundTasks tasks;
    private final @Nullable Duration discoveryInterval;
    private final @Nullable HealthCheckRunner healthChecks;
    private final Duration healthCheckInterval;
    private final @Nullable OutlierDetector outliers;
    private final long latencyDecayNanos;
    private final long failurePenaltyNanos;
    private final UpstreamObserver observer = new AttemptObserver();
    private final CompletableFuture<Void> firstDiscovery = new CompletableFuture<>();
    private final AtomicBoolean started = new AtomicBoolean();

    private LoadBalancer(S algorithm, Backends backends) {
        this(new Builder<>(requireNonNull(algorithm, "algorithm")).backends(backends).defaults());
    }

    private LoadBalancer(Builder<S> b) {
        this.algorithm = requireNonNull(b.algorithm, "algorithm");
        this.backends = requireNonNull(b.backends, "backends");
        this.ticker = b.ticker;
        this.tasks = new BackgroundTasks(b.scheduler);
        this.discoveryInterval = b.discoveryInterval;
        this.healthChecks = b.healthCheck == null ? null
                : new HealthCheckRunner(b.healthCheck, b.parallelism, b.healthCheckExecutor, b.listener, tasks::isClosed);
        this.healthCheckInterval = b.healthCheckInterval;
        this.outliers = b.outlierDetection == null ? null
                : new OutlierDetector(b.outlierDetection, backends, ticker, tasks, b.listener);
        if (algorithm instanceof PeakEwma ewma) {
            this.latencyDecayNanos = ewma.decayNanos();
            this.failurePenaltyNanos = ewma.failurePenaltyNanos();
        } else {
            this.latencyDecayNanos = PeakEwma.DEFAULT_DECAY.toNanos();
            this.failurePenaltyNanos = PeakEwma.DEFAULT_FAILURE_PENALTY.toNanos();
        }
        BackendSet set = backends.snapshot();
        this.selection = new AtomicReference<>(new Selection(set, build(set)));
    }

    /**
     * A builder of a load balancer using {@code algorithm}, for discovery, health checks, passive
     * health, or an injected clock and scheduler.
     */
    public static <S extends SelectionAlgorithm> Builder<S> builder(S algorithm) {
        return new Builder<>(requireNonNull(algorithm, "algorithm"));
    }

    /**
     * A load balancer over fixed addresses, like Pingora's {@code try_from_iter}: each entry is
     * {@code host:port}, {@code [v6]:port} or {@code unix:/path/to.sock}; a host name is resolved now (blocking, with the JDK
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
    public @Nullable Backend selectOrNull(byte[] key, int maxIterations) {
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
    public @Nullable Backend selectWithOrNull(byte[] key, int maxIterations, BiPredicate<? super Backend, ? super Boolean> accept) {
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
                fresh = new Selection(set, build(set));
            }
            if (selection.compareAndSet(current, fresh)) {
                return fresh;
            }
        }
    }

    private BackendSelector build(BackendSet set) {
        if (algorithm instanceof LoadAwareAlgorithm loadAware) {
            return loadAware.build(set.list(), set.states(), ticker);
        }
        return algorithm.build(set.list());
    }

    /**
     * The observer to give the engine ({@code ProxyOptions.builder().upstreamObserver(lb.observer())}):
     * it counts each backend's requests in flight (least connections, peak EWMA), feeds latencies to
     * the peak-EWMA estimate, and outcomes to passive health when {@link Builder#outlierDetection}
     * is set. It knows a backend from {@link HttpPeer#backend()}, so peers must be made from the
     * {@link Backend} ({@link HttpPeer#plain(Backend)}, {@link HttpPeer#tls(Backend, String)} or
     * {@link HttpPeer#of(Backend, boolean, String)}); other peers are ignored. Lock-free and
     * allocation-free: safe on event loops.
     */
    public UpstreamObserver observer() {
        return observer;
    }

    /**
     * Starts the background work: runs discovery now and then again after
     * {@link ServiceDiscovery#refreshAfter()} (or the {@link Builder#discoveryInterval}); after the
     * first discovery, runs a health-check round every {@link Builder#healthCheckInterval} when a
     * check is configured. Tasks run on the builder's {@link TaskScheduler}; blocking work on the
     * discovery's and health check's executors.
     *
     * @return a stage that completes when the first discovery has ended (even when it failed: the
     *     set then is what it was, and discovery is tried again)
     * @throws IllegalStateException when already started or closed
     */
    public CompletionStage<Void> start() {
        if (tasks.isClosed()) {
            throw new IllegalStateException("start: the load balancer is closed (expected: a load balancer not yet closed)");
        }
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("start: already started (expected: one start per load balancer)");
        }
        if (healthChecks != null) {
            firstDiscovery.thenRun(this::healthRound);
        }
        discoveryRound();
        return firstDiscovery.minimalCompletionStage();
    }

    /**
     * Runs one round of health checks now (a check must be configured), independently of the
     * schedule: for an admin endpoint, or a test.
     *
     * @return a stage that completes when every backend was checked
     * @throws IllegalStateException when no health check is configured
     */
    public CompletionStage<Void> runHealthChecks() {
        if (healthChecks == null) {
            throw new IllegalStateException("healthCheck: not configured (expected: a HealthCheck on the builder)");
        }
        return healthChecks.round(backends.snapshot());
    }

    /**
     * Stops the background work: cancels every scheduled discovery, health round and ejection end,
     * and closes the health check's kept connections. A check or discovery already running finishes,
     * but its result is not applied to health. Selection keeps working on the last state. Idempotent.
     */
    @Override
    public void close() {
        if (tasks.isClosed()) {
            return;
        }
        tasks.close();
        if (healthChecks != null) {
            healthChecks.check().close();
        }
        firstDiscovery.complete(null);
    }

    /** The scheduled runs not yet started (for tests: 0 after {@link #close()}). */
    int pendingTasks() {
        return tasks.pendingCount();
    }

    private void discoveryRound() {
        if (tasks.isClosed()) {
            return;
        }
        CompletionStage<Boolean> updated;
        try {
            updated = update();
        } catch (RuntimeException e) {
            updated = CompletableFuture.failedFuture(e);
        }
        updated.whenComplete((changed, error) -> {
            if (error != null) {
                Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
                DISCOVERY_LOG.log(System.Logger.Level.WARNING, "discovery {0} failed, keeping the {1} current backends: {2}",
                        backends.discovery(), backends.size(), String.valueOf(cause));
            } else if (changed) {
                DISCOVERY_LOG.log(System.Logger.Level.INFO, "discovery {0}: backends are now {1}", backends.discovery(), backends.list());
            }
            firstDiscovery.complete(null);
            Duration next = refreshDelay();
            if (next != null) {
                tasks.schedule(this::discoveryRound, next);
            }
        });
    }

    private Duration refreshDelay() {
        try {
            return backends.discovery().refreshAfter().orElse(discoveryInterval);
        } catch (RuntimeException e) {
            DISCOVERY_LOG.log(System.Logger.Level.WARNING, "discovery " + backends.discovery() + " failed to say when to refresh", e);
            return discoveryInterval;
        }
    }

    private void healthRound() {
        if (tasks.isClosed()) {
            return;
        }
        CompletionStage<Void> round;
        try {
            round = healthChecks.round(backends.snapshot());
        } catch (RuntimeException e) {
            round = CompletableFuture.failedFuture(e);
        }
        round.whenComplete((ignored, error) -> {
            if (error != null) {
                HealthCheckRunner.LOG.log(System.Logger.Level.WARNING, "health-check round failed to run", error);
            }
            tasks.schedule(this::healthRound, healthCheckInterval);
        });
    }

    private static List<Backend> resolve(String entry, int i) {
        if (entry == null) {
            throw new IllegalArgumentException("addresses[" + i + "]: null (expected: host:port)");
        }
        if (Addresses.isUnix(entry)) {
            try {
                return List.of(Backend.parse(entry));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("addresses[" + i + "]: " + e.getMessage(), e);
            }
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

    /** Load signals and passive health from the engine's attempt reports. */
    private final class AttemptObserver implements UpstreamObserver {
        @Override
        public void onAttemptStart(HttpPeer peer) {
            Backend backend = peer.backend();
            if (backend == null) {
                return;
            }
            BackendState state = backends.snapshot().stateOf(backend);
            if (state != null) {
                state.attemptStarted();
            }
        }

        @Override
        public void onAttemptEnd(HttpPeer peer, AttemptOutcome outcome, long durationNanos) {
            Backend backend = peer.backend();
            if (backend == null) {
                return;
            }
            BackendState state = backends.snapshot().stateOf(backend);
            if (state == null) {
                return;
            }
            state.attemptEnded();
            if (outcome == AttemptOutcome.CANCELLED) {
                return;
            }
            long now = ticker.read();
            long latency = outcome == AttemptOutcome.SUCCESS ? durationNanos : Math.max(durationNanos, failurePenaltyNanos);
            state.recordLatency(latency, now, latencyDecayNanos);
            if (outliers != null) {
                outliers.record(backend, state, outcome, now);
            }
        }

        @Override
        public String toString() {
            return "observer of " + LoadBalancer.this;
        }
    }

    /**
     * Settings of a {@link LoadBalancer}. Exactly one source of backends: {@link #backends},
     * {@link #staticBackends} or {@link #discovery}.
     *
     * @param <S> the selection algorithm
     */
    public static final class Builder<S extends SelectionAlgorithm> {
        private final S algorithm;
        private @Nullable Backends backends;
        private @Nullable String backendsSetting;
        private @Nullable Duration discoveryInterval;
        private @Nullable HealthCheck healthCheck;
        private @Nullable Duration healthCheckInterval;
        private int parallelism = 1;
        private @Nullable Executor healthCheckExecutor;
        private @Nullable OutlierDetection outlierDetection;
        private HealthListener listener = HealthListener.NONE;
        private Ticker ticker = Ticker.system();
        private @Nullable TaskScheduler scheduler;

        private Builder(S algorithm) {
            this.algorithm = algorithm;
        }

        /** Selects from {@code backends} (which other load balancers may share). */
        public Builder<S> backends(Backends backends) {
            return source(requireNonNull(backends, "backends"), "backends");
        }

        /** Selects from exactly {@code backends} (static discovery). */
        public Builder<S> staticBackends(Collection<Backend> backends) {
            return source(Backends.staticSet(requireNonNull(backends, "staticBackends")), "staticBackends");
        }

        /** Selects from what {@code discovery} finds, refreshed in the background once {@linkplain LoadBalancer#start() started}. */
        public Builder<S> discovery(ServiceDiscovery discovery) {
            return source(Backends.of(requireNonNull(discovery, "discovery")), "discovery");
        }

        private Builder<S> source(Backends b, String setting) {
            if (backendsSetting != null && !backendsSetting.equals(setting)) {
                throw new IllegalStateException(setting + ": set together with " + backendsSetting
                        + " (expected: one of backends, staticBackends, discovery)");
            }
            this.backends = b;
            this.backendsSetting = setting;
            return this;
        }

        /**
         * How often to run discovery when it does not say itself ({@link ServiceDiscovery#refreshAfter()}:
         * DNS and file discovery do). Default: never again after the first run.
         */
        public Builder<S> discoveryInterval(Duration interval) {
            this.discoveryInterval = positive(interval, "discoveryInterval");
            return this;
        }

        /** Checks every backend with {@code check}, every {@link #healthCheckInterval} (default 5 s). */
        public Builder<S> healthCheck(HealthCheck check) {
            this.healthCheck = requireNonNull(check, "healthCheck");
            return this;
        }

        /** The time between the end of a health-check round and the start of the next (default 5 s). */
        public Builder<S> healthCheckInterval(Duration interval) {
            this.healthCheckInterval = positive(interval, "healthCheckInterval");
            return this;
        }

        /**
         * Whether to check the backends of a round in parallel (up to
         * {@value dev.relay.lb.internal.DaemonThreads#BLOCKING_POOL_SIZE} at once) or one after another
         * (the default, as Pingora).
         */
        public Builder<S> parallelHealthChecks(boolean parallel) {
            this.parallelism = parallel ? DaemonThreads.BLOCKING_POOL_SIZE : 1;
            return this;
        }

        /** How many backends of a round are checked at once (1: one after another). */
        public Builder<S> healthCheckParallelism(int parallelism) {
            if (parallelism < 1) {
                throw new IllegalArgumentException("healthCheckParallelism: " + parallelism + " (expected: >= 1)");
            }
            this.parallelism = parallelism;
            return this;
        }

        /**
         * Where health checks run (they block on sockets); default: a shared pool of daemon threads.
         * A direct executor ({@code Runnable::run}) runs a round on the scheduler's thread: for tests.
         */
        public Builder<S> healthCheckExecutor(Executor executor) {
            this.healthCheckExecutor = requireNonNull(executor, "healthCheckExecutor");
            return this;
        }

        /** Ejects backends from the failures {@link LoadBalancer#observer()} sees (default: no passive health). */
        public Builder<S> outlierDetection(OutlierDetection settings) {
            this.outlierDetection = requireNonNull(settings, "outlierDetection");
            return this;
        }

        /** Hears health flips, ejections and reinstatements (default: none; they are logged anyway). */
        public Builder<S> listener(HealthListener listener) {
            this.listener = requireNonNull(listener, "listener");
            return this;
        }

        /** The clock of passive health and latency decay (default {@link Ticker#system()}). */
        public Builder<S> ticker(Ticker ticker) {
            this.ticker = requireNonNull(ticker, "ticker");
            return this;
        }

        /** Where background work is scheduled (default {@link TaskScheduler#system()}). */
        public Builder<S> scheduler(TaskScheduler scheduler) {
            this.scheduler = requireNonNull(scheduler, "scheduler");
            return this;
        }

        /**
         * The load balancer, not yet started: its set is what the backends hold now (empty for a
         * discovery until {@link LoadBalancer#start()} or {@link LoadBalancer#update()}).
         *
         * @throws IllegalStateException naming the setting: no source of backends, or a health-check
         *     setting without a health check
         */
        public LoadBalancer<S> build() {
            return new LoadBalancer<>(defaults());
        }

        private Builder<S> defaults() {
            if (backends == null) {
                throw new IllegalStateException("backends: not set (expected: one of backends, staticBackends, discovery)");
            }
            if (healthCheck == null && healthCheckInterval != null) {
                throw new IllegalStateException("healthCheckInterval: set without healthCheck (expected: a HealthCheck too)");
            }
            if (healthCheck == null && healthCheckExecutor != null) {
                throw new IllegalStateException("healthCheckExecutor: set without healthCheck (expected: a HealthCheck too)");
            }
            if (healthCheckInterval == null) {
                healthCheckInterval = Duration.ofSeconds(5);
            }
            if (healthCheck != null && healthCheckExecutor == null) {
                healthCheckExecutor = DaemonThreads.blockingPool();
            }
            if (scheduler == null) {
                scheduler = TaskScheduler.system();
            }
            return this;
        }

        private static Duration positive(Duration d, String name) {
            requireNonNull(d, name);
            if (d.isZero() || d.isNegative() || d.compareTo(Duration.ofDays(1)) > 0) {
                throw new IllegalArgumentException(name + ": " + d + " (expected: > 0 and <= 1 day)");
            }
            return d;
        }
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
