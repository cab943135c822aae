package dev.relay.transport.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.util.concurrent.TimeUnit;

/**
 * On a listening socket: an accept that fails, typically for want of file descriptors (EMFILE,
 * ENFILE), pauses accepting for {@link #PAUSE_SECONDS} and logs one warning per pause. Retrying at
 * once would spin: the pending connection stays in the backlog and the socket stays readable. Netty's
 * {@code ServerBootstrapAcceptor} pauses the same way, but then passes the failure on to the end of
 * the pipeline, where it is logged as an unhandled exception with a stack trace; this handler sits
 * before it and ends the failure here, so the log has one line per pause. Epoll and NIO stop
 * accepting while auto-read is off; io_uring does since {@code TransportRuntime} turns its multishot
 * accept off (with it, failed accepts kept coming: a spin).
 */
@ChannelHandler.Sharable
public final class AcceptBackoff extends ChannelInboundHandlerAdapter {
    /** One handler serves every listening socket: its only state is each socket's auto-read flag. */
    public static final AcceptBackoff INSTANCE = new AcceptBackoff();
    static final int PAUSE_SECONDS = 1;

    private AcceptBackoff() {}

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Channel channel = ctx.channel();
        ChannelConfig config = channel.config();
        if (!config.isAutoRead()) {
            // Already paused: the failure of an accept that was under way is part of the same episode.
            return;
        }
        config.setAutoRead(false);
        ProxyEngine.LOG.log(System.Logger.Level.WARNING, "accepting on {0} failed ({1}): paused for {2} s",
                channel.localAddress(), cause.getMessage(), PAUSE_SECONDS);
        channel.eventLoop().schedule(() -> {
            if (channel.isOpen()) {
                config.setAutoRead(true);
            }
        }, PAUSE_SECONDS, TimeUnit.SECONDS);
    }
}
