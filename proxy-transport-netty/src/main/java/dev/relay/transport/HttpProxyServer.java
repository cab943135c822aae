package dev.relay.transport;

import dev.relay.core.Addresses;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.ProxyHttp;
import dev.relay.transport.internal.AcceptBackoff;
import dev.relay.transport.internal.ConnectionLimits;
import dev.relay.transport.internal.DownstreamConnection;
import dev.relay.transport.internal.DownstreamHandler;
import dev.relay.transport.internal.DownstreamListener;
import dev.relay.transport.internal.EngineClock;
import dev.relay.transport.internal.Http1ServerCodec;
import dev.relay.transport.internal.ListenerTls;
import dev.relay.transport.internal.ProxyEngine;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.util.concurrent.GlobalEventExecutor;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * Runs one {@link ProxyHttp} on one or more listening sockets: every request of an accepted
 * HTTP/1.1 or HTTP/2 connection ({@link Http2Settings}) goes through the phase engine. Thread-safe.
 *
 * <p>Lifecycle: {@link #bind} (or {@link #adoptListener}) starts accepting; {@link #stop(Duration)}
 * stops gracefully within a grace period; {@link #close()} stops at once and releases everything
 * (always call it, after a graceful stop too). The event loops belong to the {@link TransportRuntime}
 * and outlive the server.
 *
 * <pre>{@code
 * try (TransportRuntime runtime = TransportRuntime.create();
 *      HttpProxyServer server = HttpProxyServer.create(new MyProxy(), ProxyOptions.defaults(), runtime)) {
 *     server.bind("0.0.0.0:6188");
 *     ...
 * }
 * }</pre>
 */
public final class HttpProxyServer implements AutoCloseable {
    private final TransportRuntime runtime;
    private final ProxyEngine<?> engine;
    private final ChannelGroup connections = new DefaultChannelGroup("relay-downstream", GlobalEventExecutor.INSTANCE);
    private final ListeningSockets listeners;
    private final DnsAddressResolverGroup resolver;

    private HttpProxyServer(ProxyHttp<?> proxy, ProxyOptions options, TransportRuntime runtime,
                            List<HttpModuleFactory> modules, EngineClock clock) {
        this.runtime = requireNonNull(runtime, "runtime");
        this.listeners = new ListeningSockets(runtime);
        this.resolver = runtime.newDnsResolver();
        this.engine = new ProxyEngine<>(requireNonNull(proxy, "proxy"), requireNonNull(options, "options"),
                List.copyOf(modules), runtime.socketChannelType(),
                runtime.domainSockets(), resolver, clock);
    }

    /** A server for {@code proxy}; nothing listens until {@link #bind(String)}. */
    public static HttpProxyServer create(ProxyHttp<?> proxy, ProxyOptions options, TransportRuntime runtime) {
        return new HttpProxyServer(proxy, options, runtime, List.of(), EngineClock.system());
    }

    /**
     * A server for {@code proxy} that also runs {@code modules} (for example filters from the
     * configuration) before the ones the proxy registers in {@code initDownstreamModules}.
     */
    public static HttpProxyServer create(ProxyHttp<?> proxy, ProxyOptions options, TransportRuntime runtime,
                                         List<HttpModuleFactory> modules) {
        return new HttpProxyServer(proxy, options, runtime, modules, EngineClock.system());
    }

    /** A server whose timeouts run on {@code clock}: for tests that move time by hand. */
    static HttpProxyServer create(ProxyHttp<?> proxy, ProxyOptions options, TransportRuntime runtime,
                                  EngineClock clock) {
        return new HttpProxyServer(proxy, options, runtime, List.of(), requireNonNull(clock, "clock"));
    }

    /**
     * Listens on {@code address} ({@code host:port}; port 0 picks a free one) and returns the address
     * actually bound. Blocks until the socket is bound. A Unix-domain socket is bound with
     * {@link #bindUnix(Path, ListenerOptions)}.
     *
     * @throws IllegalArgumentException when {@code address} is not {@code host:port}
     * @throws IllegalStateException when the address cannot be bound (in use, not local ...)
     */
    public InetSocketAddress bind(String address) {
        return bind(address, ListenerOptions.inherit());
    }

    /**
     * Like {@link #bind(String)}, with this listener's own settings.
     *
     * @throws IllegalArgumentException when {@code address} is not {@code host:port}
     * @throws IllegalStateException when the address cannot be bound (in use, not local ...)
     */
    public InetSocketAddress bind(String address, ListenerOptions listenerOptions) {
        if (Addresses.isUnix(address)) {
            throw new IllegalArgumentException("address: '" + address + "' (expected: host:port; "
                    + "a unix socket is bound with bindUnix(path, options))");
        }
        return listeners.bind(address, listenerOptions.tls(), alpn(listenerOptions),
                tls -> bootstrap(listenerOptions, tls));
    }

    /**
     * Listens on the Unix-domain socket at {@code path} (made absolute: the result) and serves it like
     * a TCP listener. Blocks until the socket is bound. A stale socket file left at the path by a dead
     * process (nothing accepts on it) is replaced; a socket another process listens on, or any other
     * kind of file, is refused. The socket gets {@link ListenerOptions#unixSocketMode()} before
     * clients can see it, and its file is removed when the listener closes.
     *
     * <pre>{@code
     * server.bindUnix(Path.of("/run/relay/http.sock"), ListenerOptions.builder()
     *         .unixSocketMode(PosixFilePermissions.fromString("rw-rw----"))
     *         .build());
     * // curl --unix-socket /run/relay/http.sock http://example.com/
     * }</pre>
     *
     * @throws IllegalStateException when the path cannot be used or bound, naming it and why
     */
    public UnixDomainSocketAddress bindUnix(Path path, ListenerOptions listenerOptions) {
        return bindUnix(path, listenerOptions, false);
    }

    /**
     * Like {@link #bindUnix(Path, ListenerOptions)}, for the process that replaces another in a
     * zero-downtime upgrade: a socket the old process still listens on at {@code path} is taken over
     * (a new socket is renamed over its file, so clients connect here from then on, with no moment
     * where the path is missing) instead of refused. The old process, closing its listener later,
     * leaves the new file alone.
     *
     * @throws IllegalStateException when the path cannot be used or bound
     */
    public UnixDomainSocketAddress bindUnixReplacing(Path path, ListenerOptions listenerOptions) {
        return bindUnix(path, listenerOptions, true);
    }

    private UnixDomainSocketAddress bindUnix(Path path, ListenerOptions listenerOptions, boolean replaceLive) {
        requireNonNull(path, "path");
        requireNonNull(listenerOptions, "listenerOptions");
        return listeners.bindUnix(path, listenerOptions.unixSocketMode(), replaceLive, listenerOptions.tls(),
                alpn(listenerOptions), tls -> bootstrap(listenerOptions, tls));
    }

    /**
     * Serves connections accepted on {@code fd}, a socket that is already bound and listening,
     * typically inherited from the process this one replaces (zero-downtime upgrade). This server
     * takes ownership of the descriptor. The io_uring and epoll transports can adopt a descriptor
     * ({@link TransportRuntime#canAdoptListeners()}), NIO cannot. The sender may run either of the two:
     * the socket is the same.
     *
     * @return the address the socket is bound to
     * @throws IllegalStateException when the transport cannot adopt descriptors, or {@code fd} is not a
     *                               listening TCP socket
     */
    public InetSocketAddress adoptListener(int fd) {
        return adoptListener(fd, ListenerOptions.inherit());
    }

    /** Like {@link #adoptListener(int)}, with this listener's own client timeouts. */
    public InetSocketAddress adoptListener(int fd, ListenerOptions listenerOptions) {
        return listeners.adopt(fd, listenerOptions.tls(), alpn(listenerOptions), tls -> bootstrap(listenerOptions, tls));
    }

    /**
     * Replaces the TLS of the listener bound to {@code address} (as returned by {@link #bind}): new
     * connections get {@code tls} (null: plain HTTP), those open keep theirs, and the socket stays
     * bound. Certificate files are read again, so this also picks up a certificate renewed on disk.
     *
     * @return whether such a listener is open
     * @throws IllegalArgumentException when a certificate cannot be used; the listener keeps its TLS
     */
    public boolean updateTls(SocketAddress address, @org.jspecify.annotations.Nullable TlsSettings tls) {
        return listeners.updateTls(address, tls);
    }

    /** TLS handshakes completed on this server's listeners since start. */
    public long tlsHandshakesCompleted() {
        return listeners.tlsHandshakesTotal().completed();
    }

    /** TLS handshakes that failed (or were abandoned) on this server's listeners since start. */
    public long tlsHandshakesFailed() {
        return listeners.tlsHandshakesTotal().failed();
    }

    /**
     * TLS handshakes by the address of the listener that ran them, since start (listeners closed
     * since included); a listener that never had TLS is absent.
     */
    public java.util.Map<SocketAddress, TlsHandshakeCount> tlsHandshakes() {
        return listeners.tlsHandshakes();
    }

    /**
     * The file descriptors of the listening sockets, by bound address, for handing them to another
     * process (zero-downtime upgrade); empty on NIO. The descriptors stay owned
     * by this server: the receiver gets duplicates (SCM_RIGHTS).
     */
    public java.util.Map<InetSocketAddress, Integer> listenerFileDescriptors() {
        return listeners.fileDescriptors();
    }

    /**
     * Closes the listening socket bound to {@code address} (as returned by {@link #bind} or
     * {@link #boundAddresses()}); its open connections carry on.
     *
     * @return whether such a listener was open
     */
    public boolean closeListener(SocketAddress address) {
        return listeners.close(address);
    }

    /** What a listener offers with ALPN: {@code h2} first when it speaks HTTP/2. */
    private List<String> alpn(ListenerOptions listenerOptions) {
        return listenerOptions.http2EnabledOr(engine.options()) ? ListenerTls.H2_ALPN : ListenerTls.HTTP_ALPN;
    }

    private ServerBootstrap bootstrap(ListenerOptions listenerOptions, ListenerTls tls) {
        ProxyOptions options = engine.options();
        long headerReadNanos = listenerOptions.headerReadTimeoutOr(options).toNanos();
        long keepAliveNanos = listenerOptions.keepAliveTimeoutOr(options).toNanos();
        long bodyReadNanos = listenerOptions.bodyReadTimeoutOr(options).toNanos();
        boolean http2 = listenerOptions.http2EnabledOr(options);
        ConnectionLimits limits = engine.connectionLimits(listenerOptions);
        DownstreamListener downstream = engine.downstreamListener(headerReadNanos, keepAliveNanos, bodyReadNanos,
                listenerOptions.connectAllowList(), "http", "proxy");
        return new ServerBootstrap()
                .group(runtime.acceptors(), runtime.workers())
                .option(ChannelOption.SO_BACKLOG, 4096)
                .handler(AcceptBackoff.INSTANCE)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, TransportRuntime.CLIENT_READS)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (limits.isLimited() && !limits.admit(ch)) {
                            return;
                        }
                        if (ch instanceof SocketChannel) {
                            ch.config().setOption(ChannelOption.TCP_NODELAY, true);
                        }
                        DownstreamHandler handler = downstream.newHandler();
                        engine.addConnectionHandlers(ch, listenerOptions, headerReadNanos, limits);
                        // TLS first (after whatever must see the raw connection, such as a PROXY
                        // protocol header), so that the rest of the pipeline sees plain HTTP.
                        tls.addHandlers(ch.pipeline());
                        if (http2) {
                            // HTTP/1.1 is in place; this handler swaps it for HTTP/2 on ALPN h2 or the preface.
                            boolean onTls = ch.pipeline().get(ListenerTls.HANDLER_NAME) != null;
                            ch.pipeline().addLast("protocol", downstream.newProtocolSelector(onTls));
                        }
                        ch.pipeline()
                                .addLast("http", new Http1ServerCodec(options, 64 * 1024, handler))
                                .addLast("proxy", handler);
                        connections.add(ch);
                    }
                });
    }

    /**
     * Closes a listening-socket descriptor inherited from another process that will not be adopted
     * (for example a listener the new configuration no longer has).
     *
     * @throws IllegalStateException when closing fails
     */
    public static void closeInheritedDescriptor(int fd) {
        try {
            new io.netty.channel.unix.FileDescriptor(fd).close();
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot close fd " + fd + ": " + e.getMessage(), e);
        }
    }

    /** The TCP addresses listened on (Unix sockets are in {@link #boundUnixSockets()}). */
    public List<InetSocketAddress> boundAddresses() {
        return listeners.boundAddresses();
    }

    /** The Unix-domain sockets listened on, by their (absolute) paths. */
    public List<UnixDomainSocketAddress> boundUnixSockets() {
        return listeners.boundUnixSockets();
    }

    /**
     * Closes the listening sockets; open connections carry on. Not a stop: the first step of
     * {@link #stop(Duration)}, for a caller that drains by other means.
     */
    public void stopAccepting() {
        listeners.closeAll();
    }

    /**
     * Graceful stop: stops accepting, closes idle keep-alive connections, lets requests in flight
     * finish (their responses close their connections), and after {@code gracePeriod} closes whatever
     * is left. Returns once the listeners are closed; the stage completes when every connection is
     * closed. Call {@link #close()} afterwards to release the rest (the DNS resolver).
     */
    public CompletionStage<Void> stop(Duration gracePeriod) {
        return stop(gracePeriod, true);
    }

    /**
     * The graceful stop of a zero-downtime upgrade, where another process already accepts on the same
     * sockets: like {@link #stop(Duration)}, except that idle keep-alive connections are not closed at
     * once; each stays open until it carries one more request, whose response closes it
     * ({@code Connection: close}), or until the grace period ends. Closing an idle connection races
     * with a client that is just sending a request on it (which then fails), while answering that
     * request and closing cannot fail.
     */
    public CompletionStage<Void> stopForUpgrade(Duration gracePeriod) {
        return stop(gracePeriod, false);
    }

    private CompletionStage<Void> stop(Duration gracePeriod, boolean closeIdleNow) {
        requireNonNull(gracePeriod, "gracePeriod");
        stopAccepting();
        engine.startDraining();
        long graceMillis = gracePeriod.toMillis();
        for (Channel ch : connections) {
            ch.eventLoop().execute(() -> {
                DownstreamConnection connection = connectionHandler(ch);
                if (connection != null) {
                    connection.drain(closeIdleNow, graceMillis);
                }
            });
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        long deadline = System.nanoTime() + gracePeriod.toNanos();
        pollDrained(done, deadline);
        return done;
    }

    private void pollDrained(CompletableFuture<Void> done, long deadline) {
        if (connections.isEmpty()) {
            engine.closeUpstreamConnections();
            completeOffNettyThreads(done);
            return;
        }
        if (System.nanoTime() - deadline >= 0) {
            closeConnectionsNow().addListener(f -> {
                engine.closeUpstreamConnections();
                completeOffNettyThreads(done);
            });
            return;
        }
        GlobalEventExecutor.INSTANCE.schedule(() -> pollDrained(done, deadline), 20, TimeUnit.MILLISECONDS);
    }

    /**
     * Closes every client connection at once (an HTTP/2 one without waiting for its streams, which a
     * plain close would); the future completes when all are closed.
     */
    private io.netty.channel.group.ChannelGroupFuture closeConnectionsNow() {
        for (Channel ch : connections) {
            ch.eventLoop().execute(() -> {
                DownstreamConnection connection = connectionHandler(ch);
                if (connection != null) {
                    connection.closeNow();
                } else {
                    ch.close();
                }
            });
        }
        return connections.newCloseFuture();
    }

    /**
     * The handler that owns {@code ch} now. Looked up on the connection's event loop, where the protocol
     * selector swaps it: read before, a connection that has just turned HTTP/2 would be asked of its
     * removed HTTP/1.1 handler, whose plain close lets Netty wait on the streams for its own 30 s
     * instead of the grace period (or instead of not at all, for {@link #close()}).
     */
    private static @org.jspecify.annotations.Nullable DownstreamConnection connectionHandler(Channel ch) {
        return ch.pipeline().get(DownstreamConnection.class);
    }

    /**
     * Completes the shutdown stage on a common-pool thread: callers chain {@link #close()} onto it,
     * and Netty refuses blocking waits on its own executor threads.
     */
    private static void completeOffNettyThreads(CompletableFuture<Void> done) {
        java.util.concurrent.ForkJoinPool.commonPool().execute(() -> done.complete(null));
    }

    /** Requests in flight. */
    public int activeRequests() {
        return engine.activeRequests();
    }

    /** Open client connections. */
    public int openConnections() {
        return engine.openConnections();
    }

    /** Client connections refused by a listener's {@link ListenerOptions#connectionFilter()} since start. */
    public long connectionsRefused() {
        return engine.connectionsRefused();
    }

    /**
     * Client connections closed as they were accepted since start, because their listener had
     * {@link ListenerOptions#maxConnections()} open.
     */
    public long connectionsOverListenerLimit() {
        return engine.connectionsOverListenerLimit();
    }

    /**
     * Client connections closed as they were accepted since start, because their client address had
     * {@link ListenerOptions#maxConnectionsPerClient()} open on the listener.
     */
    public long connectionsOverClientLimit() {
        return engine.connectionsOverClientLimit();
    }

    /**
     * Requests answered {@code 503} at once since start because {@link ProxyOptions#maxRequestsInFlight()}
     * were in flight.
     */
    public long requestsShed() {
        return engine.requestsShed();
    }

    /**
     * HTTP/2 client connections ended with GOAWAY {@code ENHANCE_YOUR_CALM} for abuse since start, by
     * reason ({@code settings_flood}, {@code ping_flood}, {@code priority_flood}, {@code window_update_flood},
     * {@code empty_data_flood}, {@code stream_churn}, {@code headers_timeout}); every reason is present.
     */
    public Map<String, Long> http2AbuseCounts() {
        Map<String, Long> counts = new java.util.LinkedHashMap<>();
        engine.http2Abuse().counts().forEach((reason, count) -> counts.put(reason.label(), count));
        return counts;
    }

    /**
     * Requests that failed on the client's side since start, by reason ({@code malformed}, {@code too_large},
     * {@code unsupported_version}, {@code method_not_allowed}, {@code timeout}, {@code closed}); every
     * reason is present. These are logged quietly (INFO or DEBUG, rate-limited), never at ERROR.
     */
    public Map<String, Long> clientErrorCounts() {
        Map<String, Long> counts = new java.util.LinkedHashMap<>();
        engine.errorLog().counts().forEach((reason, count) -> counts.put(reason.label(), count));
        return counts;
    }

    /** Requests received since start. */
    public long requestsServed() {
        return engine.requestsServed();
    }

    /** Upstream connections opened since start. */
    public long upstreamConnectionsOpened() {
        return engine.upstreamConnectionsOpened();
    }

    /** Requests sent on a reused (pooled) upstream connection since start. */
    public long upstreamConnectionsReused() {
        return engine.upstreamConnectionsReused();
    }

    /** Idle upstream connections in the pool now. */
    public int idleUpstreamConnections() {
        return engine.idleUpstreamConnections();
    }

    /**
     * Closes the idle pooled connections of the peers with {@link dev.relay.core.HttpPeer#groupKey()}
     * {@code groupKey}, on every event loop (asynchronously; returns at once): the group is gone, say
     * replaced by a configuration reload, and its connections would otherwise wait out their idle
     * timeout. Connections carrying a request finish it and are then closed, never pooled again; an
     * HTTP/2 connection takes no new stream and closes when its open ones are done.
     */
    public void closeIdleUpstreamConnections(long groupKey) {
        // Retired first: a connection released while the loops close the idle ones is closed too.
        engine.retireUpstreamGroup(groupKey);
        for (io.netty.util.concurrent.EventExecutor loop : runtime.workers()) {
            loop.execute(() -> engine.closeIdleUpstreamConnections(groupKey));
        }
    }

    /** Upstream HTTP/2 connections opened since start (also counted in {@link #upstreamConnectionsOpened()}). */
    public long upstreamH2ConnectionsOpened() {
        return engine.upstreamH2ConnectionsOpened();
    }

    /** Upstream HTTP/2 streams (one per request attempt) opened since start. */
    public long upstreamH2StreamsOpened() {
        return engine.upstreamH2StreamsOpened();
    }

    /**
     * Upstream HTTP/2 streams opened on a connection already in the pool, since start (also counted in
     * {@link #upstreamConnectionsReused()}).
     */
    public long upstreamH2StreamsReused() {
        return engine.upstreamH2StreamsReused();
    }

    /** Upstream HTTP/2 connections dropped because a PING went unanswered, since start. */
    public long upstreamH2PingFailures() {
        return engine.upstreamH2PingFailures();
    }

    /** Open upstream HTTP/2 connections of the peers with {@link dev.relay.core.HttpPeer#groupKey()} {@code groupKey}. */
    public int upstreamH2Connections(long groupKey) {
        return engine.upstreamH2Connections(groupKey);
    }

    /** Open upstream HTTP/2 streams of the peers with {@link dev.relay.core.HttpPeer#groupKey()} {@code groupKey}. */
    public int upstreamH2ActiveStreams(long groupKey) {
        return engine.upstreamH2ActiveStreams(groupKey);
    }

    /**
     * Immediate stop: closes the listeners and every connection at once, then the pooled upstream
     * connections and the DNS resolver. Also ends a graceful {@link #stop} in progress.
     */
    @Override
    public void close() {
        stopAccepting();
        engine.startDraining();
        closeConnectionsNow().awaitUninterruptibly(5, TimeUnit.SECONDS);
        engine.closeUpstreamConnections().awaitUninterruptibly(5, TimeUnit.SECONDS);
        resolver.close();
        listeners.close();
    }
}
