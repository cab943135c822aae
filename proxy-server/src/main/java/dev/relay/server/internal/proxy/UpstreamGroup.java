package dev.relay.server.internal.proxy;

import dev.relay.core.Backend;
import dev.relay.core.HttpPeer;
import dev.relay.core.SelectionAlgorithm;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.lb.HashKey;
import dev.relay.lb.Ketama;
import dev.relay.lb.LoadBalancer;
import dev.relay.server.internal.config.ProxyConfig.UpstreamConfig;
import dev.relay.transport.UpstreamTls;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiPredicate;

import static java.util.Objects.requireNonNull;

/**
 * One upstream group at run time: its {@link LoadBalancer} (selection algorithm, static or
 * discovered backends, active health checks, passive health) and the {@link HttpPeer} of each
 * backend (TLS, SNI, verification and timeouts from the group).
 *
 * <p>Every peer the group makes carries the group's {@link #id()} as its
 * {@linkplain HttpPeer#groupKey() pool group} and its {@link Backend}, so the proxy's
 * {@link dev.relay.core.UpstreamObserver} finds the load balancer an attempt outcome belongs to,
 * and the load balancer finds the backend (in-flight counts, latency, passive health). Peers are
 * made once per backend and cached, so picking one allocates nothing; a discovered set that
 * changes drops the peers of backends that left.
 *
 * <p>Lifecycle: {@link #start()} runs discovery and health checks in the background (a group
 * without either has nothing to run), {@link #close()} stops them. A reload keeps a group whose
 * configuration did not change, started, with its state; it closes the groups it drops.
 * Thread-safe.
 */
public final class UpstreamGroup implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UpstreamGroup.class);
    private static final AtomicLong IDS = new AtomicLong();

    private final String name;
    private final long id;
    private final LoadBalancer<SelectionAlgorithm> loadBalancer;
    private final HashKey hashKey;
    private final boolean ringWalk;
    /** Each backend's peer, as the completed stage upstreamPeer returns: one per backend, not one per request. */
    private final ConcurrentHashMap<Backend, CompletionStage<HttpPeer>> peers = new ConcurrentHashMap<>();
    private final UpstreamConfig config;
    private final AtomicBoolean started = new AtomicBoolean();
    private volatile CompletionStage<Void> firstDiscovery = CompletableFuture.completedFuture(null);

    private UpstreamGroup(UpstreamConfig config) {
        this.config = requireNonNull(config, "config");
        this.name = config.name();
        this.id = IDS.incrementAndGet();
        SelectionAlgorithm algorithm = config.selection().algorithm();
        LoadBalancer.Builder<SelectionAlgorithm> b = LoadBalancer.builder(algorithm);
        if (config.discovery() != null) {
            b.discovery(config.discovery().create());
        } else {
            b.staticBackends(config.backends());
        }
        if (config.healthCheck() != null) {
            b.healthCheck(config.healthCheck().create())
                    .healthCheckInterval(config.healthCheck().interval())
                    .parallelHealthChecks(config.healthCheck().parallel());
        }
        if (config.outlierDetection() != null) {
            b.outlierDetection(config.outlierDetection().create());
        }
        this.loadBalancer = b.build();
        this.hashKey = config.hashKey();
        this.ringWalk = algorithm instanceof Ketama;
        for (Backend backend : config.backends()) {
            peers.put(backend, newPeer(backend));
        }
    }

    /** The group for {@code config}, not started. */
    public static UpstreamGroup of(UpstreamConfig config) {
        return new UpstreamGroup(config);
    }

    /** The group's name. */
    public String name() {
        return name;
    }

    /**
     * A number no other group of this process has: the pool group of its peers, by which an
     * attempt's outcome finds its group.
     */
    public long id() {
        return id;
    }

    /** The configuration it was built from. */
    public UpstreamConfig config() {
        return config;
    }

    /** The number of backends now (discovery may change it). */
    public int size() {
        return loadBalancer.backends().size();
    }

    /** The load balancer. */
    public LoadBalancer<?> loadBalancer() {
        return loadBalancer;
    }

    /**
     * Starts discovery and health checks. Idempotent.
     *
     * @return a stage that completes when the first discovery has ended (at once for static backends)
     */
    public CompletionStage<Void> start() {
        if (started.compareAndSet(false, true)) {
            firstDiscovery = loadBalancer.start();
            if (config.tls()) {
                // Built now, off the event loops: the first requests (after a start or an upgrade)
                // then do not wait for the TLS provider to load, and a set-up that cannot be built
                // is named at once rather than at the first request.
                UpstreamTls.prepare(config.options()).whenComplete((built, failure) -> {
                    if (failure != null) {
                        LOG.warn("upstream group '{}': its TLS context cannot be built: {}", name, failure.toString());
                    }
                });
            }
        }
        return firstDiscovery;
    }

    /**
     * Starts the group and waits up to {@code timeout} for its first discovery, so that requests do
     * not meet an empty group; a discovery that takes longer carries on in the background.
     */
    public void startAndAwaitDiscovery(Duration timeout) {
        CompletionStage<Void> first = start();
        try {
            first.toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            LOG.warn("upstream '{}': the first discovery ({}) did not end within {} ms; the group has {} backend(s) "
                    + "until it does", name, config.discovery() == null ? "static" : config.discovery().describe(),
                    timeout.toMillis(), size());
        } catch (ExecutionException e) {
            LOG.warn("upstream '{}': the first discovery failed: {}", name, String.valueOf(e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The key a hashing selection uses for the request of {@code session}; {@link LoadBalancer#NO_KEY} for the others. */
    public byte[] key(Session session) {
        return hashKey == null ? LoadBalancer.NO_KEY : hashKey.key(session);
    }

    /**
     * The next backend for {@code key} that {@code accept} takes (it sees each backend once, with its
     * readiness); null when none.
     */
    public Backend select(byte[] key, BiPredicate<? super Backend, ? super Boolean> accept) {
        return loadBalancer.selectWithOrNull(key, maxIterations(size()), accept);
    }

    /** The next backend that {@code accept} takes, for algorithms that ignore the key. */
    public Backend select(BiPredicate<? super Backend, ? super Boolean> accept) {
        return select(LoadBalancer.NO_KEY, accept);
    }

    /**
     * Picks to try before giving up: every algorithm but Ketama reaches each backend within
     * {@code 2 × size}; Ketama walks its ring, which takes about {@code size × ln(size)} picks
     * (a coupon collector), so it gets {@code 2 × size × log2(size)} and at least 64. Selection
     * stops anyway once every backend was offered.
     */
    private int maxIterations(int size) {
        if (size <= 0) {
            return 1;
        }
        if (!ringWalk) {
            return 2 * size;
        }
        int log2 = 32 - Integer.numberOfLeadingZeros(size);
        return Math.max(64, 2 * size * log2);
    }

    /** The peer for {@code backend}, made once. */
    public HttpPeer peer(Backend backend) {
        return peerStage(backend).toCompletableFuture().getNow(null);
    }

    /** The peer for {@code backend} as a completed, unmodifiable stage, made once (with the peer). */
    public CompletionStage<HttpPeer> peerStage(Backend backend) {
        CompletionStage<HttpPeer> peer = peers.get(backend);
        if (peer != null) {
            return peer;
        }
        if (config.discovery() != null && peers.size() > 2 * size() + 16) {
            // Discovery moved on: forget the peers of backends that left.
            peers.keySet().retainAll(loadBalancer.backends().list());
        }
        return peers.computeIfAbsent(backend, this::newPeer);
    }

    /** Whether {@link #start()} was called. */
    public boolean isStarted() {
        return started.get();
    }

    /**
     * Stops the load balancer's background work (a group dropped by a reload, or the server
     * stopping); selection keeps working on the last state. Idempotent.
     */
    @Override
    public void close() {
        loadBalancer.close();
    }

    /** The {@code Host} to send upstream, or null to keep the client's. */
    public String hostHeader() {
        return config.hostHeader();
    }

    private CompletionStage<HttpPeer> newPeer(Backend backend) {
        String sni = "";
        if (config.tls()) {
            // No sni configured: present the backend's own host, as a browser would (a unix socket has none).
            sni = config.sni() != null ? config.sni() : backend.isUnix() ? "" : backend.address().getHostString();
        }
        return Stages.completed(HttpPeer.of(backend, config.tls(), sni).withOptions(config.options()).withGroupKey(id));
    }

    @Override
    public String toString() {
        return "UpstreamGroup{" + name + "#" + id + ", " + loadBalancer + '}';
    }
}
