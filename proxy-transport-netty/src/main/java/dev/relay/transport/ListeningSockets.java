package dev.relay.transport;

import dev.relay.core.Addresses;
import dev.relay.transport.internal.UnixSocketFile;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import org.jspecify.annotations.Nullable;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * The listening sockets of one server ({@link HttpProxyServer}, {@link StreamProxyServer}): binding
 * TCP and Unix-domain sockets, the addresses bound, closing one or all (a Unix socket's file goes with
 * it). Thread-safe.
 */
final class ListeningSockets {
    private final List<Channel> channels = new CopyOnWriteArrayList<>();
    /** The socket file of each Unix-domain socket listener, removed when it closes. */
    private final Map<Channel, UnixSocketFile> unixFiles = new ConcurrentHashMap<>();

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
            // SO_REUSEADDR is a TCP matter: a Unix socket's bootstrap must not carry it.
            listener = bootstrap.option(ChannelOption.SO_REUSEADDR, true).bind(requested).syncUninterruptibly().channel();
        } catch (Exception e) {
            throw new IllegalStateException("cannot listen on " + address + ": " + e.getMessage(), e);
        }
        channels.add(listener);
        return listener;
    }

    /**
     * Binds {@code bootstrap} (a Unix-domain server channel type set) at {@code path}: a stale socket
     * file is replaced, a live one only when {@code replaceLive} (an upgrade taking over), anything else
     * refused; the socket gets {@code mode} before it is renamed onto the path. {@code transportAddress}
     * turns the JDK's address into the transport's.
     *
     * @throws IllegalStateException when the path cannot be used or bound, naming it and why
     */
    Channel bindUnix(ServerBootstrap bootstrap, Path path, @Nullable Set<PosixFilePermission> mode, boolean replaceLive,
                     Function<UnixDomainSocketAddress, SocketAddress> transportAddress) {
        String address = Addresses.UNIX_PREFIX + path;
        UnixSocketFile file;
        Channel listener;
        try {
            file = UnixSocketFile.prepare(path, replaceLive);
            listener = bootstrap.bind(transportAddress.apply(file.bindAddress())).syncUninterruptibly().channel();
        } catch (Exception e) {
            throw new IllegalStateException("cannot listen on " + address + ": " + e.getMessage(), e);
        }
        try {
            file.install(mode);
        } catch (RuntimeException e) {
            listener.close().syncUninterruptibly();
            throw new IllegalStateException("cannot listen on " + address + ": " + e.getMessage(), e);
        }
        unixFiles.put(listener, file);
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

    /** The address {@code listener} was bound as: for a Unix socket, the configured path. */
    SocketAddress listenAddress(Channel listener) {
        UnixSocketFile file = unixFiles.get(listener);
        return file != null ? UnixDomainSocketAddress.of(file.path()) : listener.localAddress();
    }

    /** The TCP addresses listened on. */
    List<InetSocketAddress> boundAddresses() {
        List<InetSocketAddress> out = new ArrayList<>();
        for (Channel ch : channels) {
            if (ch.isActive() && ch.localAddress() instanceof InetSocketAddress inet) {
                out.add(inet);
            }
        }
        return out;
    }

    /** The Unix-domain sockets listened on, by their (absolute) paths. */
    List<UnixDomainSocketAddress> boundUnixSockets() {
        List<UnixDomainSocketAddress> out = new ArrayList<>();
        for (Channel ch : channels) {
            UnixSocketFile file = unixFiles.get(ch);
            if (ch.isActive() && file != null) {
                out.add(UnixDomainSocketAddress.of(file.path()));
            }
        }
        return out;
    }

    /** Closes the listener bound as {@code address} (see {@link #listenAddress}); returns whether there was one. */
    boolean close(SocketAddress address) {
        for (Channel ch : channels) {
            if (address.equals(listenAddress(ch))) {
                channels.remove(ch);
                close(ch);
                return true;
            }
        }
        return false;
    }

    /** Closes every listener. */
    void closeAll() {
        for (Channel ch : channels) {
            close(ch);
        }
        channels.clear();
    }

    private void close(Channel listener) {
        listener.close().syncUninterruptibly();
        UnixSocketFile file = unixFiles.remove(listener);
        if (file != null) {
            file.remove();
        }
    }
}
