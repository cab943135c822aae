package dev.relay.examples;

import dev.relay.core.Backend;
import dev.relay.core.BackendSelector;
import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.ProxyHttp;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.lb.Ketama;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

import static java.util.Objects.requireNonNull;

/**
 * A consistent-hash selector that skips unhealthy nodes, Pingora's {@code health_aware_selector}
 * (a {@code pingora-ketama} example): a Ketama ring over the nodes, a {@link NodeHealthRepository}
 * standing in for a health checker, and {@link HealthAwareNodeSelector#trySelect} walking the ring
 * from the key's point to the first healthy node, within {@code maxTries} ring steps. A key keeps
 * its node while that node is healthy; when it is not, only that node's keys move.
 *
 * <p>{@link #main} is Pingora's: ten nodes {@code 127.0.0.1..10:6443}, the first five healthy, three
 * tries, and five keys printed with the node each gets (some may find none in three steps). The
 * class is also a {@link ProxyHttp} that routes each request by its path with the selector, which
 * is how a proxy would use it ({@link #upstreamPeer}); {@code LoadBalancer<Ketama>} with its health
 * checks and {@code selectWith} is the ready-made form of the same thing.
 *
 * <pre>
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.HealthAwareSelectorExample
 * </pre>
 */
public final class HealthAwareSelectorExample implements ProxyHttp<Void> {
    private static final Logger LOG = LoggerFactory.getLogger(HealthAwareSelectorExample.class);

    /** Which nodes are healthy, as a health checker would record it; unknown nodes are unhealthy. Thread-safe. */
    public static final class NodeHealthRepository {
        private final Map<Backend, Boolean> nodes = new ConcurrentHashMap<>();

        /** Records the health of {@code node}. */
        public void setNodeHealth(Backend node, boolean healthy) {
            nodes.put(requireNonNull(node, "node"), healthy);
        }

        /** Whether {@code node} was last recorded healthy. */
        public boolean nodeIsHealthy(Backend node) {
            return nodes.getOrDefault(node, false);
        }
    }

    /** A Ketama ring that answers with the first healthy node for a key. Thread-safe. */
    public static final class HealthAwareNodeSelector {
        private final BackendSelector ring;
        private final int maxTries;
        private final NodeHealthRepository health;

        /**
         * A selector over {@code nodes} that looks at up to {@code maxTries} ring points per key.
         *
         * @throws IllegalArgumentException when {@code maxTries} is below 1
         */
        public HealthAwareNodeSelector(List<Backend> nodes, int maxTries, NodeHealthRepository health) {
            if (maxTries < 1) {
                throw new IllegalArgumentException("maxTries: " + maxTries + " (expected: >= 1)");
            }
            this.ring = Ketama.create().build(List.copyOf(nodes));
            this.maxTries = maxTries;
            this.health = requireNonNull(health, "health");
        }

        /** The first healthy node on the ring for {@code key}, within {@code maxTries} points; null when none. */
        public @Nullable Backend trySelect(String key) {
            byte[] hashed = key.getBytes(StandardCharsets.UTF_8);
            int index = ring.first(hashed);
            // Like Pingora's node_iter, each step is one ring point: a node may come up twice.
            for (int tries = 0; index >= 0 && tries < maxTries; tries++) {
                Backend node = ring.backend(index);
                if (health.nodeIsHealthy(node)) {
                    return node;
                }
                index = ring.next(hashed, index, tries + 1);
            }
            return null;
        }
    }

    private final HealthAwareNodeSelector selector;

    /** A proxy that sends each request to the node {@code selector} picks for its path (plain HTTP). */
    public HealthAwareSelectorExample(HealthAwareNodeSelector selector) {
        this.selector = requireNonNull(selector, "selector");
    }

    @Override
    public Void newCtx() {
        return null;
    }

    @Override
    public CompletionStage<HttpPeer> upstreamPeer(Session session, Void ctx) {
        String key = session.requestHeader().path();
        Backend node = selector.trySelect(key);
        if (node == null) {
            return Stages.failed(ProxyError.of(ErrorType.NO_PEER, ErrorSource.INTERNAL,
                    "no healthy node for " + key, null));
        }
        return CompletableFuture.completedFuture(HttpPeer.plain(node));
    }

    /** Prints which node each of five keys gets when half of ten nodes are healthy, as Pingora's example does. */
    public static void main(String[] args) {
        List<Backend> nodes = new ArrayList<>();
        NodeHealthRepository health = new NodeHealthRepository();
        for (int i = 1; i <= 10; i++) {
            Backend node = Backend.parse("127.0.0." + i + ":6443");
            nodes.add(node);
            health.setNodeHealth(node, i < 6);
        }
        HealthAwareNodeSelector selector = new HealthAwareNodeSelector(nodes, 3, health);
        for (int i = 0; i < 5; i++) {
            String key = "key_" + i;
            Backend node = selector.trySelect(key);
            if (node == null) {
                LOG.info("{}: no healthy node found!", key);
            } else {
                LOG.info("{}: {}", key, node.hostAndPort());
            }
        }
    }
}
