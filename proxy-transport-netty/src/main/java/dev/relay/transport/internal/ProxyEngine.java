package dev.relay.transport.internal;

import dev.relay.core.HttpModuleFactory;
import dev.relay.core.HttpModules;
import dev.relay.core.ProxyHttp;
import dev.relay.transport.ProxyOptions;
import io.netty.channel.socket.SocketChannel;
import io.netty.resolver.AddressResolverGroup;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * What every connection of one proxy service shares: the user's {@link ProxyHttp}, its modules,
 * the options, the upstream pool and connector, and the counters the server reports.
 *
 * @param <C> the proxy's context type
 */
public final class ProxyEngine<C> {
    static final System.Logger LOG = System.getLogger("dev.relay.proxy");

    final ProxyHttp<C> proxy;
    final ProxyOptions options;
    final HttpModuleFactory[] moduleFactories;
    final UpstreamConnectionPool pool;
    final UpstreamStreams streams;
    private final Http2Counters http2;
    private final UpstreamStack upstream;
    final EngineClock clock;
    /** The cache fills in progress of this engine's requests: the cache lock. */
    final CacheFills cacheFills = new CacheFills();
    private final AtomicInteger activeRequests = new AtomicInteger();
    /** The calls among {@link #activeRequests} that became tunnels: not counted against the in-flight limit. */
    private final AtomicInteger activeTunnels = new AtomicInteger();
    private final LongAdder requests = new LongAdder();
    final AtomicInteger openConnections = new AtomicInteger();
    final LongAdder connectionsRefused = new LongAdder();
    final LongAdder requestsShed = new LongAdder();
    final LongAdder connectionsOverListenerLimit = new LongAdder();
    final LongAdder connectionsOverClientLimit = new LongAdder();
    final Http2Abuse http2Abuse;
    final ErrorLog errorLog;
    private volatile boolean draining;

    public ProxyEngine(ProxyHttp<C> proxy, ProxyOptions options, List<HttpModuleFactory> extraModules,
                       Class<? extends SocketChannel> channelType, AddressResolverGroup<InetSocketAddress> resolver,
                       EngineClock clock) {
        this(proxy, options, extraModules, channelType, DomainSockets.NIO, resolver, clock);
    }

    /** An engine whose Unix-domain socket peers are reached through {@code domainSockets}. */
    public ProxyEngine(ProxyHttp<C> proxy, ProxyOptions options, List<HttpModuleFactory> extraModules,
                       Class<? extends SocketChannel> channelType, DomainSockets domainSockets,
                       AddressResolverGroup<InetSocketAddress> resolver, EngineClock clock) {
        this.proxy = proxy;
        this.clock = clock;
        this.http2Abuse = new Http2Abuse(clock);
        this.errorLog = new ErrorLog(clock);
        this.options = options;
        this.moduleFactories = moduleFactories(proxy, extraModules);
        UpstreamStack upstream = new UpstreamStack(channelType, domainSockets, resolver,
                options.maxIdleUpstreamConnections(), options.upstreamIdleTimeout(), options.maxHeaderBytes(),
                options.http2(), clock, PeerLimits.NONE);
        this.upstream = upstream;
        this.pool = upstream.pool;
        this.http2 = upstream.http2.counters;
        this.streams = upstream.streams;
    }

    /** The module factories of a service: {@code extra} first, then those the proxy registers. Called once per service: registering modules is set-up, not a phase of a request. */
    private static HttpModuleFactory[] moduleFactories(ProxyHttp<?> proxy, java.util.List<HttpModuleFactory> extra) {
        HttpModules modules = new HttpModules();
        extra.forEach(modules::add);
        proxy.initDownstreamModules(modules);
        return modules.ordered().toArray(new HttpModuleFactory[0]);
    }

    /** The phase engine for one request arriving on {@code downstream}. */
    ProxyCall<C> newCall(DownstreamStream downstream) {
        return new ProxyCall<>(this, downstream);
    }

    /** Creates the handler of a newly accepted downstream connection. */
    public DownstreamHandler newDownstreamHandler(long headerReadNanos, long keepAliveNanos, long bodyReadNanos) {
        return downstreamListener(headerReadNanos, keepAliveNanos, bodyReadNanos, ConnectAllowList.none()).newHandler();
    }

    /**
     * What the connections of a listener with these client timeouts and {@code CONNECT} destinations
     * share (made once per listener); {@code http1Handlers} name the HTTP/1.1 handlers that a connection
     * turning to HTTP/2 loses.
     */
    public DownstreamListener downstreamListener(long headerReadNanos, long keepAliveNanos, long bodyReadNanos,
                                                 ConnectAllowList connectAllow, String... http1Handlers) {
        return new DownstreamListener(this, headerReadNanos, keepAliveNanos, bodyReadNanos, connectAllow,
                http1Handlers);
    }

    /**
     * Adds what runs before TLS and HTTP on a new client connection of a listener: the PROXY protocol
     * decoder and reader when {@code listener} requires the protocol, then the connection filter.
     * With a filter and no PROXY protocol, reading starts off until the filter has answered.
     */
    public void addConnectionHandlers(io.netty.channel.Channel ch, dev.relay.transport.ListenerOptions listener,
                                      long headerReadNanos, ConnectionLimits limits) {
        if (listener.proxyProtocol()) {
            ch.pipeline()
                    .addLast("proxy-protocol-decoder", new io.netty.handler.codec.haproxy.HAProxyMessageDecoder())
                    .addLast("proxy-protocol", new ProxyProtocolReader(listener.proxyProtocolTrusted(),
                            headerReadNanos, clock));
            io.netty.channel.ChannelHandler clientLimit = limits.afterProxyHeader();
            if (clientLimit != null) {
                ch.pipeline().addLast("proxied-client-limit", clientLimit);
            }
        }
        dev.relay.core.ConnectionFilter filter = listener.connectionFilter();
        if (filter != null) {
            if (!listener.proxyProtocol()) {
                ch.config().setAutoRead(false);
            }
            ch.pipeline().addLast("connection-filter",
                    new ConnectionFilterHandler(filter, listener.proxyProtocol(), connectionsRefused));
        }
    }

    /** The open-connection limits of a listener with {@code listener}'s options, counted in this engine. */
    public ConnectionLimits connectionLimits(dev.relay.transport.ListenerOptions listener) {
        return new ConnectionLimits(listener.maxConnections(), listener.maxConnectionsPerClient(),
                listener.proxyProtocol(), connectionsOverListenerLimit, connectionsOverClientLimit);
    }

    /** Client connections closed at accept since start because their listener had {@code maxConnections} open. */
    public long connectionsOverListenerLimit() {
        return connectionsOverListenerLimit.sum();
    }

    /** Client connections closed at accept since start because their address had {@code maxConnectionsPerClient} open. */
    public long connectionsOverClientLimit() {
        return connectionsOverClientLimit.sum();
    }

    /** Client connections the connection filter refused since start. */
    public long connectionsRefused() {
        return connectionsRefused.sum();
    }

    /** HTTP/2 client connections ended by {@link Http2FloodGuard} since start, by reason. */
    public Http2Abuse http2Abuse() {
        return http2Abuse;
    }

    /** Requests that failed on the client's side since start, by reason; see {@link ErrorLog}. */
    public ErrorLog errorLog() {
        return errorLog;
    }

    /** Requests answered 503 at once because {@code ProxyOptions.maxRequestsInFlight} were in flight, since start. */
    public long requestsShed() {
        return requestsShed.sum();
    }

    /**
     * Counts a new request in flight; false when that makes more than
     * {@link ProxyOptions#maxRequestsInFlight()} and the request must be shed (it stays counted until
     * {@link #requestEnded}). Open tunnels (WebSocket, CONNECT) stay in flight until they end, which
     * may be hours: they are connections, not requests waiting for the proxy, and do not count here.
     */
    boolean admitRequest() {
        int inFlight = activeRequests.incrementAndGet();
        requests.increment();
        int most = options.maxRequestsInFlight();
        return most <= 0 || inFlight - activeTunnels.get() <= most;
    }

    /** Counts a request in flight that is answered without the limit's say (a malformed one). */
    void countRequest() {
        activeRequests.incrementAndGet();
        requests.increment();
    }

    /** A request in flight became a tunnel: it no longer counts against the in-flight limit. */
    void tunnelOpened() {
        activeTunnels.incrementAndGet();
    }

    /** A request counted by {@link #admitRequest} or {@link #countRequest} ended; it was a tunnel or not. */
    void requestEnded(boolean tunnel) {
        activeRequests.decrementAndGet();
        if (tunnel) {
            activeTunnels.decrementAndGet();
        }
    }

    /** Requests in flight. */
    public int activeRequests() {
        return activeRequests.get();
    }

    /** Open downstream connections. */
    public int openConnections() {
        return openConnections.get();
    }

    /** Requests received since start. */
    public long requestsServed() {
        return requests.sum();
    }

    /** Upstream connections opened since start, HTTP/1.1 and HTTP/2. */
    public long upstreamConnectionsOpened() {
        return pool.opened.sum() + http2.connectionsOpened.sum();
    }

    /**
     * Upstream requests sent on a pooled connection since start: an idle HTTP/1.1 one, or an HTTP/2
     * one already carrying or having carried other streams.
     */
    public long upstreamConnectionsReused() {
        return pool.reused.sum() + http2.streamsReused.sum();
    }

    /** Upstream HTTP/2 connections opened since start. */
    public long upstreamH2ConnectionsOpened() {
        return http2.connectionsOpened.sum();
    }

    /** Upstream HTTP/2 streams (requests) opened since start. */
    public long upstreamH2StreamsOpened() {
        return http2.streamsOpened.sum();
    }

    /** Upstream HTTP/2 streams opened on a connection that was already in the pool, since start. */
    public long upstreamH2StreamsReused() {
        return http2.streamsReused.sum();
    }

    /** Upstream HTTP/2 connections dropped because a PING went unanswered, since start. */
    public long upstreamH2PingFailures() {
        return http2.pingFailures.sum();
    }

    /** Open upstream HTTP/2 connections of the peers of pool group {@code groupKey} now. */
    public int upstreamH2Connections(long groupKey) {
        return http2.connections(groupKey);
    }

    /** Open upstream HTTP/2 streams of the peers of pool group {@code groupKey} now. */
    public int upstreamH2ActiveStreams(long groupKey) {
        return http2.activeStreams(groupKey);
    }

    /** Idle pooled upstream connections now. */
    public int idleUpstreamConnections() {
        return pool.idleConnections();
    }

    /** Marks pool group {@code groupKey} retired: its connections are closed when released, never pooled. */
    public void retireUpstreamGroup(long groupKey) {
        upstream.retire(groupKey);
    }

    /**
     * Closes the idle pooled connections of pool group {@code groupKey} on the calling event loop, and
     * retires its HTTP/2 connections there (closed when their streams are done).
     */
    public int closeIdleUpstreamConnections(long groupKey) {
        return upstream.closeIdle(groupKey);
    }

    /** Closes every upstream connection (after the client connections are closed). */
    public io.netty.util.concurrent.Future<Void> closeUpstreamConnections() {
        return pool.closeAll();
    }

    /** From now on, responses close their connections and idle connections close at once. */
    public void startDraining() {
        draining = true;
    }

    boolean isDraining() {
        return draining;
    }

    /** The options. */
    public ProxyOptions options() {
        return options;
    }
}
