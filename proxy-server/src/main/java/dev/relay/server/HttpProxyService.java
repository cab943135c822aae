package dev.relay.server;

import dev.relay.core.Addresses;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.ProxyHttp;
import dev.relay.transport.HttpProxyServer;
import dev.relay.transport.ListenerOptions;
import dev.relay.transport.ProxyOptions;
import dev.relay.transport.TlsSettings;
import dev.relay.transport.TransportRuntime;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * A {@link Service} that runs one {@link ProxyHttp} on one or more TCP listeners: Pingora's
 * {@code http_proxy_service}. Configure it (listeners, extra modules) before the server starts it.
 *
 * <pre>{@code
 * HttpProxyService service = server.addService(HttpProxyService.create(new LoadBalancedProxy(upstreams)));
 * service.addTcp("0.0.0.0:6188");
 * }</pre>
 */
public final class HttpProxyService implements Service {
    private static final Logger LOG = LoggerFactory.getLogger(HttpProxyService.class);

    private final ProxyHttp<?> proxy;
    private final ProxyOptions options;
    private final String name;
    /** Marks the placeholder key of a second listener on an ephemeral address, until it is bound. */
    private static final String EPHEMERAL_TWIN = "#";
    private final List<String> tcpAddresses = new ArrayList<>();
    private final Map<String, ListenerOptions> listenerOptions = new LinkedHashMap<>();
    private final List<HttpModuleFactory> modules = new ArrayList<>();
    private final Map<InetSocketAddress, Integer> inherited = new LinkedHashMap<>();
    private final Map<String, SocketAddress> listening = new LinkedHashMap<>();
    /**
     * Set when this process replaces another (zero-downtime upgrade): Unix sockets that the old
     * process still listens on are taken over rather than refused.
     */
    private boolean replacingAnotherProcess;
    /** Null until the service starts. */
    private @Nullable HttpProxyServer server;
    private boolean started;

    private HttpProxyService(String name, ProxyHttp<?> proxy, ProxyOptions options) {
        this.name = requireNonNull(name, "name");
        this.proxy = requireNonNull(proxy, "proxy");
        this.options = requireNonNull(options, "options");
    }

    /** A service for {@code proxy} with the default {@link ProxyOptions}. */
    public static HttpProxyService create(ProxyHttp<?> proxy) {
        return new HttpProxyService("proxy", proxy, ProxyOptions.defaults());
    }

    /** A service for {@code proxy} with {@code options}. */
    public static HttpProxyService create(ProxyHttp<?> proxy, ProxyOptions options) {
        return new HttpProxyService("proxy", proxy, options);
    }

    /** A service named {@code name} (in logs) for {@code proxy} with {@code options}. */
    public static HttpProxyService create(String name, ProxyHttp<?> proxy, ProxyOptions options) {
        return new HttpProxyService(name, proxy, options);
    }

    /**
     * Adds a TCP listener on {@code address}: {@code host:port}, {@code [v6]:port} or {@code *:port};
     * port 0 picks a free port (see {@link #boundAddresses()}). The address is checked now and bound
     * when the server starts.
     *
     * @throws IllegalArgumentException when the address is not {@code host:port}, or another listener of
     *         this service has the same address with a fixed port (a second ephemeral one, port 0, is
     *         known by the address it gets: see {@link #listeners()})
     */
    public synchronized HttpProxyService addTcp(String address) {
        return addTcp(address, ListenerOptions.inherit());
    }

    /**
     * Like {@link #addTcp(String)}, with this listener's own client timeouts (a public port with
     * short ones next to an internal port, for example); they apply whether the socket is bound or
     * taken over from a previous process.
     *
     * @throws IllegalArgumentException when the address is not {@code host:port}, or another listener of
     *         this service has the same address with a fixed port (a second ephemeral one, port 0, is
     *         known by the address it gets: see {@link #listeners()})
     */
    public synchronized HttpProxyService addTcp(String address, ListenerOptions options) {
        requireNotStarted("addTcp");
        Addresses.parseHostPort(address);
        requireNonNull(options, "options");
        String key = newListenerKey(address);
        tcpAddresses.add(key);
        listenerOptions.put(key, options);
        return this;
    }

    /**
     * Adds a TLS listener on {@code address} (Pingora's {@code add_tls_with_settings}): like
     * {@link #addTcp(String)}, terminating TLS with {@code tls}.
     *
     * <pre>{@code
     * service.addTls("0.0.0.0:443", TlsSettings.builder()
     *         .certificate(Path.of("site.pem"), Path.of("site.key"))
     *         .build());
     * }</pre>
     *
     * @throws IllegalArgumentException when the address is not {@code host:port}, or another listener of
     *         this service has the same address with a fixed port (a second ephemeral one, port 0, is
     *         known by the address it gets: see {@link #listeners()})
     */
    public synchronized HttpProxyService addTls(String address, TlsSettings tls) {
        return addTcp(address, ListenerOptions.builder().tls(requireNonNull(tls, "tls")).build());
    }

    /**
     * Replaces the TLS of the running listener configured as {@code address} (a configuration
     * reload): connections accepted from now on get {@code tls} (null: plain HTTP); open ones keep
     * theirs and the socket stays bound. Certificate files are read again.
     *
     * @return whether there is such a listener
     * @throws IllegalArgumentException when a certificate cannot be used; the listener keeps its TLS
     */
    public synchronized boolean updateListenerTls(String address, @Nullable TlsSettings tls) {
        SocketAddress bound = listening.get(address);
        if (bound == null || server == null || !server.updateTls(bound, tls)) {
            return false;
        }
        ListenerOptions options = listenerOptions.getOrDefault(address, ListenerOptions.inherit());
        listenerOptions.put(address, options.toBuilder().tls(tls).build());
        return true;
    }

    /**
     * Adds a Unix-domain socket listener at {@code path} ({@code /run/relay/http.sock}; a relative
     * path is resolved against the working directory), bound when the server starts; see
     * {@link HttpProxyServer#bindUnix} for what happens to a file already at the path, and
     * {@link ListenerOptions#unixSocketMode()} for its permissions.
     *
     * @throws IllegalArgumentException when {@code path} is not a valid socket path
     */
    public synchronized HttpProxyService addUnix(String path, ListenerOptions options) {
        requireNotStarted("addUnix");
        String address = Addresses.UNIX_PREFIX + Addresses.parseUnix(Addresses.UNIX_PREFIX + path).getPath();
        requireNonNull(options, "options");
        String key = newListenerKey(address);
        tcpAddresses.add(key);
        listenerOptions.put(key, options);
        return this;
    }

    /**
     * Adds a module (a filter) that runs for every request of this service, besides those the proxy
     * registers in {@link ProxyHttp#initDownstreamModules}; all are ordered by
     * {@link HttpModuleFactory#order()}.
     */
    public synchronized HttpProxyService addModule(HttpModuleFactory module) {
        requireNotStarted("addModule");
        modules.add(requireNonNull(module, "module"));
        return this;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public synchronized void start(TransportRuntime runtime) {
        requireNotStarted("start");
        if (tcpAddresses.isEmpty()) {
            throw new IllegalStateException("service '" + name + "': no listener (expected: addTcp(\"host:port\") "
                    + "or addUnix(path) before start)");
        }
        started = true;
        server = HttpProxyServer.create(proxy, options, runtime, List.copyOf(modules));
        try {
            // By index: listen() renames a second ephemeral listener in place once it is bound.
            for (int i = 0; i < tcpAddresses.size(); i++) {
                listen(tcpAddresses.get(i));
            }
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        // Inherited sockets that no listener of this configuration wants: nobody accepts on them.
        ListenerAddresses.closeAll(inherited);
    }

    /** Binds (or adopts an inherited socket for) the listener {@code key}; the service lock is held. */
    private SocketAddress listen(String key) {
        ListenerOptions options = listenerOptions.getOrDefault(key, ListenerOptions.inherit());
        String address = configuredAddress(key);
        if (Addresses.isUnix(address)) {
            // Never among the inherited descriptors: a Unix socket is re-created by each process.
            Path path = Addresses.parseUnix(address).getPath();
            UnixDomainSocketAddress unix = replacingAnotherProcess
                    ? server.bindUnixReplacing(path, options) : server.bindUnix(path, options);
            LOG.info("service '{}' listening on {}", name, Addresses.format(unix));
            listening.put(address, unix);
            return unix;
        }
        InetSocketAddress bound = null;
        Integer fd = ListenerAddresses.take(inherited, address);
        if (fd != null) {
            bound = server.adoptListener(fd, options);
            LOG.info("service '{}' listening on {} (socket taken over from the previous process)", name,
                    Addresses.format(bound));
        } else {
            bound = server.bind(address, options);
            LOG.info("service '{}' listening on {}", name, Addresses.format(bound));
        }
        if (!key.equals(address)) {
            // A second listener on the same ephemeral address: from now on known by the address it got.
            String boundText = Addresses.format(bound);
            tcpAddresses.set(tcpAddresses.indexOf(key), boundText);
            listenerOptions.put(boundText, listenerOptions.remove(key));
            key = boundText;
        }
        listening.put(key, bound);
        return bound;
    }

    /**
     * Listening sockets inherited from the process this one replaces (zero-downtime upgrade), by the
     * address each is bound to: {@link #start} adopts the one that matches each listener instead of
     * binding it, and closes those no listener wants. Call before the service starts.
     */
    public synchronized HttpProxyService inheritListeners(Map<InetSocketAddress, Integer> sockets) {
        requireNotStarted("inheritListeners");
        inherited.putAll(sockets);
        replacingAnotherProcess = true;
        return this;
    }

    /**
     * Adds a listener to the running service (a configuration reload).
     *
     * @return the bound address
     * @throws IllegalStateException when the service is not running or the address cannot be bound
     */
    public synchronized SocketAddress addListener(String address) {
        return addListener(address, ListenerOptions.inherit());
    }

    /**
     * Adds a listener with its own client timeouts to the running service (a configuration reload).
     *
     * @return the bound address
     * @throws IllegalStateException when the service is not running or the address cannot be bound
     */
    public synchronized SocketAddress addListener(String address, ListenerOptions options) {
        if (server == null) {
            throw new IllegalStateException("addListener: service '" + name + "' is not running");
        }
        Addresses.parse(address);
        requireNonNull(options, "options");
        if (listenerOptions.containsKey(address)) {
            throw new IllegalArgumentException("service '" + name + "' already has a listener on '" + address + "'");
        }
        listenerOptions.put(address, options);
        SocketAddress bound;
        try {
            bound = listen(address);
        } catch (RuntimeException e) {
            listenerOptions.remove(address);
            throw e;
        }
        tcpAddresses.add(address);
        return bound;
    }

    /**
     * Closes the listener that was configured as {@code address} (a configuration reload); its
     * connections carry on.
     *
     * @return whether there was such a listener
     */
    public synchronized boolean removeListener(String address) {
        SocketAddress bound = listening.remove(address);
        tcpAddresses.remove(address);
        listenerOptions.remove(address);
        if (bound == null || server == null) {
            return false;
        }
        boolean closed = server.closeListener(bound);
        LOG.info("service '{}' stopped listening on {}", name, Addresses.format(bound));
        return closed;
    }

    /**
     * Whether a listener of the running service already serves {@code address}: one configured with
     * that text, or one bound to that address (a listener configured with port 0 matches its actual
     * port). Such a listener is then known under {@code address} (a reload keeps it bound).
     */
    public synchronized boolean retainListener(String address) {
        if (listening.containsKey(address)) {
            return true;
        }
        if (Addresses.isUnix(address) || Addresses.parseHostPort(address).getPort() == 0) {
            return false;
        }
        for (Map.Entry<String, SocketAddress> e : listening.entrySet()) {
            if (e.getValue() instanceof InetSocketAddress bound && ListenerAddresses.matches(address, bound)) {
                listening.remove(e.getKey());
                listening.put(address, e.getValue());
                tcpAddresses.remove(e.getKey());
                tcpAddresses.add(address);
                ListenerOptions options = listenerOptions.remove(e.getKey());
                listenerOptions.put(address, options == null ? ListenerOptions.inherit() : options);
                return true;
            }
        }
        return false;
    }

    /**
     * The listeners by their configured address ({@code *:8080}, {@code unix:/run/relay.sock}) and the
     * address each is bound to (a {@link UnixDomainSocketAddress} for a Unix socket).
     */
    public synchronized Map<String, SocketAddress> listeners() {
        return Map.copyOf(listening);
    }

    /**
     * The file descriptors of the listening sockets, by bound address, to hand to a new process
     * (io_uring or epoll; see {@link HttpProxyServer#listenerFileDescriptors()}).
     */
    public synchronized Map<InetSocketAddress, Integer> listenerFileDescriptors() {
        return server == null ? Map.of() : server.listenerFileDescriptors();
    }

    /**
     * The TCP addresses listened on; empty before the service starts and after it stops accepting.
     * Unix sockets are in {@link #listeners()}.
     */
    public synchronized List<InetSocketAddress> boundAddresses() {
        return server == null ? List.of() : server.boundAddresses();
    }

    /**
     * The transport server, for its counters ({@link HttpProxyServer#activeRequests()} ...).
     *
     * @throws IllegalStateException before the service has started
     */
    public synchronized HttpProxyServer transportServer() {
        if (server == null) {
            throw new IllegalStateException("service '" + name + "' has not started");
        }
        return server;
    }

    /**
     * Graceful stop: closes the listeners and idle keep-alive connections at once, lets requests in
     * flight finish for up to {@code gracePeriod} (their responses close their connections), then
     * closes what is left (see {@link HttpProxyServer#stop(Duration)}).
     */
    @Override
    public CompletionStage<Void> stop(Duration gracePeriod) {
        return stop(gracePeriod, true);
    }

    /**
     * The graceful stop of a process whose listening sockets another process has taken over
     * (zero-downtime upgrade): like {@link #stop(Duration)}, except that idle keep-alive connections
     * are closed after their next response rather than at once (see
     * {@link HttpProxyServer#stopForUpgrade(Duration)}).
     */
    public CompletionStage<Void> stopForUpgrade(Duration gracePeriod) {
        return stop(gracePeriod, false);
    }

    private CompletionStage<Void> stop(Duration gracePeriod, boolean closeIdleNow) {
        requireNonNull(gracePeriod, "gracePeriod");
        HttpProxyServer s;
        synchronized (this) {
            s = server;
            listening.clear();
        }
        if (s == null) {
            return CompletableFuture.completedFuture(null);
        }
        // The transport closes the listeners before it returns; the stage tracks the drain.
        CompletionStage<Void> drained = closeIdleNow ? s.stop(gracePeriod) : s.stopForUpgrade(gracePeriod);
        LOG.info("service '{}' stopped accepting; draining {} request(s) in flight, grace period {}", name,
                s.activeRequests(), gracePeriod.toMillis() + "ms");
        // close() releases the resolver as well; the drained connections need nothing else.
        // Not on the thread that completes the drain (Netty's global executor): close() waits for
        // futures of that executor, which Netty refuses (BlockingOperationException) on its own thread.
        return drained.whenCompleteAsync((v, e) -> {
            s.close();
            LOG.info("service '{}' stopped", name);
        });
    }

    /** Immediate stop: closes the listeners and every connection at once. */
    @Override
    public void close() {
        HttpProxyServer s;
        synchronized (this) {
            s = server;
        }
        if (s != null) {
            s.close();
        }
    }

    /**
     * The key a new listener on {@code address} is known by. Listeners are known by the address they
     * were configured with (reloads change or close them by it), so a second one with the same text
     * must not share the first one's entry (its options, its TLS, would apply to both). A second
     * ephemeral listener ({@code 127.0.0.1:0} again) gets a placeholder key until it is bound, then is
     * known by the address it got ({@code 127.0.0.1:41967}); a second listener on a fixed port or Unix
     * path could never bind, and is refused here.
     */
    private String newListenerKey(String address) {
        if (!listenerOptions.containsKey(address)) {
            return address;
        }
        if (Addresses.isUnix(address) || Addresses.parseHostPort(address).getPort() != 0) {
            throw new IllegalArgumentException("service '" + name + "' already has a listener on '" + address + "'");
        }
        int n = 2;
        while (listenerOptions.containsKey(address + EPHEMERAL_TWIN + n)) {
            n++;
        }
        return address + EPHEMERAL_TWIN + n;
    }

    /** The address a listener key stands for: the key itself, or an ephemeral twin's address. */
    private static String configuredAddress(String key) {
        int twin = key.indexOf(EPHEMERAL_TWIN);
        return twin < 0 ? key : key.substring(0, twin);
    }

    private void requireNotStarted(String method) {
        if (started) {
            throw new IllegalStateException(method + ": service '" + name + "' has already started");
        }
    }

    @Override
    public String toString() {
        return "HttpProxyService{" + name + ", " + tcpAddresses + '}';
    }
}
