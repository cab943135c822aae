package dev.relay.transport.internal;

import io.netty.channel.Channel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.AttributeKey;

import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;

/**
 * The one place the engine learns a client connection's addresses: the socket's own, unless a PROXY
 * protocol header replaced them ({@link ProxyProtocolReader}). The session, the access log, hash keys,
 * {@code X-Forwarded-For} written by filters and the PROXY header sent upstream all read it here.
 *
 * @param client the client's address (the PROXY header's source)
 * @param server the address the client connected to (the PROXY header's destination)
 */
record ClientAddresses(SocketAddress client, SocketAddress server) {
    /** Set once the PROXY header is read; absent on a listener without PROXY protocol. */
    static final AttributeKey<ClientAddresses> FROM_PROXY_HEADER = AttributeKey.valueOf("relay.proxyProtocolAddresses");

    /** The client address of {@code channel}. */
    static SocketAddress client(Channel channel) {
        ClientAddresses proxied = fromProxyHeader(channel);
        return proxied != null ? proxied.client : portable(channel.remoteAddress());
    }

    /** The local (server) address of {@code channel} as the client sees it. */
    static SocketAddress server(Channel channel) {
        ClientAddresses proxied = fromProxyHeader(channel);
        return proxied != null ? proxied.server : portable(channel.localAddress());
    }

    /**
     * The PROXY header's addresses, or null. {@code hasAttr} first: {@code attr} alone creates the
     * attribute, and with it the channel's attribute table (48 bytes kept by every connection of a
     * listener without PROXY protocol).
     */
    private static @org.jspecify.annotations.Nullable ClientAddresses fromProxyHeader(Channel channel) {
        return channel.hasAttr(FROM_PROXY_HEADER) ? channel.attr(FROM_PROXY_HEADER).get() : null;
    }

    /**
     * {@code address}, with Netty's native {@link DomainSocketAddress} replaced by the JDK's
     * {@link UnixDomainSocketAddress}: whatever the transport, a Unix-socket connection shows users
     * (who see only proxy-core, JDK types) the same class. A client's path is usually empty (an
     * unnamed socket).
     */
    static SocketAddress portable(SocketAddress address) {
        if (address instanceof DomainSocketAddress netty) {
            return UnixDomainSocketAddress.of(netty.path());
        }
        return address;
    }
}
