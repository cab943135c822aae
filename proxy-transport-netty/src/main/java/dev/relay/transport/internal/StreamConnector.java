package dev.relay.transport.internal;

import dev.relay.core.ErrorType;
import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.core.ProxyError;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.resolver.AddressResolverGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.net.InetSocketAddress;

/**
 * Opens the upstream connection of a relayed stream on the client connection's event loop: TCP,
 * then TLS when the peer asks for it (SNI, verification, client certificate and alternative name per
 * the peer's options, through the same {@link UpstreamTlsContexts} as HTTP), and nothing else: the
 * pipeline ends with a {@link ByteRelay#holdingHandler()} until the relay starts. The channel reads
 * nothing by itself (auto-read off) until then. Completes with the ready channel or fails with a
 * retryable connect {@link ProxyError}.
 */
final class StreamConnector {
    private final Class<? extends SocketChannel> channelType;
    private final DomainSockets domainSockets;
    private final AddressResolverGroup<InetSocketAddress> resolver;
    private final EngineClock clock;

    StreamConnector(Class<? extends SocketChannel> channelType, DomainSockets domainSockets,
                    AddressResolverGroup<InetSocketAddress> resolver, EngineClock clock) {
        this.channelType = channelType;
        this.domainSockets = domainSockets;
        this.resolver = resolver;
        this.clock = clock;
    }

    /**
     * Connects to {@code peer} on {@code loop}.
     *
     * @param connectTimeoutNanos the bound on TCP connect plus TLS handshake (the peer's own, shorter
     *                            timeouts apply too)
     */
    Future<Channel> connect(HttpPeer peer, EventLoop loop, long connectTimeoutNanos) {
        return UpstreamTlsContexts.connectWhenReady(peer, loop, () -> connectNow(peer, loop, connectTimeoutNanos));
    }

    private Future<Channel> connectNow(HttpPeer peer, EventLoop loop, long connectTimeoutNanos) {
        Promise<Channel> promise = loop.newPromise();
        PeerOptions options = peer.options();
        long totalNanos = connectTimeoutNanos;
        if (options.totalConnectionTimeout() != null) {
            totalNanos = Math.min(totalNanos, options.totalConnectionTimeout().toNanos());
        }
        long tcpNanos = options.connectTimeout() == null ? totalNanos : Math.min(totalNanos, options.connectTimeout().toNanos());
        Bootstrap bootstrap = new Bootstrap()
                .group(loop)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, UpstreamConnector.WATER_MARK)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, Math.min(Integer.MAX_VALUE, tcpNanos / 1_000_000)))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (peer.isTls()) {
                            ch.pipeline().addLast("tls", UpstreamTlsContexts.newHandler(peer, ch));
                        }
                        ch.pipeline().addLast(ByteRelay.HANDLER, ByteRelay.holdingHandler());
                    }
                });
        String context = "connect " + peer;
        ChannelFuture connect = bootstrap.connect(
                UpstreamConnector.transport(bootstrap, peer, channelType, domainSockets, resolver));
        Channel channel = connect.channel();
        long timeoutNanos = totalNanos;
        java.util.concurrent.Future<?> timer = clock.schedule(loop, () -> {
            if (!promise.isDone()) {
                ErrorType type = channel.isActive() ? ErrorType.TLS_HANDSHAKE_TIMEDOUT : ErrorType.CONNECT_TIMEDOUT;
                promise.tryFailure(ProxyError.upstream(type, context + " (connect timeout "
                        + timeoutNanos / 1_000_000 + " ms)", null).setRetry(true));
                channel.close();
            }
        }, totalNanos);
        promise.addListener(f -> timer.cancel(false));
        connect.addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                promise.tryFailure(Errors.connectFailure(f.cause(), context));
                return;
            }
            SslHandler ssl = f.channel().pipeline().get(SslHandler.class);
            if (ssl == null) {
                ready(promise, f.channel());
                return;
            }
            // The handshake reads by itself; auto-read stays off for the application data.
            ssl.handshakeFuture().addListener(h -> {
                if (h.isSuccess()) {
                    ready(promise, f.channel());
                } else {
                    f.channel().close();
                    promise.tryFailure(Errors.connectFailure(h.cause(), context));
                }
            });
        });
        return promise;
    }

    private static void ready(Promise<Channel> promise, Channel channel) {
        if (!promise.trySuccess(channel)) {
            // Timed out or cancelled meanwhile.
            channel.close();
        }
    }
}
