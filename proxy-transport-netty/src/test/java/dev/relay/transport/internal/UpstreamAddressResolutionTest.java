package dev.relay.transport.internal;

import dev.relay.core.HttpPeer;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.DefaultAddressResolverGroup;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.SocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which upstream connections go through the DNS resolver: a name still to resolve does; an address
 * that is resolved already does not, so that an event loop that only reaches IP addresses never
 * makes its resolver (Netty's bootstrap makes it at the loop's first connection otherwise).
 */
class UpstreamAddressResolutionTest {
    private static final AddressResolverGroup<InetSocketAddress> RESOLVER = DefaultAddressResolverGroup.INSTANCE;

    @Test
    void anIpAddressIsConnectedToWithoutTheResolver() {
        Bootstrap bootstrap = new Bootstrap();
        SocketAddress target = UpstreamConnector.transport(bootstrap, HttpPeer.plain("127.0.0.1:8080"),
                NioSocketChannel.class, DomainSockets.NIO, RESOLVER);

        assertEquals(new InetSocketAddress("127.0.0.1", 8080), target);
        assertFalse(((InetSocketAddress) target).isUnresolved());
        assertNull(bootstrap.config().resolver(), "the resolver is disabled for a resolved address");
    }

    @Test
    void aNameStillToResolveGoesThroughTheResolver() {
        Bootstrap bootstrap = new Bootstrap();
        InetSocketAddress name = InetSocketAddress.createUnresolved("origin.example", 8080);
        SocketAddress target = UpstreamConnector.transport(bootstrap, HttpPeer.plain(name),
                NioSocketChannel.class, DomainSockets.NIO, RESOLVER);

        assertSame(name, target);
        assertTrue(((InetSocketAddress) target).isUnresolved());
        assertSame(RESOLVER, bootstrap.config().resolver());
    }
}
