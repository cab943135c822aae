package dev.relay.server;

import dev.relay.core.Addresses;
import dev.relay.core.StreamProxy;
import dev.relay.transport.StreamOptions;
import dev.relay.transport.StreamProxyServer;
import dev.relay.transport.TransportRuntime;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * A {@link Service} that relays TCP connections on one or more listeners to the peers a
 * {@link StreamProxy} picks: Pingora's TCP proxy service (a {@code ServerApp} over raw bytes).
 * Configure its listeners before the server starts it.
 *
 * <pre>{@code
 * StreamProxyService postgres = Services.streamProxy(new PostgresBalancer());
 * postgres.addTcp("0.0.0.0:5432");
 * server.addService(postgres);
 * }</pre>
 */
public final class StreamProxyService implements Service {
    private static final Logger LOG = LoggerFactory.getLogger(StreamProxyService.class);

    private final String name;
    private final StreamProxy<?> proxy;
    private final StreamOptions options;
    private final List<String> addresses = new ArrayList<>();
    /** Null until the service starts; written under the lock, read without it. */
    private volatile @Nullable StreamProxyServer server;

    private StreamProxyService(String name, StreamProxy<?> proxy, StreamOptions options) {
        this.name = requireNonNull(name, "name");
        this.proxy = requireNonNull(proxy, "proxy");
        this.options = requireNonNull(options, "options");
    }

    /** A service named {@code name} (in logs) for {@code proxy} with {@code options}. */
    public static StreamProxyService create(String name, StreamProxy<?> proxy, StreamOptions options) {
        return new StreamProxyService(name, proxy, options);
    }

    /**
     * Adds a TCP listener on {@code address} ({@code host:port}; port 0 picks a free port, see
     * {@link #boundAddresses()}), bound when the server starts.
     *
     * @throws IllegalArgumentException when the address is not {@code host:port}
     * @throws IllegalStateException    when the service has started
     */
    public synchronized StreamProxyService addTcp(String address) {
        if (server != null) {
            throw new IllegalStateException("addTcp: service '" + name + "' has already started");
        }
        Addresses.parseHostPort(address);
        addresses.add(address);
        return this;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public synchronized void start(TransportRuntime runtime) {
        if (server != null) {
            throw new IllegalStateException("start: service '" + name + "' has already started");
        }
        if (addresses.isEmpty()) {
            throw new IllegalStateException("service '" + name + "': no listener (expected: addTcp(\"host:port\") before start)");
        }
        StreamProxyServer s = StreamProxyServer.create(proxy, options, runtime);
        server = s;
        try {
            for (String address : addresses) {
                LOG.info("stream service '{}' listening on {}", name, Addresses.format(s.bind(address)));
            }
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /** The addresses listened on; empty before the service starts and after it stops accepting. */
    public synchronized List<InetSocketAddress> boundAddresses() {
        return server == null ? List.of() : server.boundAddresses();
    }

    /** Client connections being relayed (or connecting) now; 0 before the service starts. */
    public int openConnections() {
        StreamProxyServer s = server;
        return s == null ? 0 : s.openConnections();
    }

    /**
     * Graceful stop: closes the listeners, lets the relays in progress finish for up to
     * {@code gracePeriod}, then closes the rest (see {@link StreamProxyServer#stop(Duration)}).
     */
    @Override
    public CompletionStage<Void> stop(Duration gracePeriod) {
        requireNonNull(gracePeriod, "gracePeriod");
        StreamProxyServer s = server;
        if (s == null) {
            return CompletableFuture.completedFuture(null);
        }
        LOG.info("stream service '{}' stopped accepting; {} connection(s) may finish within {} ms", name,
                s.openConnections(), gracePeriod.toMillis());
        return s.stop(gracePeriod).whenCompleteAsync((v, e) -> {
            s.close();
            LOG.info("stream service '{}' stopped", name);
        });
    }

    /** Immediate stop: closes the listeners and every relay. */
    @Override
    public void close() {
        StreamProxyServer s = server;
        if (s != null) {
            s.close();
        }
    }

    @Override
    public String toString() {
        return "StreamProxyService{" + name + ", " + addresses + '}';
    }
}
