package dev.relay.transport;

import dev.relay.core.Addresses;
import dev.relay.transport.internal.ListenerTls;
import dev.relay.transport.internal.TlsHandshakeCounters;
import dev.relay.transport.internal.TlsMaintenance;
import dev.relay.transport.internal.UnixSocketFile;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.unix.UnixChannel;
import org.jspecify.annotations.Nullable;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * The listening sockets of one server ({@link HttpProxyServer}, {@link StreamProxyServer}) and the
 * TLS of each: binding TCP and Unix-domain sockets, adopting a socket inherited from another process,
 * the addresses bound, the descriptors to hand over, replacing a listener's TLS, handshake counts per
 * listener, closing one or all (a Unix socket's file goes with it). Thread-safe.
 *
 * <p>A server describes its listeners by a function from the listener's {@link ListenerTls} to its
 * bootstrap (groups, options, child handler); the channel type or the adopted descriptor is set here.
 */
final class ListeningSockets implements AutoCloseable {
    private final TransportRuntime runtime;
    private final List<Channel> channels = new CopyOnWriteArrayList<>();
    /** The TLS of each listening socket, replaceable while it stays bound. */
    private final Map<Channel, ListenerTls> listenerTls = new ConcurrentHashMap<>();
    /** The handshake counters of each open listening socket. */
    private final Map<Channel, TlsHandshakeCounters> listenerCounters = new ConcurrentHashMap<>();
    /**
     * Handshake counts by bound address, one counter set per listener that had TLS there, so that a
     * listener closed and bound again by a reload keeps counting up; plain listeners have none.
     */
    private final Map<SocketAddress, List<TlsHandshakeCounters>> handshakes = new ConcurrentHashMap<>();
    /** The socket file of each Unix-domain socket listener, removed when it closes. */
    private final Map<Channel, UnixSocketFile> unixFiles = new ConcurrentHashMap<>();
    private final TlsMaintenance tlsMaintenance = new TlsMaintenance();

    /** The listeners of a server on {@code runtime}. */
    ListeningSockets(TransportRuntime runtime) {
        this.runtime = runtime;
    }

    /**
     * Binds a listener to {@code address} ({@code host:port}; port 0 picks a free one), its connections
     * getting {@code tls} (null: plain) offering {@code alpn} (empty: no ALPN), and returns the address
     * actually bound. Blocks until bound.
     *
     * @throws IllegalStateException    when the address cannot be bound
     * @throws IllegalArgumentException when a certificate cannot be used by the TLS provider
     */
    InetSocketAddress bind(String address, @Nullable TlsSettings tls, List<String> alpn,
                           Function<ListenerTls, ServerBootstrap> bootstrap) {
        InetSocketAddress requested = Addresses.parseHostPort(address);
        InetSocketAddress resolved = requested.isUnresolved()
                ? new InetSocketAddress(requested.getHostString(), requested.getPort()) : requested;
        return (InetSocketAddress) open(tls, alpn, listenerTls -> {
            try {
                // SO_REUSEADDR is a TCP matter: a Unix socket's bootstrap must not carry it.
                return bootstrap.apply(listenerTls).channel(runtime.serverChannelType())
                        .option(ChannelOption.SO_REUSEADDR, true).bind(resolved).syncUninterruptibly().channel();
            } catch (Exception e) {
                throw new IllegalStateException("cannot listen on " + address + ": " + e.getMessage(), e);
            }
        }).localAddress();
    }

    /**
     * Binds a listener at the Unix-domain socket {@code path} (absolute), its connections getting
     * {@code tls} (null: plain): a stale socket file is replaced, a live one only when
     * {@code replaceLive} (an upgrade taking over), anything else refused; the socket gets {@code mode}
     * before it is renamed onto the path, and its file is removed when the listener closes.
     *
     * @throws IllegalStateException when the path cannot be used or bound, naming it and why
     */
    UnixDomainSocketAddress bindUnix(Path path, @Nullable Set<PosixFilePermission> mode, boolean replaceLive,
                                     @Nullable TlsSettings tls, List<String> alpn,
                                     Function<ListenerTls, ServerBootstrap> bootstrap) {
        String address = dev.relay.core.Addresses.UNIX_PREFIX + path;
        Channel listener = open(tls, alpn, listenerTls -> {
            UnixSocketFile file;
            Channel bound;
            try {
                file = UnixSocketFile.prepare(path, replaceLive);
                bound = bootstrap.apply(listenerTls).channel(runtime.serverDomainSocketChannelType())
                        .bind(runtime.domainSocketAddress(file.bindAddress())).syncUninterruptibly().channel();
            } catch (Exception e) {
                throw new IllegalStateException("cannot listen on " + address + ": " + e.getMessage(), e);
            }
            try {
                file.install(mode);
            } catch (RuntimeException e) {
                bound.close().syncUninterruptibly();
                throw new IllegalStateException("cannot listen on " + address + ": " + e.getMessage(), e);
            }
            unixFiles.put(bound, file);
            return bound;
        });
        return (UnixDomainSocketAddress) listenAddress(listener);
    }

    /**
     * Serves connections accepted on {@code fd}, a socket already bound and listening (inherited from
     * the process this one replaces), taking ownership of the descriptor.
     *
     * @throws IllegalStateException when the transport cannot adopt descriptors, or {@code fd} is not a
     *                               listening TCP socket
     */
    InetSocketAddress adopt(int fd, @Nullable TlsSettings tls, List<String> alpn,
                            Function<ListenerTls, ServerBootstrap> bootstrap) {
        return (InetSocketAddress) open(tls, alpn, listenerTls -> {
            // Outside the bootstrap, whose failed future would bury the transport's refusal.
            ServerChannel adopted = runtime.adoptedServerChannel(fd);
            Channel listener;
            try {
                listener = bootstrap.apply(listenerTls).channelFactory(() -> adopted)
                        .register().syncUninterruptibly().channel();
            } catch (Exception e) {
                adopted.unsafe().closeForcibly();
                throw new IllegalStateException("cannot adopt listening socket fd " + fd + ": " + e.getMessage(), e);
            }
            if (!listener.isActive() || !(listener.localAddress() instanceof InetSocketAddress)) {
                listener.close();
                throw new IllegalStateException("cannot adopt fd " + fd + ": not a bound TCP socket");
            }
            return listener;
        }).localAddress();
    }

    private Channel open(@Nullable TlsSettings tls, List<String> alpn, Function<ListenerTls, Channel> opener) {
        TlsHandshakeCounters counters = new TlsHandshakeCounters();
        ListenerTls listenerTls = new ListenerTls(tls, alpn, tlsMaintenance, counters);
        Channel listener;
        try {
            listener = opener.apply(listenerTls);
        } catch (RuntimeException e) {
            listenerTls.close();
            throw e;
        }
        SocketAddress bound = listenAddress(listener);
        this.listenerTls.put(listener, listenerTls);
        listenerCounters.put(listener, counters);
        if (listenerTls.isEnabled()) {
            countHandshakes(bound, counters);
        }
        // Whoever closes the socket (close, closeAll, the server's close), its TLS upkeep stops too.
        listener.closeFuture().addListener(f -> {
            listenerCounters.remove(listener);
            ListenerTls removed = this.listenerTls.remove(listener);
            if (removed != null) {
                removed.close();
            }
        });
        channels.add(listener);
        return listener;
    }

    /** The address {@code listener} was bound as: for a Unix socket, the configured path. */
    private SocketAddress listenAddress(Channel listener) {
        UnixSocketFile file = unixFiles.get(listener);
        return file != null ? UnixDomainSocketAddress.of(file.path()) : listener.localAddress();
    }

    /**
     * Replaces the TLS of the listener bound to {@code address}: new connections get {@code tls}
     * (null: plain), open ones keep theirs.
     *
     * @return whether such a listener is open
     * @throws IllegalArgumentException when a certificate cannot be used; the listener keeps its TLS
     */
    boolean updateTls(SocketAddress address, @Nullable TlsSettings tls) {
        for (Channel ch : channels) {
            if (address.equals(listenAddress(ch))) {
                ListenerTls current = listenerTls.get(ch);
                if (current != null) {
                    current.update(tls);
                    TlsHandshakeCounters counters = listenerCounters.get(ch);
                    if (tls != null && counters != null) {
                        countHandshakes(address, counters);
                    }
                    return true;
                }
            }
        }
        return false;
    }

    /** Reports {@code counters} under {@code bound} from now on (once: a listener's TLS may be turned on again). */
    private void countHandshakes(SocketAddress bound, TlsHandshakeCounters counters) {
        List<TlsHandshakeCounters> all = handshakes.computeIfAbsent(bound, a -> new CopyOnWriteArrayList<>());
        if (!all.contains(counters)) {
            all.add(counters);
        }
    }

    /**
     * TLS handshakes by the address of the listener that ran them (listeners closed since included);
     * a listener that never had TLS is absent.
     */
    Map<SocketAddress, TlsHandshakeCount> tlsHandshakes() {
        Map<SocketAddress, TlsHandshakeCount> out = new LinkedHashMap<>();
        handshakes.forEach((address, counters) -> {
            long completed = 0;
            long failed = 0;
            for (TlsHandshakeCounters c : counters) {
                completed += c.completedCount();
                failed += c.failedCount();
            }
            out.put(address, new TlsHandshakeCount(completed, failed));
        });
        return out;
    }

    /** The sum of {@link #tlsHandshakes()} over every listener. */
    TlsHandshakeCount tlsHandshakesTotal() {
        long completed = 0;
        long failed = 0;
        for (TlsHandshakeCount c : tlsHandshakes().values()) {
            completed += c.completed();
            failed += c.failed();
        }
        return new TlsHandshakeCount(completed, failed);
    }

    /**
     * The descriptors of the listening TCP sockets, by bound address; empty unless the transport is
     * native (io_uring or epoll). They stay owned here: a receiving process gets duplicates
     * (SCM_RIGHTS). Unix-domain listeners are not among them: each process re-creates its own.
     */
    Map<InetSocketAddress, Integer> fileDescriptors() {
        Map<InetSocketAddress, Integer> out = new LinkedHashMap<>();
        for (Channel ch : channels) {
            if (ch.isActive() && ch instanceof ServerSocketChannel tcp && ch instanceof UnixChannel unix) {
                out.put(tcp.localAddress(), unix.fd().intValue());
            }
        }
        return out;
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

    /** Closes the listener bound as {@code address} (a TCP address or a socket path); returns whether there was one. */
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

    /** Closes every listener and stops the TLS upkeep thread. */
    @Override
    public void close() {
        closeAll();
        tlsMaintenance.close();
    }
}
