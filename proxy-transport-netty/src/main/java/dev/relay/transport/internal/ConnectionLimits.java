package dev.relay.transport.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The open-connection limits of one listener, in total and per client IP address, checked as each
 * connection is accepted (before TLS, PROXY protocol or HTTP see a byte). A connection over a limit
 * is closed unread and counted; an admitted one gives its place back when it closes. Shared by the
 * listener's connections across event loops, hence the atomics.
 *
 * <p>On a PROXY-protocol listener the client is the one the header names, not the load balancer that
 * connects: the per-client limit waits for the header ({@link #afterProxyHeader()}, after the
 * header's reader in the pipeline), and the total is still checked at accept.
 */
public final class ConnectionLimits {
    private final int maxConnections;
    private final int maxPerClient;
    /** The listener reads a PROXY protocol header: the per-client limit applies to the client it names. */
    private final boolean proxyProtocol;
    private final LongAdder overListenerLimit;
    private final LongAdder overClientLimit;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, Integer> openPerClient = new ConcurrentHashMap<>();

    ConnectionLimits(int maxConnections, int maxPerClient, boolean proxyProtocol, LongAdder overListenerLimit,
                     LongAdder overClientLimit) {
        this.maxConnections = maxConnections;
        this.maxPerClient = maxPerClient;
        this.proxyProtocol = proxyProtocol;
        this.overListenerLimit = overListenerLimit;
        this.overClientLimit = overClientLimit;
    }

    /** Whether either limit is set (else {@link #admit} has nothing to do). */
    public boolean isLimited() {
        return maxConnections > 0 || maxPerClient > 0;
    }

    /**
     * Admits {@code channel}, just accepted, or closes it when a limit is reached.
     *
     * @return whether it was admitted
     */
    public boolean admit(Channel channel) {
        if (maxConnections > 0 && open.incrementAndGet() > maxConnections) {
            open.decrementAndGet();
            refuse(channel, overListenerLimit);
            return false;
        }
        InetAddress client = maxPerClient > 0 && !proxyProtocol
                && channel.remoteAddress() instanceof InetSocketAddress inet ? inet.getAddress() : null;
        if (client != null && !takeClientPlace(client)) {
            if (maxConnections > 0) {
                open.decrementAndGet();
            }
            refuse(channel, overClientLimit);
            return false;
        }
        channel.closeFuture().addListener(f -> {
            if (maxConnections > 0) {
                open.decrementAndGet();
            }
            if (client != null) {
                giveClientPlaceBack(client);
            }
        });
        return true;
    }

    /**
     * The handler that applies the per-client limit once the PROXY header named the client, for a
     * listener that reads one and has that limit; null otherwise.
     */
    public io.netty.channel.@org.jspecify.annotations.Nullable ChannelHandler afterProxyHeader() {
        return proxyProtocol && maxPerClient > 0 ? new ProxiedClientLimit() : null;
    }

    private void giveClientPlaceBack(InetAddress client) {
        openPerClient.computeIfPresent(client, (address, count) -> count == 1 ? null : count - 1);
    }

    private boolean takeClientPlace(InetAddress client) {
        boolean[] taken = new boolean[1];
        openPerClient.compute(client, (address, count) -> {
            int now = count == null ? 0 : count;
            if (now >= maxPerClient) {
                return count;
            }
            taken[0] = true;
            return now + 1;
        });
        return taken[0];
    }

    private static void refuse(Channel channel, LongAdder counter) {
        counter.increment();
        channel.close();
    }

    /**
     * Takes a place for the client the PROXY header named, or closes the connection when that client
     * has none left; what the connection sent after the header is then dropped unread. A header that
     * names no IP client (LOCAL, a load balancer's health check) takes no place.
     */
    private final class ProxiedClientLimit extends ChannelInboundHandlerAdapter {
        private boolean refused;

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt != ProxyProtocolReader.HEADER_READ) {
                ctx.fireUserEventTriggered(evt);
                return;
            }
            ClientAddresses named = ctx.channel().attr(ClientAddresses.FROM_PROXY_HEADER).get();
            InetAddress client = named != null && named.client() instanceof InetSocketAddress inet
                    ? inet.getAddress() : null;
            if (client != null && !takeClientPlace(client)) {
                refused = true;
                refuse(ctx.channel(), overClientLimit);
                return;
            }
            if (client != null) {
                ctx.channel().closeFuture().addListener(f -> giveClientPlaceBack(client));
            }
            ctx.pipeline().remove(this);
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (refused) {
                ReferenceCountUtil.release(msg);
            } else {
                ctx.fireChannelRead(msg);
            }
        }
    }
}
