package dev.relay.transport;

import dev.relay.core.Addresses;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The listening sockets of one server ({@link HttpProxyServer}, {@link StreamProxyServer}): binding,
 * the addresses bound, closing one or all. Thread-safe.
 */
final class ListeningSockets {
    private final List<Channel> channels = new CopyOnWriteArrayList<>();

    /**
     * Binds {@code bootstrap} (its server channel type set) to {@code address} ({@code host:port}; port 0
     * picks a free one) and returns the address actually bound. Blocks until the socket is bound.
     *
     * @throws IllegalStateException when the address cannot be bound
     */
    InetSocketAddress bind(ServerBootstrap bootstrap, String address) {
        return (InetSocketAddress) bindChannel(bootstrap, address).localAddress();
    }

    /** Like {@link #bind}, returning the listening channel. */
    Channel bindChannel(ServerBootstrap bootstrap, String address) {
        InetSocketAddress requested = Addresses.parseHostPort(address);
        if (requested.isUnresolved()) {
            requested = new InetSocketAddress(requested.getHostString(), requested.getPort());
        }
        Channel listener;
        try {
            listener = bootstrap.bind(requested).syncUninterruptibly().channel();
        } catch (Exception e) {
            throw new IllegalStateException("cannot listen on " + address + ": " + e.getMessage(), e);
        }
        channels.add(listener);
        return listener;
    }

    /** Adds a listener opened otherwise (adopted from another process). */
    void add(Channel listener) {
        channels.add(listener);
    }

    /** The listening channels. */
    List<Channel> channels() {
        return channels;
    }

    /** The addresses listened on. */
    List<InetSocketAddress> boundAddresses() {
        List<InetSocketAddress> out = new ArrayList<>();
        for (Channel ch : channels) {
            if (ch.isActive()) {
                out.add((InetSocketAddress) ch.localAddress());
            }
        }
        return out;
    }

    /** Closes the listener bound to {@code address}; returns whether there was one. */
    boolean close(InetSocketAddress address) {
        for (Channel ch : channels) {
            if (address.equals(ch.localAddress())) {
                channels.remove(ch);
                ch.close().syncUninterruptibly();
                return true;
            }
        }
        return false;
    }

    /** Closes every listener. */
    void closeAll() {
        for (Channel ch : channels) {
            ch.close().syncUninterruptibly();
        }
        channels.clear();
    }
}
