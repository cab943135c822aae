package dev.relay.transport;

import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.AdoptedIoUringServerSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;

import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * The event loops shared by every listener and upstream connection of a process, on the best native
 * transport this machine offers: io_uring where the kernel has it, then epoll, then NIO.
 * One runtime per process is the norm; close it last.
 *
 * <p>Lifecycle: created running ({@link #create()}); {@link #stop(Duration)} stops it gracefully,
 * {@link #close()} at once, the verbs of every Relay component.
 */
public final class TransportRuntime implements AutoCloseable {
    /** Netty's switch for io_uring's multishot accept, read once when its {@code IoUring} class loads. */
    static final String ACCEPT_MULTISHOT_PROPERTY = "io.netty.iouring.acceptMultiShotEnabled";
    /** Netty's switch for {@code IORING_ENTER_NO_IOWAIT}, read once when its {@code IoUring} class loads. */
    static final String ENTER_NO_IOWAIT_PROPERTY = "io.netty.iouring.enterNoIoWaitEnabled";
    /**
     * The read sizes of every client connection, one instance for all listeners: Netty's adaptive sizes
     * and the 16 reads per loop its epoll and io_uring channels default to. What a connection has learnt
     * is in its channel's own handle; Netty's default configuration also makes an allocator per channel,
     * 32 bytes per connection for nothing.
     */
    static final RecvByteBufAllocator CLIENT_READS = new AdaptiveRecvByteBufAllocator().maxMessagesPerRead(16);

    static {
        // Netty 4.2.18 re-arms a multishot accept that ended in an error whatever auto-read says: out of
        // file descriptors (EMFILE) the accept thread spins at a full core, a million failed accepts a
        // second (DescriptorExhaustionIT). One accept at a time honours the pause of AcceptBackoff; it
        // costs one submission per accepted connection, which keep-alive makes rare. Set before any io_uring
        // class loads (this class is where the transport is chosen); a value given on the command line wins.
        setUnlessGiven(ACCEPT_MULTISHOT_PROPERTY, "false");
        // An io_uring event loop waiting for completions counts as waiting for I/O (Linux accounts
        // io_uring_enter's wait as iowait while submissions are in flight, and an idle keep-alive
        // connection always has its poll in flight): an idle proxy showed each of its event loops as a
        // blocked task, in the load average, in vmstat's "b" and iowait (50 % of a 2-CPU machine), and as
        // 78 % "some" I/O pressure in /proc/pressure/io, which disk alarms read (docs/benchmarks.md, issue
        // 11 ninth pass). Waiting for network completions is not waiting for a disk: on kernels with
        // IORING_FEAT_NO_IOWAIT (6.15 and later) the wait is left out; older kernels ignore the switch.
        // What it gives up is the CPU-frequency boost some governors give a task that wakes from iowait,
        // which epoll's waits (nginx's) never had either.
        setUnlessGiven(ENTER_NO_IOWAIT_PROPERTY, "true");
    }

    private static void setUnlessGiven(String property, String value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, value);
        }
    }

    /** Which socket implementation to use. */
    public enum Kind {
        /** io_uring if available, else epoll if available, else NIO. */
        AUTO,
        /** Linux io_uring. */
        IO_URING,
        /** Linux epoll. */
        EPOLL,
        /** The JDK's selector-based NIO (portable). */
        NIO;

        /** Parses {@code auto}, {@code io_uring} (or {@code io-uring}), {@code epoll}, {@code nio}. */
        public static Kind parse(String text) {
            String t = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
            try {
                return Kind.valueOf(t);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("transport: '" + text + "' (expected: auto, io_uring, epoll or nio)");
            }
        }
    }

    /**
     * Whether {@link AdoptedIoUringServerSocketChannel}, which sits in Netty's package, shares Netty's
     * runtime package (one class loader, one module: the class path, as in the fat jar); elsewhere its
     * use of Netty's package-private members would fail.
     */
    private static final boolean IO_URING_ADOPTION =
            AdoptedIoUringServerSocketChannel.class.getClassLoader() == IoUringServerSocketChannel.class.getClassLoader()
                    && AdoptedIoUringServerSocketChannel.class.getModule() == IoUringServerSocketChannel.class.getModule();

    private final Kind kind;
    private final EventLoopGroup acceptors;
    private final EventLoopGroup workers;
    private final Class<? extends ServerChannel> serverChannelType;
    private final Class<? extends SocketChannel> socketChannelType;
    private final Class<? extends io.netty.channel.socket.DatagramChannel> datagramChannelType;
    private final Class<? extends ServerChannel> serverDomainSocketChannelType;
    private final Class<? extends Channel> domainSocketChannelType;

    private TransportRuntime(Kind requested, int workerThreads) {
        this.kind = resolve(requested);
        IoHandlerFactory ioFactory = switch (kind) {
            case IO_URING -> IoUringIoHandler.newFactory();
            case EPOLL -> EpollIoHandler.newFactory();
            default -> NioIoHandler.newFactory();
        };
        this.serverChannelType = switch (kind) {
            case IO_URING -> IoUringServerSocketChannel.class;
            case EPOLL -> EpollServerSocketChannel.class;
            default -> NioServerSocketChannel.class;
        };
        this.socketChannelType = switch (kind) {
            case IO_URING -> IoUringSocketChannel.class;
            case EPOLL -> EpollSocketChannel.class;
            default -> NioSocketChannel.class;
        };
        this.datagramChannelType = switch (kind) {
            case IO_URING -> io.netty.channel.uring.IoUringDatagramChannel.class;
            case EPOLL -> io.netty.channel.epoll.EpollDatagramChannel.class;
            default -> io.netty.channel.socket.nio.NioDatagramChannel.class;
        };
        this.serverDomainSocketChannelType = switch (kind) {
            case IO_URING -> io.netty.channel.uring.IoUringServerDomainSocketChannel.class;
            case EPOLL -> io.netty.channel.epoll.EpollServerDomainSocketChannel.class;
            default -> io.netty.channel.socket.nio.NioServerDomainSocketChannel.class;
        };
        this.domainSocketChannelType = switch (kind) {
            case IO_URING -> io.netty.channel.uring.IoUringDomainSocketChannel.class;
            case EPOLL -> io.netty.channel.epoll.EpollDomainSocketChannel.class;
            default -> io.netty.channel.socket.nio.NioDomainSocketChannel.class;
        };
        this.acceptors = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("relay-accept", true), ioFactory);
        this.workers = new MultiThreadIoEventLoopGroup(workerThreads,
                new DefaultThreadFactory("relay-worker", true), ioFactory);
    }

    /** A runtime of {@code kind} with {@code workerThreads} event loops (0: one per available core). */
    public static TransportRuntime create(Kind kind, int workerThreads) {
        if (workerThreads < 0) {
            throw new IllegalArgumentException("workerThreads: " + workerThreads + " (expected: >= 0)");
        }
        int threads = workerThreads == 0 ? Runtime.getRuntime().availableProcessors() : workerThreads;
        return new TransportRuntime(kind, threads);
    }

    /** The default runtime: best transport, one event loop per core. */
    public static TransportRuntime create() {
        return create(Kind.AUTO, 0);
    }

    private static Kind resolve(Kind requested) {
        return switch (requested) {
            case AUTO -> IoUring.isAvailable() ? Kind.IO_URING : Epoll.isAvailable() ? Kind.EPOLL : Kind.NIO;
            case IO_URING -> {
                if (!IoUring.isAvailable()) {
                    throw new IllegalStateException("transport: io_uring is not available here: "
                            + IoUring.unavailabilityCause());
                }
                yield Kind.IO_URING;
            }
            case EPOLL -> {
                if (!Epoll.isAvailable()) {
                    throw new IllegalStateException("transport: epoll is not available here: "
                            + Epoll.unavailabilityCause());
                }
                yield Kind.EPOLL;
            }
            case NIO -> Kind.NIO;
        };
    }

    /** The transport actually in use (never {@link Kind#AUTO}). */
    public Kind kind() {
        return kind;
    }

    /**
     * Whether listeners can be handed between processes on this runtime: adopted from an inherited
     * descriptor ({@link HttpProxyServer#adoptListener(int)}) and exposed for passing
     * ({@link HttpProxyServer#listenerFileDescriptors()}). io_uring and epoll can (io_uring through
     * {@link AdoptedIoUringServerSocketChannel}, Netty's own io_uring server channel opens only sockets
     * of its own); NIO has no descriptors.
     */
    public boolean canAdoptListeners() {
        return kind == Kind.EPOLL || kind == Kind.IO_URING && IO_URING_ADOPTION;
    }

    /**
     * A server channel of this transport for {@code fd}, a TCP socket already bound and listening; it
     * owns the descriptor. Register it, never bind it.
     *
     * @throws IllegalStateException when this transport cannot adopt descriptors
     */
    ServerChannel adoptedServerChannel(int fd) {
        if (!canAdoptListeners()) {
            throw new IllegalStateException("adoptListener: the " + this + " cannot adopt a listening socket "
                    + "(expected: io_uring or epoll)");
        }
        return kind == Kind.IO_URING ? new AdoptedIoUringServerSocketChannel(fd) : new EpollServerSocketChannel(fd);
    }

    EventLoopGroup acceptors() {
        return acceptors;
    }

    EventLoopGroup workers() {
        return workers;
    }

    Class<? extends ServerChannel> serverChannelType() {
        return serverChannelType;
    }

    Class<? extends SocketChannel> socketChannelType() {
        return socketChannelType;
    }

    Class<? extends io.netty.channel.socket.DatagramChannel> datagramChannelType() {
        return datagramChannelType;
    }

    /** The listening Unix-domain socket channel of this transport. */
    Class<? extends ServerChannel> serverDomainSocketChannelType() {
        return serverDomainSocketChannelType;
    }

    /** The connecting Unix-domain socket channel of this transport. */
    Class<? extends Channel> domainSocketChannelType() {
        return domainSocketChannelType;
    }

    /**
     * {@code address} in the form this transport's domain-socket channels take: the JDK's own for NIO,
     * Netty's {@link DomainSocketAddress} for the native transports.
     */
    SocketAddress domainSocketAddress(UnixDomainSocketAddress address) {
        return kind == Kind.NIO ? address : new DomainSocketAddress(address.getPath().toString());
    }

    /**
     * A DNS resolver on this transport's channels, for a component that connects upstream; the
     * component closes it when it closes.
     */
    io.netty.resolver.dns.DnsAddressResolverGroup newDnsResolver() {
        return new io.netty.resolver.dns.DnsAddressResolverGroup(new io.netty.resolver.dns.DnsNameResolverBuilder()
                .datagramChannelType(datagramChannelType)
                .socketChannelType(socketChannelType));
    }

    /** How this transport reaches Unix-domain socket peers. */
    dev.relay.transport.internal.DomainSockets domainSockets() {
        return new dev.relay.transport.internal.DomainSockets(domainSocketChannelType, this::domainSocketAddress);
    }

    /**
     * Graceful stop: stops the event loops, letting queued tasks run for up to {@code timeout}.
     * Returns at once; the stage completes when both groups have stopped. Stop the servers on this
     * runtime first.
     */
    public CompletionStage<Void> stop(Duration timeout) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Future<?> a = acceptors.shutdownGracefully(0, timeout.toMillis(), TimeUnit.MILLISECONDS);
        Future<?> w = workers.shutdownGracefully(0, timeout.toMillis(), TimeUnit.MILLISECONDS);
        a.addListener(fa -> w.addListener(fw -> done.complete(null)));
        return done;
    }

    /** Immediate stop: stops the event loops and waits up to five seconds for them to end. */
    @Override
    public void close() {
        stop(Duration.ofSeconds(2)).toCompletableFuture().orTimeout(5, TimeUnit.SECONDS)
                .exceptionally(e -> null).join();
    }

    @Override
    public String toString() {
        return "TransportRuntime{" + kind.name().toLowerCase(Locale.ROOT) + '}';
    }
}
