package dev.relay.transport;

import dev.relay.core.StreamProxy;
import dev.relay.transport.internal.AcceptBackoff;
import dev.relay.transport.internal.EngineClock;
import dev.relay.transport.internal.ListenerTls;
import dev.relay.transport.internal.StreamEngine;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.jspecify.annotations.Nullable;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * Runs one {@link StreamProxy} on one or more listening sockets: every accepted TCP connection is
 * relayed, byte for byte, to the upstream peer the proxy picks (TLS origination when the peer is
 * TLS), with backpressure both ways, half-close, connect and idle timeouts (see
 * {@link StreamOptions}). Thread-safe.
 *
 * <p>The client pipeline is {@code [tls] stream} until the upstream is connected, then
 * {@code [tls] relay}: a listener's TLS terminator ({@link #bind(String, TlsSettings)}) goes first,
 * under the name {@value #TLS_HANDLER}, so that everything after it sees plain bytes. The client is
 * not read before an upstream is connected, except for the TLS handshake, which comes first: the
 * peer is chosen once the handshake says who the client is.
 *
 * <p>Lifecycle as {@link HttpProxyServer}: {@link #bind}, {@link #stop(Duration)} (stop accepting,
 * let relays finish within the grace period, then close them), {@link #close()}.
 *
 * <pre>{@code
 * try (TransportRuntime runtime = TransportRuntime.create();
 *      StreamProxyServer server = StreamProxyServer.create(new MyTcpBalancer(), StreamOptions.defaults(), runtime)) {
 *     server.bind("0.0.0.0:5432");
 *     ...
 * }
 * }</pre>
 */
public final class StreamProxyServer implements AutoCloseable {
    /** The pipeline name reserved for a TLS terminator, first in every client pipeline. */
    public static final String TLS_HANDLER = ListenerTls.HANDLER_NAME;

    private final TransportRuntime runtime;
    private final StreamEngine engine;
    private final DnsAddressResolverGroup resolver;
    private final ListeningSockets listeners;

    private StreamProxyServer(StreamProxy<?> proxy, StreamOptions options, TransportRuntime runtime, EngineClock clock) {
        this.runtime = requireNonNull(runtime, "runtime");
        this.listeners = new ListeningSockets(runtime);
        this.resolver = runtime.newDnsResolver();
        this.engine = new StreamEngine(requireNonNull(proxy, "proxy"), requireNonNull(options, "options"),
                runtime.socketChannelType(),
                runtime.domainSockets(), resolver, clock);
    }

    /** A server for {@code proxy}; nothing listens until {@link #bind(String)}. */
    public static StreamProxyServer create(StreamProxy<?> proxy, StreamOptions options, TransportRuntime runtime) {
        return new StreamProxyServer(proxy, options, runtime, EngineClock.system());
    }

    /**
     * Listens on {@code address} ({@code host:port}; port 0 picks a free one) and returns the address
     * actually bound. Blocks until the socket is bound.
     *
     * @throws IllegalStateException when the address cannot be bound
     */
    public InetSocketAddress bind(String address) {
        return bind(address, null);
    }

    /**
     * Like {@link #bind(String)}, terminating TLS with {@code tls} (null: plain TCP): the same
     * certificate choice by SNI, client certificates, versions, handshake timeout, file watching and
     * ticket keys as an {@link HttpProxyServer} listener, but no ALPN (the bytes relayed are not
     * HTTP's to name). The peer is chosen after the handshake, so
     * {@link dev.relay.core.StreamSession#downstreamTls()} (the SNI name, the client certificate) can
     * steer it.
     *
     * <pre>{@code
     * server.bind("0.0.0.0:5433", TlsSettings.builder()
     *         .certificate(Path.of("db.pem"), Path.of("db.key"))
     *         .build());
     * }</pre>
     *
     * @throws IllegalStateException    when the address cannot be bound
     * @throws IllegalArgumentException when a certificate cannot be used by the TLS provider
     */
    public InetSocketAddress bind(String address, @Nullable TlsSettings tls) {
        return listeners.bind(address, tls, List.of(), this::bootstrap);
    }

    /**
     * Serves connections accepted on {@code fd}, a listening socket inherited from the process this
     * one replaces (zero-downtime upgrade), with {@code tls} (null: plain TCP); as
     * {@link HttpProxyServer#adoptListener(int)}. This server takes ownership of the descriptor.
     *
     * @return the address the socket is bound to
     * @throws IllegalStateException when the transport cannot adopt descriptors (NIO), or
     *                               {@code fd} is not a listening TCP socket
     */
    public InetSocketAddress adoptListener(int fd, @Nullable TlsSettings tls) {
        return listeners.adopt(fd, tls, List.of(), this::bootstrap);
    }

    /**
     * The file descriptors of the listening sockets, by bound address, for handing them to another
     * process (zero-downtime upgrade); empty on NIO. They stay owned here.
     */
    public Map<InetSocketAddress, Integer> listenerFileDescriptors() {
        return listeners.fileDescriptors();
    }

    /**
     * Replaces the TLS of the listener bound to {@code address}: connections accepted from now on get
     * {@code tls} (null: plain TCP), open ones keep theirs, the socket stays bound. Certificate files
     * are read again.
     *
     * @return whether such a listener is open
     * @throws IllegalArgumentException when a certificate cannot be used; the listener keeps its TLS
     */
    public boolean updateTls(InetSocketAddress address, @Nullable TlsSettings tls) {
        return listeners.updateTls(address, tls);
    }

    /**
     * TLS handshakes by the address of the listener that ran them, since start (listeners closed since
     * included); a listener that never had TLS is absent.
     */
    public Map<java.net.SocketAddress, TlsHandshakeCount> tlsHandshakes() {
        return listeners.tlsHandshakes();
    }

    private ServerBootstrap bootstrap(ListenerTls tls) {
        return new ServerBootstrap()
                .group(runtime.acceptors(), runtime.workers())
                .handler(AcceptBackoff.INSTANCE)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childOption(ChannelOption.TCP_NODELAY, true)
                // Nothing is read from the client before its upstream is connected (but the TLS handshake).
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, TransportRuntime.CLIENT_READS)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        // The TLS terminator first (as TLS_HANDLER), so that the rest sees plain bytes.
                        tls.addHandlers(ch.pipeline());
                        ch.pipeline().addLast(StreamEngine.handlerName(), engine.newConnection(ch));
                    }
                });
    }

    /** The addresses listened on. */
    public List<InetSocketAddress> boundAddresses() {
        return listeners.boundAddresses();
    }

    /**
     * Closes the listening socket bound to {@code address}; its relays carry on.
     *
     * @return whether such a listener was open
     */
    public boolean closeListener(InetSocketAddress address) {
        return listeners.close(address);
    }

    /** Closes the listening sockets; relays carry on. */
    public void stopAccepting() {
        listeners.closeAll();
    }

    /**
     * Graceful stop: stops accepting, lets the relays in progress finish for up to {@code gracePeriod},
     * then closes what is left (their summaries say {@code SHUTDOWN}). Returns once the listeners are
     * closed; the stage completes when every connection has ended.
     */
    public CompletionStage<Void> stop(Duration gracePeriod) {
        requireNonNull(gracePeriod, "gracePeriod");
        stopAccepting();
        CompletableFuture<Void> done = new CompletableFuture<>();
        pollDrained(done, System.nanoTime() + gracePeriod.toNanos(), false);
        return done;
    }

    private void pollDrained(CompletableFuture<Void> done, long deadline, boolean aborted) {
        if (engine.openConnections() == 0) {
            // Off Netty's threads: callers chain close() onto it, which waits.
            java.util.concurrent.ForkJoinPool.commonPool().execute(() -> done.complete(null));
            return;
        }
        boolean abortNow = !aborted && System.nanoTime() - deadline >= 0;
        if (abortNow) {
            engine.abortAll();
        }
        if (aborted && System.nanoTime() - deadline >= TimeUnit.SECONDS.toNanos(5)) {
            // A connection that cannot even be closed must not hold the stop forever.
            java.util.concurrent.ForkJoinPool.commonPool().execute(() -> done.complete(null));
            return;
        }
        GlobalEventExecutor.INSTANCE.schedule(() -> pollDrained(done, deadline, aborted || abortNow),
                20, TimeUnit.MILLISECONDS);
    }

    /** Client connections accepted and not yet ended. */
    public int openConnections() {
        return engine.openConnections();
    }

    /** Client connections accepted since start. */
    public long connectionsAccepted() {
        return engine.connectionsAccepted();
    }

    /** Immediate stop: closes the listeners and every relay, then the DNS resolver. */
    @Override
    public void close() {
        stopAccepting();
        engine.abortAll();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (engine.openConnections() > 0 && System.nanoTime() - deadline < 0) {
            // The aborts run on the event loops; close() is called from a control thread.
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
        resolver.close();
        listeners.close();
    }
}
