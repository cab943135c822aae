package dev.relay.transport.internal;

import dev.relay.core.HttpPeer;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.resolver.DefaultAddressResolverGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An upstream HTTP connection reads what the origin has sent in reads of up to {@link UpstreamReadSizes#MAX_READ},
 * not Netty's default 64 KiB: a response a little over 64 KiB then reaches the client in one write.
 */
class UpstreamReadSizeTest {

    @Test
    @Timeout(60)
    void readsOfAnUpstreamConnectionGrowPastNettysDefaultCap() throws Exception {
        int total = 200 * 1024;
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (ServerSocket origin = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            List<Integer> reads = new CopyOnWriteArrayList<>();
            CountDownLatch all = new CountDownLatch(1);
            // A receive buffer that can hold the whole burst: the kernel's window, not the reads, would cap them.
            Bootstrap bootstrap = new Bootstrap().group(group)
                    .option(ChannelOption.RCVBUF_ALLOCATOR, new UpstreamReadSizes())
                    .option(ChannelOption.SO_RCVBUF, 1024 * 1024)
                    .handler(new ChannelInboundHandlerAdapter() {
                        private int received;

                        @Override
                        public void channelActive(ChannelHandlerContext ctx) throws Exception {
                            // Read only once the whole burst sits in the socket, as a response does when the event loop is busy.
                            ctx.channel().config().setAutoRead(false);
                            super.channelActive(ctx);
                        }

                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ByteBuf buf = (ByteBuf) msg;
                            reads.add(buf.readableBytes());
                            received += buf.readableBytes();
                            buf.release();
                            if (received == total) {
                                all.countDown();
                            }
                        }
                    });
            HttpPeer peer = HttpPeer.of("127.0.0.1:" + origin.getLocalPort(), false, "");
            SocketAddress address = UpstreamConnector.transport(bootstrap, peer, NioSocketChannel.class,
                    DomainSockets.NIO, DefaultAddressResolverGroup.INSTANCE);
            Channel channel = bootstrap.connect(address).sync().channel();
            try (Socket accepted = origin.accept()) {
                // Written from another thread: should the kernel hold less than the burst, the write waits
                // for the reads instead of blocking the test.
                Thread writer = new Thread(() -> {
                    try {
                        OutputStream out = accepted.getOutputStream();
                        out.write(new byte[total]);
                        out.flush();
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }, "burst-writer");
                writer.start();
                Thread.sleep(200); // loopback delivers at once; give the kernel a moment to queue the burst
                channel.config().setAutoRead(true);
                assertTrue(all.await(30, TimeUnit.SECONDS), "received all, reads " + reads);
                writer.join();
            } finally {
                channel.close().sync();
            }
            int largest = reads.stream().mapToInt(Integer::intValue).max().orElseThrow();
            assertTrue(largest > 64 * 1024, "read sizes " + reads);
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void readsThatFillTheirBufferGrowTheSizeUpToTheMaximum() {
        RecvByteBufAllocator.ExtendedHandle handle =
                (RecvByteBufAllocator.ExtendedHandle) new UpstreamReadSizes().newHandle();
        EmbeddedChannel channel = new EmbeddedChannel();
        try {
            assertEquals(UpstreamReadSizes.INITIAL_READ, handle.guess());
            int[] expected = {8192, 32768, UpstreamReadSizes.MAX_READ, UpstreamReadSizes.MAX_READ};
            for (int size : expected) {
                loop(handle, channel, Integer.MAX_VALUE); // fills whatever buffer it gets
                assertEquals(size, handle.guess());
            }
            loop(handle, channel, 65_000); // a 64 KiB response: more than a quarter, the size stays
            loop(handle, channel, 65_000);
            assertEquals(UpstreamReadSizes.MAX_READ, handle.guess());
        } finally {
            channel.finishAndReleaseAll();
        }
    }

    @Test
    void theSizeShrinksAfterReadsThatTookLittle() {
        RecvByteBufAllocator.ExtendedHandle handle =
                (RecvByteBufAllocator.ExtendedHandle) new UpstreamReadSizes().newHandle();
        EmbeddedChannel channel = new EmbeddedChannel();
        try {
            for (int i = 0; i < 4; i++) {
                loop(handle, channel, Integer.MAX_VALUE); // full reads: grown to the maximum
            }
            assertEquals(UpstreamReadSizes.MAX_READ, handle.guess());
            loop(handle, channel, 200); // one small response: no change yet
            assertEquals(UpstreamReadSizes.MAX_READ, handle.guess());
            loop(handle, channel, 200);
            assertEquals(UpstreamReadSizes.MAX_READ / 2, handle.guess(), "halved after two in a row");
            for (int i = 0; i < 40; i++) {
                loop(handle, channel, 200);
            }
            assertEquals(UpstreamReadSizes.MIN_READ, handle.guess());
        } finally {
            channel.finishAndReleaseAll();
        }
    }

    /** One read loop, its one read taking at most {@code bytes}; the loop ends as a channel's does. */
    private static void loop(RecvByteBufAllocator.ExtendedHandle handle, EmbeddedChannel channel, int bytes) {
        handle.reset(channel.config());
        ByteBuf buf = handle.allocate(UnpooledByteBufAllocator.DEFAULT);
        handle.attemptedBytesRead(buf.writableBytes());
        handle.lastBytesRead(Math.min(bytes, buf.writableBytes()));
        buf.release();
        handle.incMessagesRead(1);
        assertFalse(handle.continueReading(), "one read per loop");
        handle.readComplete();
    }
}
