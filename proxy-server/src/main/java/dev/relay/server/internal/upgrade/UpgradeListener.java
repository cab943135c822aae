package dev.relay.server.internal.upgrade;

import dev.relay.core.Addresses;
import dev.relay.server.HttpProxyService;
import dev.relay.server.StreamProxyService;
import dev.relay.server.Server;
import dev.relay.server.Service;
import dev.relay.server.internal.admin.AdminServer;
import dev.relay.transport.TransportRuntime;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/**
 * The running process's side of a zero-downtime upgrade: a {@link Service} that listens on the
 * upgrade socket ({@code proxy.server.upgrade-socket}, mode 0600, only the same user may connect)
 * and, when a process started with {@code --upgrade} connects, hands it every listening socket
 * (proxy listeners, stream listeners and the admin listener) and then stops accepting and drains
 * ({@link Server#stopForUpgrade}). See {@link UpgradeChannel} for the conversation.
 *
 * <p>Needs a transport whose listeners can be handed over, io_uring or epoll
 * ({@link TransportRuntime#canAdoptListeners()}), and epoll's Unix-socket channels for the conversation
 * itself (on a small event loop of its own); on NIO it logs why upgrades are off and does nothing.
 */
public final class UpgradeListener implements Service {
    private static final Logger LOG = LoggerFactory.getLogger(UpgradeListener.class);
    static final Duration STEP_TIMEOUT = Duration.ofSeconds(30);

    private final Path path;
    private final HttpProxyService proxy;
    private final AdminServer admin;
    private final List<StreamProxyService> streams;
    private final Supplier<Server> server;
    private final Supplier<Duration> gracePeriod;
    private final AtomicBoolean handingOver = new AtomicBoolean();
    private EventLoopGroup group;
    private Channel listener;
    private CompletionStage<?> deferredUntil;

    /**
     * The upgrade listener of a server.
     *
     * @param admin   nullable: no admin listener
     * @param streams the stream services, whose listeners are handed over too
     */
    public UpgradeListener(Path path, HttpProxyService proxy, AdminServer admin, List<StreamProxyService> streams,
                           Supplier<Server> server, Supplier<Duration> gracePeriod) {
        this.path = requireNonNull(path, "path");
        this.proxy = requireNonNull(proxy, "proxy");
        this.admin = admin;
        this.streams = List.copyOf(streams);
        this.server = requireNonNull(server, "server");
        this.gracePeriod = requireNonNull(gracePeriod, "gracePeriod");
    }

    @Override
    public String name() {
        return "upgrade";
    }

    /**
     * Makes {@link #start} listen only once {@code stage} completes: a process started with
     * {@code --upgrade} takes the upgrade socket over after its predecessor has let it go.
     */
    public synchronized void deferUntil(CompletionStage<?> stage) {
        this.deferredUntil = requireNonNull(stage, "stage");
    }

    @Override
    public synchronized void start(TransportRuntime runtime) {
        if (deferredUntil != null) {
            CompletionStage<?> stage = deferredUntil;
            deferredUntil = null;
            stage.whenComplete((v, e) -> start(runtime));
            return;
        }
        Server s = server.get();
        if (s != null && s.isStopping()) {
            return;
        }
        if (!runtime.canAdoptListeners() || !Epoll.isAvailable()) {
            LOG.warn("zero-downtime upgrade is off: it needs the io_uring or epoll transport (this server runs {}); "
                    + "set proxy.server.transport = auto", runtime.kind().name().toLowerCase(java.util.Locale.ROOT));
            return;
        }
        try {
            prepareSocketPath();
        } catch (IOException e) {
            LOG.warn("zero-downtime upgrade is off: {}", e.getMessage());
            return;
        }
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("relay-upgrade", true), EpollIoHandler.newFactory());
        try {
            listener = new ServerBootstrap().group(group).channel(EpollServerDomainSocketChannel.class)
                    .childHandler(new ChannelInitializer<EpollDomainSocketChannel>() {
                        @Override
                        protected void initChannel(EpollDomainSocketChannel ch) {
                            UpgradeChannel end = UpgradeChannel.attach(ch);
                            Thread t = new Thread(() -> converse(end), "relay-upgrade-handoff");
                            t.setDaemon(true);
                            t.start();
                        }
                    })
                    .bind(new DomainSocketAddress(path.toFile())).syncUninterruptibly().channel();
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            LOG.info("upgrade socket {}: start a new process with --upgrade to take over without downtime", path);
        } catch (IOException | RuntimeException e) {
            LOG.warn("zero-downtime upgrade is off: cannot listen on {}: {}", path, e.getMessage());
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            group = null;
            listener = null;
        }
    }

    /** Removes a stale socket file (no process answers on it); fails when a live process does. */
    private void prepareSocketPath() throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (java.nio.channels.SocketChannel probe = java.nio.channels.SocketChannel.open(
                java.net.UnixDomainSocketAddress.of(path))) {
            throw new IOException(path + " is the upgrade socket of another running process "
                    + "(start this one with --upgrade to take over from it, or set proxy.server.upgrade-socket)");
        } catch (java.net.ConnectException | java.nio.file.NoSuchFileException e) {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("another running process")) {
                throw e;
            }
            Files.deleteIfExists(path);
        }
    }

    private void converse(UpgradeChannel end) {
        List<Integer> fds = new ArrayList<>();
        try {
            if (end.peerUid() != UpgradeChannel.ownUid()) {
                LOG.warn("upgrade: refused a process of user {} (expected: this process's user)", end.peerUid());
                end.close();
                return;
            }
            String hello = end.readLine(STEP_TIMEOUT);
            if (!hello.startsWith("RELAY-UPGRADE 1")) {
                LOG.warn("upgrade: unexpected greeting '{}'", hello);
                end.close();
                return;
            }
            if (!handingOver.compareAndSet(false, true)) {
                end.send("BUSY");
                end.close();
                return;
            }
            Server s = server.get();
            if (s == null || !s.isRunning()) {
                end.send("STOPPING");
                end.close();
                handingOver.set(false);
                return;
            }
            LOG.info("upgrade: process {} asks for the listening sockets", hello.substring("RELAY-UPGRADE 1".length()).trim());
            fds.addAll(proxy.listenerFileDescriptors().values());
            for (StreamProxyService stream : streams) {
                fds.addAll(stream.listenerFileDescriptors().values());
            }
            Integer adminFd = admin == null ? null : admin.listenerFileDescriptor();
            if (adminFd != null) {
                fds.add(adminFd);
            }
            end.send("FDS " + fds.size());
            String send = end.readLine(STEP_TIMEOUT);
            if (!send.equals("SEND")) {
                throw new IOException("expected SEND, got '" + send + "'");
            }
            for (int fd : fds) {
                end.sendFd(fd);
            }
            // The new process now adopts the sockets and starts its services (a JVM start: seconds).
            String ready = end.readLine(Duration.ofMinutes(2));
            if (!ready.equals("READY")) {
                throw new IOException("expected READY, got '" + ready + "'");
            }
            LOG.info("upgrade: the new process accepts on {} socket(s); this one stops accepting and drains", fds.size());
            if (admin != null) {
                admin.stopAccepting();
            }
            // Stream connections last: stop taking new ones at once rather than after the HTTP drain.
            streams.forEach(StreamProxyService::stopAccepting);
            closeUpgradeSocket();
            end.send("BYE");
            end.close();
            s.stopForUpgrade(gracePeriod.get());
        } catch (IOException | RuntimeException e) {
            // Before READY nothing changed here: keep running, accept the next attempt.
            LOG.warn("upgrade: handoff abandoned, this process keeps serving: {}", e.getMessage());
            end.close();
            handingOver.set(false);
        }
    }

    private synchronized void closeUpgradeSocket() {
        if (listener != null) {
            listener.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
            listener = null;
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                LOG.debug("cannot remove {}: {}", path, e.toString());
            }
        }
    }

    @Override
    public CompletionStage<Void> stop(Duration gracePeriod) {
        close();
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {
        closeUpgradeSocket();
        EventLoopGroup g;
        synchronized (this) {
            g = group;
            group = null;
        }
        if (g != null) {
            g.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    static String describe(InetSocketAddress address) {
        return Addresses.format(address);
    }
}
