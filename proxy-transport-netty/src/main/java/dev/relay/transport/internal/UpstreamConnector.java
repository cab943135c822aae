package dev.relay.transport.internal;

import dev.relay.core.Alpn;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.core.ProxyError;
import dev.relay.core.ProxyProtocol;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.resolver.AddressResolverGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import org.jspecify.annotations.Nullable;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;

/**
 * Opens upstream connections on the event loop of the downstream connection that needs them:
 * TCP, then TLS (SNI, certificate and hostname verification, ALPN per the peer's options), then a
 * protocol's codec: {@link #connect} adds the HTTP/1.1 one and completes with a ready
 * {@link UpstreamConnection}; {@link Http2Streams} adds HTTP/2's to what {@link #open} gives.
 * Failures are connect {@link ProxyError}s.
 */
final class UpstreamConnector {
    static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(32 * 1024, 64 * 1024);

    /** The name of the last handler of a connection {@link #open} made, until a protocol replaces it. */
    static final String PLACEHOLDER = "proxy";
    private static final io.netty.channel.ChannelHandler CONNECTING = new ConnectingHandler();

    private final Class<? extends SocketChannel> channelType;
    private final DomainSockets domainSockets;
    private final AddressResolverGroup<InetSocketAddress> resolver;
    private final UpstreamConnectionPool pool;
    private final int maxResponseHeaderBytes;

    private final EngineClock clock;

    UpstreamConnector(Class<? extends SocketChannel> channelType, DomainSockets domainSockets,
                      AddressResolverGroup<InetSocketAddress> resolver, UpstreamConnectionPool pool,
                      int maxResponseHeaderBytes, EngineClock clock) {
        this.channelType = channelType;
        this.domainSockets = domainSockets;
        this.resolver = resolver;
        this.pool = pool;
        this.maxResponseHeaderBytes = maxResponseHeaderBytes;
        this.clock = clock;
    }

    /**
     * Connects to {@code peer} for HTTP/1.1; the connection is pooled under {@code poolKey}.
     * {@code proxyHeader}: the addresses of the client connection, for the PROXY header the peer
     * wants; null when it wants none.
     */
    Future<UpstreamConnection> connect(HttpPeer peer, Object poolKey, @Nullable ClientAddresses proxyHeader,
                                       EventLoop loop) {
        Promise<UpstreamConnection> promise = loop.newPromise();
        open(peer, proxyHeader, loop).addListener((Future<Channel> f) -> {
            if (!f.isSuccess()) {
                promise.tryFailure(f.cause());
                return;
            }
            Channel channel = f.getNow();
            if (Alpn.H2.equals(negotiated(peer, channel))) {
                channel.close();
                promise.tryFailure(ProxyError.upstream(ErrorType.CONNECT_ERROR, "connect " + peer
                        + ": the origin chose HTTP/2 where HTTP/1.1 was needed", null).setRetry(false));
                return;
            }
            UpstreamConnection conn = http1(channel, poolKey);
            if (!promise.trySuccess(conn)) {
                conn.close();
            }
        });
        return promise;
    }

    /**
     * The protocol of a connection {@link #open} made: with TLS what the origin chose by ALPN (HTTP/1.1
     * when it chose nothing), without TLS what the peer is configured for (h2 is prior knowledge).
     */
    static Alpn negotiated(HttpPeer peer, Channel channel) {
        SslHandler ssl = channel.pipeline().get(SslHandler.class);
        if (ssl == null) {
            return peer.options().alpn() == Alpn.H2 ? Alpn.H2 : Alpn.H1;
        }
        return ApplicationProtocolNames.HTTP_2.equals(ssl.applicationProtocol()) ? Alpn.H2 : Alpn.H1;
    }

    /**
     * Makes an open connection (from {@link #open}) an HTTP/1.1 {@link UpstreamConnection} pooled under
     * {@code poolKey}: adds the codec and the connection handler, and counts it as opened.
     */
    UpstreamConnection http1(Channel channel, Object poolKey) {
        ChannelPipeline p = channel.pipeline();
        Http1ResponseDecoder decoder = new Http1ResponseDecoder(8192, maxResponseHeaderBytes, 64 * 1024);
        p.addBefore(PLACEHOLDER, "decoder", decoder);
        p.addBefore(PLACEHOLDER, "encoder", new Http1Encoder());
        UpstreamConnection conn = new UpstreamConnection(channel, poolKey, pool, decoder, clock);
        p.replace(PLACEHOLDER, PLACEHOLDER, conn);
        pool.opened.increment();
        return conn;
    }

    /**
     * Opens a connection to {@code peer}: TCP (or a Unix socket), the PROXY header when the peer wants
     * one ({@code proxyHeader}: the client connection's addresses), then TLS offering the peer's ALPN
     * protocols. Completes with the channel once it is ready for a protocol's codec, which the caller
     * adds before the placeholder handler named {@link #PLACEHOLDER} (it drops whatever arrives first);
     * fails with a connect {@link ProxyError}. The total connection timeout bounds TCP and TLS.
     */
    Future<Channel> open(HttpPeer peer, @Nullable ClientAddresses proxyHeader, EventLoop loop) {
        return UpstreamTlsContexts.connectWhenReady(peer, loop, () -> connect(peer, proxyHeader, loop));
    }

    private Future<Channel> connect(HttpPeer peer, @Nullable ClientAddresses proxyHeader, EventLoop loop) {
        Promise<Channel> promise = loop.newPromise();
        PeerOptions options = peer.options();
        Bootstrap bootstrap = new Bootstrap()
                .group(loop)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ChannelPipeline p = ch.pipeline();
                        if (proxyHeader != null && options.sendProxyProtocol() != ProxyProtocol.NONE) {
                            new ProxyHeaderWriter(options.sendProxyProtocol(), proxyHeader.client(),
                                    proxyHeader.server()).install(p);
                        }
                        if (peer.isTls()) {
                            p.addLast("tls", UpstreamTlsContexts.newHandler(peer, ch));
                        }
                        // Until the connection is ready, failures are reported through the connect
                        // and handshake futures; this placeholder keeps them out of Netty's
                        // "unhandled exception" log.
                        p.addLast(PLACEHOLDER, CONNECTING);
                    }
                });
        SocketAddress target = transport(bootstrap, peer, channelType, domainSockets, resolver);
        // HTTP responses only (UpstreamReadSizes says why): a stream proxy's tunnels keep Netty's sizes, as
        // client connections do.
        bootstrap.option(ChannelOption.RCVBUF_ALLOCATOR, new UpstreamReadSizes());
        if (options.connectTimeout() != null) {
            bootstrap.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                    options.connectTimeout().toMillis()));
        }
        String context = "connect " + peer;
        ChannelFuture connect = bootstrap.connect(target);
        Channel channel = connect.channel();
        java.util.concurrent.Future<?> totalTimer = null;
        if (options.totalConnectionTimeout() != null) {
            totalTimer = clock.schedule(loop, () -> {
                if (!promise.isDone()) {
                    ErrorType type = channel.isActive() ? ErrorType.TLS_HANDSHAKE_TIMEDOUT : ErrorType.CONNECT_TIMEDOUT;
                    promise.tryFailure(ProxyError.upstream(type, context + " (total connection timeout "
                            + options.totalConnectionTimeout().toMillis() + " ms)", null).setRetry(true));
                    channel.close();
                }
            }, options.totalConnectionTimeout().toNanos());
        }
        java.util.concurrent.Future<?> timer = totalTimer;
        connect.addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                fail(promise, timer, f.cause(), context);
                return;
            }
            SslHandler ssl = f.channel().pipeline().get(SslHandler.class);
            if (ssl == null) {
                ready(promise, timer, f.channel());
                return;
            }
            ssl.handshakeFuture().addListener(h -> {
                if (h.isSuccess()) {
                    ready(promise, timer, f.channel());
                } else {
                    f.channel().close();
                    fail(promise, timer, h.cause(), context);
                }
            });
        });
        return promise;
    }

    /**
     * Sets the channel of {@code bootstrap} for {@code peer} and returns the address to connect to:
     * a Unix-socket peer's path as it is, on the transport's domain-socket channel (no resolver, no
     * TCP options); else TCP without Nagle, with the peer's keep-alive, through {@code resolver} when
     * the peer's address is a name still to resolve. Shared by the HTTP and the stream connectors.
     *
     * <p>An address that is resolved already (an IP literal, or what discovery resolved) goes past
     * the resolver: Netty's bootstrap otherwise makes the event loop's DNS resolver at its first
     * connection even for an address it will not look up, and that resolver is a datagram channel
     * with 512 message headers of direct memory, about 30 classes and 160 KB of heap per event loop.
     */
    static SocketAddress transport(Bootstrap bootstrap, HttpPeer peer, Class<? extends SocketChannel> channelType,
                                   DomainSockets domainSockets, AddressResolverGroup<InetSocketAddress> resolver) {
        if (peer.isUnix()) {
            bootstrap.channel(domainSockets.channelType());
            return domainSockets.address().apply((UnixDomainSocketAddress) peer.socketAddress());
        }
        InetSocketAddress address = peer.address();
        if (address.isUnresolved()) {
            bootstrap.resolver(resolver);
        } else {
            bootstrap.disableResolver();
        }
        bootstrap.channel(channelType)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, peer.options().tcpKeepAlive());
        return address;
    }

    private void ready(Promise<Channel> promise, java.util.concurrent.Future<?> timer, Channel channel) {
        if (timer != null) {
            timer.cancel(false);
        }
        pool.track(channel);
        if (!promise.trySuccess(channel)) {
            channel.close();
        }
    }

    private static void fail(Promise<Channel> promise, java.util.concurrent.@Nullable Future<?> timer, Throwable cause,
                             String context) {
        if (timer != null) {
            timer.cancel(false);
        }
        promise.tryFailure(Errors.connectFailure(cause, context));
    }

    @io.netty.channel.ChannelHandler.Sharable
    private static final class ConnectingHandler extends io.netty.channel.ChannelInboundHandlerAdapter {
        @Override
        public void exceptionCaught(io.netty.channel.ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }

        @Override
        public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
            io.netty.util.ReferenceCountUtil.release(msg);
        }
    }
}
