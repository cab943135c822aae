package dev.relay.server.internal.upgrade;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The new process's side of a zero-downtime upgrade ({@code --upgrade}): connects to the running
 * process's upgrade socket and receives its listening sockets ({@link #takeOver}); once this process
 * accepts on them, {@link Handoff#complete()} tells the old one to stop accepting and drain, or
 * {@link Handoff#abort()} leaves it running. See {@link UpgradeChannel} for the conversation.
 */
public final class UpgradeClient {
    private static final Logger LOG = LoggerFactory.getLogger(UpgradeClient.class);

    private UpgradeClient() {}

    /**
     * Takes the listening sockets of the process serving on {@code socket}, retrying the connection
     * for up to {@code connectTimeout} (the old process may still be starting).
     *
     * @throws IOException when no process hands them over
     */
    public static Handoff takeOver(Path socket, Duration connectTimeout) throws IOException {
        if (!Epoll.isAvailable()) {
            throw new IOException("--upgrade talks to the running process over epoll's Unix sockets, and epoll is "
                    + "not available here: " + Epoll.unavailabilityCause());
        }
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("relay-upgrade-client", true),
                EpollIoHandler.newFactory());
        UpgradeChannel end = null;
        try {
            end = connect(group, socket, connectTimeout);
            if (end.peerUid() != UpgradeChannel.ownUid()) {
                throw new IOException(socket + " belongs to another user (" + end.peerUid() + ")");
            }
            end.send("RELAY-UPGRADE 1 " + ProcessHandle.current().pid());
            String fdsLine = end.readLine(UpgradeListener.STEP_TIMEOUT);
            if (!fdsLine.startsWith("FDS ")) {
                throw new IOException("the running process answered '" + fdsLine + "'");
            }
            int count = Integer.parseInt(fdsLine.substring(4).trim());
            end.readDescriptors(true);
            end.send("SEND");
            Map<InetSocketAddress, Integer> sockets = new LinkedHashMap<>();
            for (int i = 0; i < count; i++) {
                int fd = end.readFd(UpgradeListener.STEP_TIMEOUT);
                sockets.put(addressOf(fd), fd);
            }
            end.readDescriptors(false);
            LOG.info("upgrade: received {} listening socket(s) from the running process: {}", count, sockets.keySet());
            return new Handoff(group, end, sockets);
        } catch (IOException | RuntimeException e) {
            if (end != null) {
                end.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            if (e instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getMessage(), e);
        }
    }

    private static UpgradeChannel connect(EventLoopGroup group, Path socket, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            UpgradeChannel[] holder = new UpgradeChannel[1];
            Bootstrap b = new Bootstrap().group(group).channel(EpollDomainSocketChannel.class)
                    .handler(new ChannelInitializer<EpollDomainSocketChannel>() {
                        @Override
                        protected void initChannel(EpollDomainSocketChannel ch) {
                            holder[0] = UpgradeChannel.attach(ch);
                        }
                    });
            var future = b.connect(new DomainSocketAddress(socket.toFile())).awaitUninterruptibly();
            if (future.isSuccess()) {
                return holder[0];
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new IOException("cannot connect to the upgrade socket " + socket + " of the running process: "
                        + future.cause().getMessage());
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
    }

    /** The address a listening socket is bound to. */
    private static InetSocketAddress addressOf(int fd) throws IOException {
        // The channel only reads the socket's name: it is never registered, and is not closed here
        // (closing it would close the descriptor the server adopts next).
        SocketAddress local = new EpollServerSocketChannel(fd).localAddress();
        if (local instanceof InetSocketAddress inet) {
            return inet;
        }
        throw new IOException("descriptor " + fd + " is not a TCP listening socket");
    }

    /** Sockets received from the running process, and the conversation still open with it. */
    public static final class Handoff {
        private final EventLoopGroup group;
        private final UpgradeChannel end;
        private final Map<InetSocketAddress, Integer> sockets;

        Handoff(EventLoopGroup group, UpgradeChannel end, Map<InetSocketAddress, Integer> sockets) {
            this.group = group;
            this.end = end;
            this.sockets = Map.copyOf(sockets);
        }

        /** The listening sockets by the address each is bound to. */
        public Map<InetSocketAddress, Integer> sockets() {
            return sockets;
        }

        /**
         * Tells the old process that this one accepts on the sockets: it stops accepting, removes the
         * upgrade socket and drains. Returns once it has said so (then the upgrade socket path is free).
         */
        public void complete() throws IOException {
            try {
                end.send("READY");
                String bye = end.readLine(UpgradeListener.STEP_TIMEOUT);
                if (!bye.equals("BYE")) {
                    throw new IOException("expected BYE, got '" + bye + "'");
                }
            } finally {
                end.close();
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            }
        }

        /** Gives up: the old process keeps serving. Received sockets this process did not adopt stay open. */
        public void abort() {
            end.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
