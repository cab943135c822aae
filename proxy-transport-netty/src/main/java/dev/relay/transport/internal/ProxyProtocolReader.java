package dev.relay.transport.internal;

import dev.relay.core.CidrBlock;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.ReferenceCountUtil;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.Future;

/**
 * Sits behind Netty's {@code HAProxyMessageDecoder} on a listener that requires the PROXY protocol:
 * refuses peers that are not trusted to send one (closed before anything is read), closes a
 * connection whose header is garbled or does not arrive within the header-read timeout, and records
 * the header's addresses in {@link ClientAddresses} before any byte after it reaches TLS or HTTP.
 * Then it leaves the pipeline and fires {@link #HEADER_READ}.
 *
 * <p>A {@code LOCAL} header (a load balancer's own health check) and one whose protocol is
 * {@code UNKNOWN}/{@code UNSPEC} keep the socket's addresses, as the specification says.
 */
final class ProxyProtocolReader extends ChannelInboundHandlerAdapter {
    /** The user event fired once the header's addresses are known. */
    static final Object HEADER_READ = new Object() {
        @Override
        public String toString() {
            return "PROXY header read";
        }
    };

    private final List<CidrBlock> trusted;
    private final long headerReadNanos;
    private final EngineClock clock;
    private Future<?> timeout;
    /**
     * The header was refused and the connection is closing. The decoder may still emit what follows in
     * the same read (after an over-long v1 line it goes on with the next line): a second header must
     * not set the client's address, and no byte may reach HTTP on a connection that was refused.
     */
    private boolean refused;

    ProxyProtocolReader(List<CidrBlock> trusted, long headerReadNanos, EngineClock clock) {
        this.trusted = trusted;
        this.headerReadNanos = headerReadNanos;
        this.clock = clock;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (!isTrusted(ctx)) {
            ProxyEngine.LOG.log(System.Logger.Level.DEBUG, "PROXY protocol: {0} is not a trusted proxy; closed",
                    ctx.channel().remoteAddress());
            refused = true;
            ctx.close();
            return;
        }
        timeout = clock.schedule(ctx.executor(), () -> {
            if (ctx.channel().isActive() && ctx.channel().attr(ClientAddresses.FROM_PROXY_HEADER).get() == null) {
                ProxyEngine.LOG.log(System.Logger.Level.DEBUG, "PROXY protocol: no header from {0} in time; closed",
                        ctx.channel().remoteAddress());
                ctx.close();
            }
        }, headerReadNanos);
        ctx.fireChannelActive();
    }

    private boolean isTrusted(ChannelHandlerContext ctx) {
        if (trusted.isEmpty()) {
            return true;
        }
        for (CidrBlock block : trusted) {
            if (block.contains(ctx.channel().remoteAddress())) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refused) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!(msg instanceof HAProxyMessage header)) {
            // The decoder forwards nothing before a header; anything else is not ours to judge.
            ctx.fireChannelRead(msg);
            return;
        }
        ClientAddresses addresses;
        try {
            addresses = addresses(header, ctx);
        } finally {
            header.release();
        }
        ctx.channel().attr(ClientAddresses.FROM_PROXY_HEADER).set(addresses);
        cancelTimeout();
        ctx.pipeline().remove(this);
        ctx.fireUserEventTriggered(HEADER_READ);
    }

    private static ClientAddresses addresses(HAProxyMessage header, ChannelHandlerContext ctx) {
        HAProxyProxiedProtocol.AddressFamily family = header.proxiedProtocol().addressFamily();
        boolean ip = family == HAProxyProxiedProtocol.AddressFamily.AF_IPv4
                || family == HAProxyProxiedProtocol.AddressFamily.AF_IPv6;
        if (header.command() == HAProxyCommand.LOCAL || !ip || header.sourceAddress() == null) {
            return new ClientAddresses(ClientAddresses.portable(ctx.channel().remoteAddress()),
                    ClientAddresses.portable(ctx.channel().localAddress()));
        }
        // The decoder validated both as IP literals of the family: no name lookup happens here.
        return new ClientAddresses(
                new InetSocketAddress(literal(header.sourceAddress()), header.sourcePort()),
                new InetSocketAddress(literal(header.destinationAddress()), header.destinationPort()));
    }

    private static InetAddress literal(String address) {
        try {
            return InetAddress.getByName(address);
        } catch (java.net.UnknownHostException e) {
            throw new io.netty.handler.codec.haproxy.HAProxyProtocolException("invalid address: " + address, e);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A missing or garbled header is the client's fault, not the operator's: debug, and the door.
        ProxyEngine.LOG.log(System.Logger.Level.DEBUG, "PROXY protocol: bad header from {0}: {1}",
                ctx.channel().remoteAddress(), cause.toString());
        refused = true;
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelTimeout();
        ctx.fireChannelInactive();
    }

    private void cancelTimeout() {
        if (timeout != null) {
            timeout.cancel(false);
            timeout = null;
        }
    }
}
