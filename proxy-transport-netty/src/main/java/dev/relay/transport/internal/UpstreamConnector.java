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
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpDecoderConfig;
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
 * TCP, then TLS (SNI, certificate and hostname verification per the peer's options), then the
 * HTTP/1.1 client codec. Completes with a ready {@link UpstreamConnection} or fails with a connect
 * {@link ProxyError}.
 */
final class UpstreamConnector {
    static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(32 * 1024, 64 * 1024);

    private static final io.netty.channel.ChannelHandler CONNECTING = new ConnectingHandler();

    private final Class<? extends SocketChannel> channelType;
    private final DomainSockets domainSockets;
    private final AddressResolverGroup<InetSocketAddress> resolver;
    private final UpstreamTlsContexts tls = new UpstreamTlsContexts();
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
     * Connects to {@code peer}; the connection is pooled under {@code poolKey}. {@code proxyHeader}:
     * the addresses of the client connection, for the PROXY header the peer wants; null when it wants none.
     */
    Future<UpstreamConnection> connect(HttpPeer peer, Object poolKey, @Nullable ClientAddresses proxyHeader,
                                       EventLoop loop) {
        Promise<UpstreamConnection> promise = loop.newPromise();
        PeerOptions options = peer.options();
        if (peer.isTls() && options.alpn() == Alpn.H2) {
            promise.setFailure(ProxyError.upstream(ErrorType.CONNECT_ERROR,
                    "peer " + peer + " requires HTTP/2 (alpn=H2); upstream connections speak HTTP/1.1", null)
                    .setRetry(false));
            return promise;
        }
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
                            p.addLast("tls", tls.newHandler(peer, ch));
                        }
                        p.addLast("decoder", new UpstreamResponseDecoder(new HttpDecoderConfig()
                                .setMaxInitialLineLength(8192)
                                .setMaxHeaderSize(maxResponseHeaderBytes)
                                .setMaxChunkSize(64 * 1024)));
                        p.addLast("encoder", new HttpRequestEncoder());
                        // Until the connection is ready, failures are reported through the connect
                        // and handshake futures; this placeholder keeps them out of Netty's
                        // "unhandled exception" log.
                        p.addLast("proxy", CONNECTING);
                    }
                });
        SocketAddress target = transport(bootstrap, peer, channelType, domainSockets, resolver);
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
                ready(promise, timer, f.channel(), poolKey);
                return;
            }
            ssl.handshakeFuture().addListener(h -> {
                if (h.isSuccess()) {
                    ready(promise, timer, f.channel(), poolKey);
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
     * TCP options); else TCP through {@code resolver}, without Nagle, with the peer's keep-alive.
     * Shared by the HTTP and the stream connectors.
     */
    static SocketAddress transport(Bootstrap bootstrap, HttpPeer peer, Class<? extends SocketChannel> channelType,
                                   DomainSockets domainSockets, AddressResolverGroup<InetSocketAddress> resolver) {
        if (peer.isUnix()) {
            bootstrap.channel(domainSockets.channelType());
            return domainSockets.address().apply((UnixDomainSocketAddress) peer.socketAddress());
        }
        bootstrap.channel(channelType).resolver(resolver)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, peer.options().tcpKeepAlive());
        return peer.address();
    }

    private void ready(Promise<UpstreamConnection> promise, java.util.concurrent.Future<?> timer, Channel channel, Object poolKey) {
        if (timer != null) {
            timer.cancel(false);
        }
        UpstreamConnection conn = new UpstreamConnection(channel, poolKey, pool,
                channel.pipeline().get(UpstreamResponseDecoder.class), clock);
        channel.pipeline().addBefore("decoder", UpstreamConnection.RAW_READ_WATCHER, conn.rawReadWatcher());
        channel.pipeline().replace("proxy", "proxy", conn);
        pool.track(channel);
        if (!promise.trySuccess(conn)) {
            conn.close();
            return;
        }
        pool.opened.increment();
    }

    private static void fail(Promise<UpstreamConnection> promise, java.util.concurrent.Future<?> timer, Throwable cause,
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
