package dev.relay.server;

import dev.relay.core.Addresses;
import dev.relay.core.StreamProxy;
import dev.relay.transport.StreamOptions;
import dev.relay.transport.StreamProxyServer;
import dev.relay.transport.TlsHandshakeCount;
import dev.relay.transport.TlsSettings;
import dev.relay.transport.TransportRuntime;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    /** The listeners, each a configured address with the TLS it terminates (null: plain TCP). */
    private final List<Map.Entry<String, @Nullable TlsSettings>> listeners = new ArrayList<>();
    /** Listening sockets handed over by the previous process, by bound address, until start adopts them. */
    private final Map<InetSocketAddress, Integer> inherited = new LinkedHashMap<>();
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
     * @throws IllegalArgumentException when the address is not {@code host:port}, or another listener of
     *         this service has the same address with a fixed port
     * @throws IllegalStateException    when the service has started
     */
    public synchronized StreamProxyService addTcp(String address) {
        return addListener("addTcp", address, null);
    }

    /**
     * Adds a listener on {@code address} that terminates TLS with {@code tls} (the same settings and
     * behaviour as an HTTP listener's, without ALPN) and relays the decrypted bytes; the phases see
     * the handshake's outcome in {@link dev.relay.core.StreamSession#downstreamTls()}.
     *
     * <pre>{@code
     * postgres.addTls("0.0.0.0:5433", TlsSettings.builder()
     *         .certificate(Path.of("db.pem"), Path.of("db.key"))
     *         .build());
     * }</pre>
     *
     * @throws IllegalArgumentException when the address is not {@code host:port}
     * @throws IllegalStateException    when the service has started
     */
    public synchronized StreamProxyService addTls(String address, TlsSettings tls) {
        return addListener("addTls", address, requireNonNull(tls, "tls"));
    }

    private StreamProxyService addListener(String method, String address, @Nullable TlsSettings tls) {
        if (server != null) {
            throw new IllegalStateException(method + ": service '" + name + "' has already started");
        }
        Addresses.parseHostPort(address);
        // A second listener on an ephemeral address (127.0.0.1:0 twice) is a second socket with its own
        // TLS; one on the same fixed port could never bind.
        if (Addresses.parseHostPort(address).getPort() != 0
                && listeners.stream().anyMatch(listener -> listener.getKey().equals(address))) {
            throw new IllegalArgumentException("service '" + name + "' already has a listener on '" + address + "'");
        }
        listeners.add(new java.util.AbstractMap.SimpleImmutableEntry<>(address, tls));
        return this;
    }

    /**
     * Listening sockets inherited from the process this one replaces (zero-downtime upgrade), by bound
     * address: {@link #start} adopts the one that matches each listener instead of binding it, and
     * closes the others. Call before the service starts.
     *
     * @throws IllegalStateException when the service has started
     */
    public synchronized StreamProxyService inheritListeners(Map<InetSocketAddress, Integer> sockets) {
        if (server != null) {
            throw new IllegalStateException("inheritListeners: service '" + name + "' has already started");
        }
        inherited.putAll(sockets);
        return this;
    }

    /**
     * Of the sockets inherited from the previous process, takes out of {@code sockets} (mutable) those its
     * listeners are configured for and inherits them ({@link #inheritListeners}); the others stay for the
     * next service. Call before the service starts.
     *
     * @throws IllegalStateException when the service has started
     */
    public synchronized StreamProxyService inheritListenersFrom(Map<InetSocketAddress, Integer> sockets) {
        Map<InetSocketAddress, Integer> mine = new LinkedHashMap<>();
        for (var it = sockets.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<InetSocketAddress, Integer> e = it.next();
            if (listensOn(e.getKey())) {
                mine.put(e.getKey(), e.getValue());
                it.remove();
            }
        }
        return inheritListeners(mine);
    }

    /** Whether one of this service's listeners is configured for the socket bound to {@code bound}. */
    public synchronized boolean listensOn(InetSocketAddress bound) {
        return listeners.stream().anyMatch(listener -> ListenerAddresses.matches(listener.getKey(), bound));
    }

    /**
     * The file descriptors of the listening sockets, by bound address, to hand to a new process
     * (io_uring or epoll; see {@link StreamProxyServer#listenerFileDescriptors()}); empty before start.
     */
    public Map<InetSocketAddress, Integer> listenerFileDescriptors() {
        StreamProxyServer s = server;
        return s == null ? Map.of() : s.listenerFileDescriptors();
    }

    /** TLS handshakes per listener since start (see {@link StreamProxyServer#tlsHandshakes()}); empty before. */
    public Map<java.net.SocketAddress, TlsHandshakeCount> tlsHandshakes() {
        StreamProxyServer s = server;
        return s == null ? Map.of() : s.tlsHandshakes();
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
        if (listeners.isEmpty()) {
            throw new IllegalStateException("service '" + name + "': no listener (expected: addTcp(\"host:port\") before start)");
        }
        StreamProxyServer s = StreamProxyServer.create(proxy, options, runtime);
        server = s;
        try {
            for (Map.Entry<String, @Nullable TlsSettings> listener : listeners) {
                Integer fd = ListenerAddresses.take(inherited, listener.getKey());
                if (fd != null) {
                    LOG.info("stream service '{}' listening on {} (socket taken over from the previous process)", name,
                            Addresses.format(s.adoptListener(fd, listener.getValue())));
                } else {
                    LOG.info("stream service '{}' listening on {}{}", name,
                            Addresses.format(s.bind(listener.getKey(), listener.getValue())),
                            listener.getValue() == null ? "" : " (TLS)");
                }
            }
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
        // Inherited sockets no listener wants: nobody would accept on them.
        ListenerAddresses.closeAll(inherited);
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
     * Closes the listening sockets; the relays in progress carry on (a zero-downtime upgrade: the new
     * process accepts on the same sockets now, and {@link #stop} drains these later).
     */
    public void stopAccepting() {
        StreamProxyServer s = server;
        if (s != null) {
            s.stopAccepting();
        }
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
        return "StreamProxyService{" + name + ", " + listeners.stream().map(Map.Entry::getKey).toList() + '}';
    }
}
