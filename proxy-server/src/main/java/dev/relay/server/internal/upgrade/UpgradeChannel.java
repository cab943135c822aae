package dev.relay.server.internal.upgrade;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketReadMode;
import io.netty.channel.unix.FileDescriptor;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One end of the upgrade conversation over a Unix stream socket, read in blocking style by a
 * thread that is not an event loop: lines of text one way and the other, and file descriptors from
 * the old process to the new one.
 *
 * <p>The protocol (the new process is the client, the running one the server):
 * <pre>
 * new → old   RELAY-UPGRADE 1 PID
 * old → new   FDS N
 *             (the new process switches its socket to reading descriptors)
 * new → old   SEND
 * old → new   N descriptors (SCM_RIGHTS), the listening sockets
 *             (the new process switches back to text, adopts the sockets and starts accepting)
 * new → old   READY
 *             (the old process stops accepting, removes the upgrade socket, starts draining)
 * old → new   BYE
 *             (the new process binds the upgrade socket itself)
 * </pre>
 * Both processes accept on the shared sockets between READY and the old process's close: no
 * connection is refused at any time. A new process that dies or fails before READY leaves the old
 * one running as if nothing happened. Descriptors can only be received while the socket reads in
 * {@link DomainSocketReadMode#FILE_DESCRIPTORS} mode and text only in {@code BYTES} mode, hence the
 * SEND step: the old process sends nothing while the new one switches.
 */
final class UpgradeChannel implements AutoCloseable {
    private static final Object CLOSED = new Object();

    private final EpollDomainSocketChannel channel;
    private final BlockingQueue<Object> inbound = new LinkedBlockingQueue<>();

    private UpgradeChannel(EpollDomainSocketChannel channel) {
        this.channel = channel;
    }

    /** Installs the handlers on {@code channel}'s pipeline (before it is active) and returns the end. */
    static UpgradeChannel attach(EpollDomainSocketChannel channel) {
        UpgradeChannel end = new UpgradeChannel(channel);
        ChannelPipeline p = channel.pipeline();
        p.addLast(new LineBasedFrameDecoder(1024), new StringDecoder(StandardCharsets.US_ASCII),
                new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        end.inbound.add(msg);
                    }

                    @Override
                    public void channelInactive(ChannelHandlerContext ctx) {
                        end.inbound.add(CLOSED);
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        ctx.close();
                    }
                });
        return end;
    }

    Channel channel() {
        return channel;
    }

    /** The peer's user id (SO_PEERCRED). */
    int peerUid() throws IOException {
        return channel.peerCredentials().uid();
    }

    void send(String line) throws IOException {
        try {
            channel.writeAndFlush(Unpooled.copiedBuffer(line + "\n", StandardCharsets.US_ASCII)).sync();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (RuntimeException e) {
            throw new IOException("cannot send '" + line + "': " + e.getMessage(), e);
        }
    }

    void sendFd(int fd) throws IOException {
        try {
            channel.writeAndFlush(new FileDescriptor(fd)).sync();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (RuntimeException e) {
            throw new IOException("cannot send descriptor " + fd + ": " + e.getMessage(), e);
        }
    }

    void readDescriptors(boolean on) {
        channel.config().setReadMode(on ? DomainSocketReadMode.FILE_DESCRIPTORS : DomainSocketReadMode.BYTES);
    }

    /** The next line; fails when the peer closed, sent something else, or nothing came in time. */
    String readLine(Duration timeout) throws IOException {
        Object m = next(timeout);
        if (m instanceof String s) {
            return s;
        }
        if (m instanceof FileDescriptor fd) {
            fd.close();
        }
        throw new IOException("expected a line, got " + m);
    }

    /** The next descriptor. */
    int readFd(Duration timeout) throws IOException {
        Object m = next(timeout);
        if (m instanceof FileDescriptor fd) {
            return fd.intValue();
        }
        throw new IOException("expected a file descriptor, got " + m);
    }

    private Object next(Duration timeout) throws IOException {
        Object m;
        try {
            m = inbound.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (m == null) {
            throw new IOException("no answer within " + timeout.toMillis() + "ms");
        }
        if (m == CLOSED) {
            inbound.add(CLOSED);
            throw new IOException("the other process closed the upgrade connection");
        }
        return m;
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    }

    static int ownUid() {
        return (int) new com.sun.security.auth.module.UnixSystem().getUid();
    }
}
