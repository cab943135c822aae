package dev.relay.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

import java.util.ArrayDeque;

/**
 * Chooses between HTTP/1.1 and HTTP/2 for one client connection of a listener with HTTP/2 on, and
 * leaves the pipeline once it has. It sits in front of the HTTP/1.1 handlers, which are in place from
 * the start (so an HTTP/1.1 connection pays nothing but a byte comparison, and the keep-alive timer
 * of {@link DownstreamHandler} bounds a client that sends nothing):
 *
 * <ul>
 *   <li>on a TLS connection, by ALPN: after the handshake, {@code h2} installs HTTP/2, anything else
 *       (or no ALPN) keeps HTTP/1.1;</li>
 *   <li>on a plain connection, by the client's first bytes: the 24-byte HTTP/2 connection preface
 *       ({@code PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n}) installs HTTP/2 (prior knowledge, h2c); the first
 *       byte that differs from it means HTTP/1.1. Bytes are held only while they match the preface.</li>
 * </ul>
 *
 * Installing HTTP/2 removes the HTTP/1.1 handlers and appends {@link Http2DownstreamPipeline}'s; the
 * bytes held are then passed on, in order, to whichever protocol won.
 */
final class DownstreamProtocolSelector extends ChannelInboundHandlerAdapter {
    private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();

    /** Appends the HTTP/2 handlers once this connection speaks HTTP/2. */
    @FunctionalInterface
    interface Http2Installer {
        void install(ChannelPipeline pipeline);
    }

    private final boolean tls;
    private final String[] http1Handlers;
    private final Http2Installer http2;
    private @Nullable ByteBuf held;
    /** TLS only: what came before the handshake event (normally nothing, so made on first use). */
    private @Nullable ArrayDeque<Object> early;

    /**
     * @param tls           whether the connection is TLS (choose by ALPN) or plain (choose by preface)
     * @param http1Handlers the names of the HTTP/1.1 handlers to remove for HTTP/2; shared by the
     *                      connections of a listener, not copied (never modified)
     */
    DownstreamProtocolSelector(boolean tls, String[] http1Handlers, Http2Installer http2) {
        this.tls = tls;
        this.http1Handlers = http1Handlers;
        this.http2 = http2;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (tls) {
            if (early == null) {
                early = new ArrayDeque<>(1);
            }
            early.add(msg);
            return;
        }
        if (!(msg instanceof ByteBuf buf)) {
            ctx.fireChannelRead(msg);
            return;
        }
        held = ByteRelay.append(held, buf);
        int compared = Math.min(held.readableBytes(), PREFACE.readableBytes());
        if (!ByteBufUtil.equals(held, held.readerIndex(), PREFACE, 0, compared)) {
            choose(ctx, false);
        } else if (compared == PREFACE.readableBytes()) {
            choose(ctx, true);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (tls && evt instanceof SslHandshakeCompletionEvent done && done.isSuccess()) {
            SslHandler ssl = ctx.pipeline().get(SslHandler.class);
            boolean h2 = ssl != null && ApplicationProtocolNames.HTTP_2.equals(ssl.applicationProtocol());
            ctx.fireUserEventTriggered(evt);
            choose(ctx, h2);
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    private void choose(ChannelHandlerContext ctx, boolean h2) {
        ChannelPipeline pipeline = ctx.pipeline();
        if (h2) {
            for (String name : http1Handlers) {
                if (pipeline.get(name) != null) {
                    pipeline.remove(name);
                }
            }
            http2.install(pipeline);
        }
        ByteBuf bytes = held;
        held = null;
        ArrayDeque<Object> earlier = early;
        early = null;
        pipeline.remove(this);
        if (bytes != null) {
            ctx.fireChannelRead(bytes);
        }
        if (earlier != null) {
            for (Object m : earlier) {
                ctx.fireChannelRead(m);
            }
        }
        if (bytes != null || earlier != null && !earlier.isEmpty()) {
            ctx.fireChannelReadComplete();
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        // Removed with the connection before a choice: nobody will read what was held.
        if (held != null) {
            held.release();
            held = null;
        }
        if (early != null) {
            Object m;
            while ((m = early.poll()) != null) {
                ReferenceCountUtil.release(m);
            }
            early = null;
        }
    }
}
