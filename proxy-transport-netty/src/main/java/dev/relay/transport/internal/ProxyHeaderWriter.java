package dev.relay.transport.internal;

import dev.relay.core.ProxyProtocol;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;

import org.jspecify.annotations.Nullable;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * Writes the PROXY protocol header as the first bytes of a new upstream connection, as soon as the
 * TCP connection is established and before anything else (the request, or TLS's ClientHello), then
 * leaves the pipeline together with the encoder.
 */
final class ProxyHeaderWriter extends ChannelOutboundHandlerAdapter {
    static final String ENCODER = "proxy-protocol-encoder";
    static final String NAME = "proxy-protocol";

    private final ProxyProtocol version;
    private final SocketAddress client;
    private final SocketAddress server;

    ProxyHeaderWriter(ProxyProtocol version, SocketAddress client, SocketAddress server) {
        this.version = version;
        this.client = client;
        this.server = server;
    }

    /** Puts the encoder and this writer at the head of a new connection's pipeline. */
    void install(io.netty.channel.ChannelPipeline pipeline) {
        pipeline.addFirst(NAME, this);
        pipeline.addFirst(ENCODER, HAProxyMessageEncoder.INSTANCE);
    }

    @Override
    public void connect(ChannelHandlerContext ctx, SocketAddress remote, @Nullable SocketAddress local,
                        ChannelPromise promise) {
        // Netty completes the connect promise (whose listeners start sending the request) before it
        // fires channelActive (where TLS starts its handshake): the header goes out in between, first.
        ChannelPromise connected = ctx.newPromise();
        ctx.connect(remote, local, connected);
        connected.addListener(f -> {
            if (!f.isSuccess()) {
                promise.tryFailure(f.cause());
                return;
            }
            ctx.writeAndFlush(header(version, client, server)).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
            // The encoder made the bytes inside write(): both can leave now.
            ctx.pipeline().remove(ENCODER);
            ctx.pipeline().remove(this);
            promise.trySuccess();
        });
    }

    /**
     * The header for a connection from {@code client} to {@code server}: TCP4 or TCP6 (an IPv4 address
     * next to an IPv6 one is written IPv4-mapped), or UNKNOWN when either is not an IP address (a
     * unix-domain client), which tells the receiver to use the connection's own addresses.
     */
    static HAProxyMessage header(ProxyProtocol version, SocketAddress client, SocketAddress server) {
        HAProxyProtocolVersion v = version == ProxyProtocol.V1 ? HAProxyProtocolVersion.V1 : HAProxyProtocolVersion.V2;
        if (!(client instanceof InetSocketAddress src) || src.getAddress() == null
                || !(server instanceof InetSocketAddress dst) || dst.getAddress() == null) {
            return new HAProxyMessage(v, HAProxyCommand.PROXY, HAProxyProxiedProtocol.UNKNOWN, null, null, 0, 0);
        }
        InetAddress from = src.getAddress();
        InetAddress to = dst.getAddress();
        boolean ipv4 = from instanceof Inet4Address && to instanceof Inet4Address;
        return new HAProxyMessage(v, HAProxyCommand.PROXY,
                ipv4 ? HAProxyProxiedProtocol.TCP4 : HAProxyProxiedProtocol.TCP6,
                ipv4 ? from.getHostAddress() : ipv6Text(from), ipv4 ? to.getHostAddress() : ipv6Text(to),
                src.getPort(), dst.getPort());
    }

    private static String ipv6Text(InetAddress address) {
        if (address instanceof Inet4Address) {
            return "::ffff:" + address.getHostAddress();
        }
        String text = address.getHostAddress();
        int scope = text.indexOf('%');
        return scope < 0 ? text : text.substring(0, scope);
    }
}
