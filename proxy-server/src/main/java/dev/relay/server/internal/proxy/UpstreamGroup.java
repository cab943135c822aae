package dev.relay.server.internal.proxy;

import dev.relay.core.Backend;
import dev.relay.core.HttpPeer;
import dev.relay.lb.Backends;
import dev.relay.lb.LoadBalancer;
import dev.relay.lb.Random;
import dev.relay.lb.RoundRobin;
import dev.relay.server.internal.config.ProxyConfig.UpstreamConfig;

import java.util.HashMap;
import java.util.Map;
import java.util.function.BiPredicate;

import static java.util.Objects.requireNonNull;

/**
 * One upstream group at run time: its {@link LoadBalancer} and a ready-made {@link HttpPeer} per
 * backend (TLS, SNI, verification and timeouts from the group), so that picking a peer allocates
 * nothing. Immutable, thread-safe.
 */
public final class UpstreamGroup implements AutoCloseable {
    private final String name;
    private final LoadBalancer<?> loadBalancer;
    private final Map<Backend, HttpPeer> peers;
    private final UpstreamConfig config;
    private final int maxIterations;

    private UpstreamGroup(UpstreamConfig config) {
        this.config = requireNonNull(config, "config");
        this.name = config.name();
        Backends backends = Backends.staticSet(config.backends());
        this.loadBalancer = switch (config.selection()) {
            case ROUND_ROBIN -> LoadBalancer.fromBackends(RoundRobin.create(), backends);
            case RANDOM -> LoadBalancer.fromBackends(Random.create(), backends);
        };
        Map<Backend, HttpPeer> map = new HashMap<>();
        for (Backend backend : config.backends()) {
            map.put(backend, newPeer(backend));
        }
        this.peers = Map.copyOf(map);
        // The built-in algorithms reach every backend within 2 × size picks.
        this.maxIterations = Math.max(1, 2 * config.backends().size());
    }

    /** The group for {@code config}. */
    public static UpstreamGroup of(UpstreamConfig config) {
        return new UpstreamGroup(config);
    }

    /** The group's name. */
    public String name() {
        return name;
    }

    /** The configuration it was built from. */
    public UpstreamConfig config() {
        return config;
    }

    /** The number of backends. */
    public int size() {
        return config.backends().size();
    }

    /** The load balancer. */
    public LoadBalancer<?> loadBalancer() {
        return loadBalancer;
    }

    /**
     * The next backend that {@code accept} takes (it sees each backend once, with its readiness);
     * null when none.
     */
    public Backend select(BiPredicate<? super Backend, ? super Boolean> accept) {
        return loadBalancer.selectWithOrNull(LoadBalancer.NO_KEY, maxIterations, accept);
    }

    /** The peer for {@code backend}. */
    public HttpPeer peer(Backend backend) {
        HttpPeer peer = peers.get(backend);
        return peer != null ? peer : newPeer(backend);
    }

    /** The ready-made peers, one per configured backend. */
    public java.util.Collection<HttpPeer> peers() {
        return peers.values();
    }

    /** Stops the load balancer's background work (a group dropped by a reload); selection keeps working. */
    @Override
    public void close() {
        loadBalancer.close();
    }

    /** The {@code Host} to send upstream, or null to keep the client's. */
    public String hostHeader() {
        return config.hostHeader();
    }

    private HttpPeer newPeer(Backend backend) {
        String sni = "";
        if (config.tls()) {
            // No sni configured: present the backend's own host, as a browser would.
            sni = config.sni() != null ? config.sni() : backend.address().getHostString();
        }
        return HttpPeer.of(backend, config.tls(), sni).withOptions(config.options());
    }

    @Override
    public String toString() {
        return "UpstreamGroup{" + name + ", " + loadBalancer + '}';
    }
}
