package dev.relay.examples;

import dev.relay.core.ConnectionFilter;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyHttp;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.Services;
import dev.relay.transport.ListenerOptions;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;

import static java.util.Objects.requireNonNull;

/**
 * Pingora's {@code connection_filter} example: a {@link ConnectionFilter} decides on each accepted
 * connection from the client's IP address, before a byte of it is read; a refused connection is closed at
 * once, so no phase of the proxy runs and nothing reaches the upstream. As in Pingora, the filter of
 * {@link #main} blocks every client ({@link IpBlockFilter#blockAll()}) and logs
 * {@code BLOCKING connection from ...}; {@link IpBlockFilter#blocking} blocks only some addresses.
 *
 * <p>Pingora sets one filter on the service ({@code set_connection_filter}) for all its listeners; Relay
 * sets it per listener ({@code ListenerOptions.connectionFilter}), so {@link #service} gives both listeners
 * the same filter. For IP blocks without code there is {@code ConnectionFilter.cidrs(allow, deny)}.
 *
 * <pre>
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.ConnectionFilterExample
 * curl http://localhost:6195/get     # the connection is closed without an answer
 * curl http://localhost:6196/get
 * </pre>
 */
public final class ConnectionFilterExample implements ProxyHttp<@Nullable Void> {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionFilterExample.class);

    private final HttpPeer upstream;

    /** Proxies whatever the filter lets through to {@code upstream}. */
    public ConnectionFilterExample(HttpPeer upstream) {
        this.upstream = requireNonNull(upstream, "upstream");
    }

    @Override
    public @Nullable Void newCtx() {
        return null;
    }

    @Override
    public CompletionStage<HttpPeer> upstreamPeer(Session session, @Nullable Void ctx) {
        return CompletableFuture.completedFuture(upstream);
    }

    /** Refuses the connections of clients whose IP address it blocks. */
    public static final class IpBlockFilter implements ConnectionFilter {
        private final Predicate<InetAddress> blocked;
        private final String description;

        private IpBlockFilter(Predicate<InetAddress> blocked, String description) {
            this.blocked = blocked;
            this.description = description;
        }

        /** Blocks every client (Pingora's {@code BlockAllFilter}). */
        public static IpBlockFilter blockAll() {
            return new IpBlockFilter(address -> true, "BlockAllFilter active");
        }

        /** Blocks the clients with one of {@code addresses}. */
        public static IpBlockFilter blocking(Collection<InetAddress> addresses) {
            Set<InetAddress> set = Set.copyOf(requireNonNull(addresses, "addresses"));
            return new IpBlockFilter(set::contains, "blocking " + set);
        }

        @Override
        public CompletionStage<Boolean> shouldAccept(SocketAddress client) {
            // A unix-domain socket peer has no IP address to block.
            if (client instanceof InetSocketAddress inet && blocked.test(inet.getAddress())) {
                LOG.info("BLOCKING connection from {} ({})", client, description);
                return Stages.completedFalse();
            }
            return Stages.completedTrue();
        }

        @Override
        public String toString() {
            return "IpBlockFilter(" + description + ")";
        }
    }

    /** A service for {@code proxy} listening on each of {@code addresses}, every listener behind {@code filter}. */
    public static HttpProxyService service(ConnectionFilterExample proxy, ConnectionFilter filter, String... addresses) {
        HttpProxyService service = Services.httpProxy(proxy);
        ListenerOptions filtered = ListenerOptions.builder().connectionFilter(filter).build();
        for (String address : addresses) {
            service.addTcp(address, filtered);
        }
        return service;
    }

    /** Listens on 0.0.0.0:6195 and 0.0.0.0:6196, blocking every connection; would proxy to httpbin.org:80. */
    public static void main(String[] args) {
        Server server = Server.create();
        server.bootstrap();
        LOG.info("Setting BlockAllFilter on both listeners: every connection is refused");
        server.addService(service(new ConnectionFilterExample(HttpPeer.plain("httpbin.org:80")),
                IpBlockFilter.blockAll(), "0.0.0.0:6195", "0.0.0.0:6196"));
        LOG.info("Test with: curl http://localhost:6195/get or curl http://localhost:6196/get; "
                + "look for 'BLOCKING connection' here");
        server.runForever();
    }
}
