package dev.relay.server.internal.upgrade;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * systemd's readiness protocol ({@code sd_notify}): a datagram to {@code $NOTIFY_SOCKET} when the
 * service runs {@code Type=notify}. Relay sends {@code READY=1} once it accepts, {@code STOPPING=1}
 * when it begins to drain, and, after taking over from a previous process, {@code MAINPID=} with its
 * own pid (the unit needs {@code NotifyAccess=all}), so that systemd follows the new process. Does
 * nothing without {@code $NOTIFY_SOCKET} or without epoll.
 */
public final class SystemdNotify {
    private static final Logger LOG = LoggerFactory.getLogger(SystemdNotify.class);

    private SystemdNotify() {}

    /** Sends {@code state} (for example {@code READY=1}); false when not under systemd or it failed. */
    public static boolean send(String state) {
        String socket = System.getenv("NOTIFY_SOCKET");
        if (socket == null || socket.isEmpty() || !Epoll.isAvailable()) {
            return false;
        }
        // An abstract socket name starts with '@', which stands for a leading NUL byte.
        String path = socket.startsWith("@") ? "\0" + socket.substring(1) : socket;
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("relay-sd-notify", true),
                EpollIoHandler.newFactory());
        try {
            Channel ch = new Bootstrap().group(group).channel(EpollDomainDatagramChannel.class)
                    .handler(new ChannelInboundHandlerAdapter()).register().syncUninterruptibly().channel();
            ch.writeAndFlush(new DomainDatagramPacket(Unpooled.copiedBuffer(state, StandardCharsets.UTF_8),
                    new DomainSocketAddress(path))).syncUninterruptibly();
            ch.close().syncUninterruptibly();
            LOG.debug("sd_notify: {}", state.replace('\n', ' '));
            return true;
        } catch (RuntimeException e) {
            LOG.warn("sd_notify to {} failed: {}", socket, e.toString());
            return false;
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
