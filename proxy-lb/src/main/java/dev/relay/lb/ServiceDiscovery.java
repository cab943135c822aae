package dev.relay.lb;

import dev.relay.core.Backend;
import dev.relay.lb.internal.StaticDiscovery;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Where a {@link Backends} set comes from. {@link Backends#update()} runs {@link #discover()} and
 * applies the result; the set keeps the enabled, health and load state of every backend that
 * survives. A failed discovery, or one that finds no backend while the set has some, leaves the set
 * as it was: a discovery failure never empties a working set.
 *
 * <p>Built in: {@link #staticSet static}, {@link DnsDiscovery DNS} (A/AAAA or SRV, refreshed on the
 * record TTL) and {@link FileDiscovery a watched file}. Discovery may be slow (a DNS lookup), which
 * is why it answers with a stage: an implementation that blocks must do so on its own executor,
 * never on the caller's thread. A {@link LoadBalancer} that was {@link LoadBalancer#start() started}
 * runs discovery again after {@link #refreshAfter()}, or after its configured interval.
 *
 * <pre>{@code
 * ServiceDiscovery dns = ServiceDiscovery.dns("api.internal", 8080);
 * ServiceDiscovery file = ServiceDiscovery.file(Path.of("/etc/relay/backends.txt"));
 * }</pre>
 */
public interface ServiceDiscovery {

    /** A fixed list of backends. */
    static ServiceDiscovery staticSet(Collection<Backend> backends) {
        return new StaticDiscovery(backends);
    }

    /** DNS discovery of the A and AAAA records of {@code name}, on {@code port}, with the defaults of {@link DnsDiscovery.Builder}. */
    static ServiceDiscovery dns(String name, int port) {
        return DnsDiscovery.builder(name).port(port).build();
    }

    /** The backends listed in {@code file}, one {@code host:port [weight=N]} a line, re-read every 5 seconds. */
    static ServiceDiscovery file(Path file) {
        return FileDiscovery.builder(file).build();
    }

    /**
     * The current backends (duplicates are ignored, order does not matter). A failed stage leaves
     * the set as it was.
     */
    CompletionStage<List<Backend>> discover();

    /**
     * How long until discovery should run again, as this discovery knows it (a DNS record's TTL,
     * the poll interval of a file), measured from the end of the latest {@link #discover()};
     * empty to leave it to the load balancer's configured interval (default: never again).
     */
    default Optional<Duration> refreshAfter() {
        return Optional.empty();
    }
}
