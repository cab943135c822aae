package io.netty.channel.uring;

import io.netty.channel.Channel;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.ServerSocketChannelConfig;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AlreadyBoundException;

/**
 * Relay's io_uring server channel for a TCP socket that is already bound and listening, typically
 * received from the process this one replaces (zero-downtime upgrade): Netty's
 * {@link IoUringServerSocketChannel} can only open a socket of its own, unlike epoll's
 * {@code EpollServerSocketChannel(int fd)}.
 *
 * <p>It lives in Netty's package because the pieces it is made of are package-private there: the
 * constructor {@code AbstractIoUringServerChannel(LinuxSocket, boolean)}, {@code LinuxSocket(int)},
 * {@code IoUringServerSocketChannelConfig}, {@code newChildChannel(int, ByteBuffer)},
 * {@code IoUringIoHandler.inet4AddressArray()/inet6AddressArray()}, {@code SockaddrIn.getIPv4/getIPv6}
 * and {@code IoUringSocketChannel(Channel, LinuxSocket, SocketAddress)}. A split package works on the
 * class path (Netty's jars are not sealed, and the fat jar and Maven's test class path load both
 * halves with one class loader); it would not on the module path. Everything but construction mirrors
 * {@link IoUringServerSocketChannel} of Netty 4.2.18; {@code AdoptedIoUringServerSocketChannelTest}
 * fails when a Netty upgrade changes the class this one mirrors, so that the copy is checked again.
 *
 * <p>The descriptor's blocking mode is left as it is: a socket shared with a process on epoll must
 * stay non-blocking (Netty's own listeners are non-blocking on both transports).
 */
public final class AdoptedIoUringServerSocketChannel extends AbstractIoUringServerChannel
        implements ServerSocketChannel {
    private final IoUringServerSocketChannelConfig config;

    /**
     * A channel serving {@code fd}, a listening TCP socket; it owns the descriptor from now on (closing
     * the channel closes it). The channel is active at once: register it, never bind it.
     */
    public AdoptedIoUringServerSocketChannel(int fd) {
        // active: caches the bound address now, and a registration starts accepting (channelActive).
        super(new LinuxSocket(fd), true);
        this.config = new IoUringServerSocketChannelConfig(this);
    }

    @Override
    public ServerSocketChannelConfig config() {
        return config;
    }

    @Override
    Channel newChildChannel(int fd, ByteBuffer acceptedAddress) {
        LinuxSocket child = new LinuxSocket(fd);
        if (acceptedAddress == null) {
            // Multishot accept does not fill in the peer's address: the child reads it itself.
            return new IoUringSocketChannel(this, child);
        }
        IoUringIoHandler handler = (IoUringIoHandler) registration().attachment();
        InetSocketAddress remote = child.isIpv6()
                ? SockaddrIn.getIPv6(acceptedAddress, handler.inet6AddressArray(), handler.inet4AddressArray())
                : SockaddrIn.getIPv4(acceptedAddress, handler.inet4AddressArray());
        return new IoUringSocketChannel(this, child, remote);
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return (InetSocketAddress) super.remoteAddress();
    }

    @Override
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) super.localAddress();
    }

    /** The socket came bound: binding it again is a mistake of the caller. */
    @Override
    protected void doBind(SocketAddress localAddress) {
        throw new AlreadyBoundException();
    }
}
