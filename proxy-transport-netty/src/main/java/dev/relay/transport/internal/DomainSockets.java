package dev.relay.transport.internal;

import io.netty.channel.Channel;
import io.netty.channel.socket.nio.NioDomainSocketChannel;

import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.util.function.Function;

import static java.util.Objects.requireNonNull;

/**
 * How the engine connects to a Unix-domain socket peer on its transport: the channel class, and the
 * address in the form that channel takes (Netty's native transports want their own
 * {@code DomainSocketAddress}, NIO the JDK's {@link UnixDomainSocketAddress}).
 *
 * @param channelType the connecting domain-socket channel of the transport
 * @param address     converts a peer's address for {@code channelType}
 */
public record DomainSockets(Class<? extends Channel> channelType,
                            Function<UnixDomainSocketAddress, SocketAddress> address) {
    /** The JDK's own, for an engine on NIO event loops. */
    public static final DomainSockets NIO = new DomainSockets(NioDomainSocketChannel.class, a -> a);

    public DomainSockets {
        requireNonNull(channelType, "channelType");
        requireNonNull(address, "address");
    }
}
