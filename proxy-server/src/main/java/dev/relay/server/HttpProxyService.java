package dev.relay.server;

import dev.relay.core.Addresses;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.ProxyHttp;
import dev.relay.transport.HttpProxyServer;
import dev.relay.transport.ProxyOptions;
import dev.relay.transport.TransportRuntime;
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
    private final List<String> tcpAddresses = new ArrayList<>();
    private final List<HttpModuleFactory> modules = new ArrayList<>();
    private HttpProxyServer server;
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
     * @throws IllegalArgumentException when the address is not {@code host:port}
     */
    public synchronized HttpProxyService addTcp(String address) {
        requireNotStarted("addTcp");
        Addresses.parseHostPort(address);
        tcpAddresses.add(address);
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
            throw new IllegalStateException("service '" + name + "': no listener (expected: addTcp(\"host:port\") before start)");
        }
        started = true;
        server = HttpProxyServer.create(proxy, options, runtime, List.copyOf(modules));
        try {
            for (String address : tcpAddresses) {
                InetSocketAddress bound = server.bind(address);
                LOG.info("service '{}' listening on {}", name, Addresses.format(bound));
            }
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    /** The addresses listened on; empty before the service starts and after it stops accepting. */
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

    @Override
    public CompletionStage<Void> stopGracefully(Duration gracePeriod) {
        requireNonNull(gracePeriod, "gracePeriod");
        HttpProxyServer s;
        synchronized (this) {
            s = server;
        }
        if (s == null) {
            return CompletableFuture.completedFuture(null);
        }
        // shutdownGracefully closes the listeners before it returns; the stage tracks the drain.
        CompletionStage<Void> drained = s.shutdownGracefully(gracePeriod);
        LOG.info("service '{}' stopped accepting; draining {} request(s) in flight, grace period {}", name,
                s.activeRequests(), gracePeriod.toMillis() + "ms");
        // close() releases the resolver as well; the drained connections need nothing else.
        return drained.whenComplete((v, e) -> {
            s.close();
            LOG.info("service '{}' stopped", name);
        });
    }

    @Override
    public void stopNow() {
        HttpProxyServer s;
        synchronized (this) {
            s = server;
        }
        if (s != null) {
            s.close();
        }
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
