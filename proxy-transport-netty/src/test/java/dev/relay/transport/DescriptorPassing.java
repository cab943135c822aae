package dev.relay.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketReadMode;
import io.netty.channel.unix.FileDescriptor;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Hands a descriptor over a Unix socket (SCM_RIGHTS) within this process, the way a zero-downtime
 * upgrade hands a listening socket to the next process: the receiver gets a descriptor of its own for
 * the same socket, and the sender's stays open.
 */
final class DescriptorPassing {
    private static final AtomicInteger SOCKETS = new AtomicInteger();

    private DescriptorPassing() {}

    /** Sends {@code fd} through a Unix socket created in {@code dir} and returns the descriptor received. */
    static int pass(int fd, Path dir) throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            DomainSocketAddress address = new DomainSocketAddress(
                    dir.resolve("pass-" + SOCKETS.incrementAndGet() + ".sock").toFile());
            Channel sender = new ServerBootstrap().group(group).channel(EpollServerDomainSocketChannel.class)
                    .childHandler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelActive(ChannelHandlerContext ctx) {
                            ctx.writeAndFlush(new FileDescriptor(fd)).addListener(ChannelFutureListener.CLOSE);
                        }
                    })
                    .bind(address).sync().channel();
            CompletableFuture<Integer> received = new CompletableFuture<>();
            Channel receiver = new Bootstrap().group(group).channel(EpollDomainSocketChannel.class)
                    .option(EpollChannelOption.DOMAIN_SOCKET_READ_MODE, DomainSocketReadMode.FILE_DESCRIPTORS)
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            if (msg instanceof FileDescriptor descriptor) {
                                received.complete(descriptor.intValue());
                            }
                        }
                    })
                    .connect(address).sync().channel();
            int descriptor = received.get(10, TimeUnit.SECONDS);
            receiver.close().sync();
            sender.close().sync();
            return descriptor;
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
