package dev.relay.transport.internal;

import dev.relay.core.ConnectionFilter;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.LongAdder;

/**
 * Asks a {@link ConnectionFilter} whether to serve a connection before TLS and HTTP see any byte:
 * when it becomes active, or, on a PROXY protocol listener, once the header gave the client address
 * ({@link ProxyProtocolReader#HEADER_READ}). Reading is off while the answer is pending (bytes that
 * arrived with the PROXY header wait here); a refusal, a failed stage or a filter that throws closes
 * the connection and counts it. Once accepted the handler leaves the pipeline.
 */
final class ConnectionFilterHandler extends ChannelInboundHandlerAdapter {
    private final ConnectionFilter filter;
    private final boolean afterProxyHeader;
    private final LongAdder refused;
    private final ArrayDeque<Object> held = new ArrayDeque<>(1);
    private boolean deciding;

    /**
     * @param afterProxyHeader whether to wait for the PROXY header's address; without it, the
     *                         channel must start with auto-read off, so that nothing is read first
     */
    ConnectionFilterHandler(ConnectionFilter filter, boolean afterProxyHeader, LongAdder refused) {
        this.filter = filter;
        this.afterProxyHeader = afterProxyHeader;
        this.refused = refused;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.fireChannelActive();
        if (!afterProxyHeader && ctx.channel().isActive()) {
            decide(ctx);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ProxyProtocolReader.HEADER_READ && afterProxyHeader) {
            ctx.channel().config().setAutoRead(false);
            decide(ctx);
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    private void decide(ChannelHandlerContext ctx) {
        deciding = true;
        SocketAddress client = ClientAddresses.client(ctx.channel());
        CompletionStage<Boolean> verdict;
        try {
            verdict = filter.shouldAccept(client);
        } catch (Throwable t) {
            ProxyEngine.LOG.log(System.Logger.Level.WARNING, "connection filter failed for " + client, t);
            refuse(ctx);
            return;
        }
        if (verdict instanceof CompletableFuture<Boolean> done && done.isDone() && !done.isCompletedExceptionally()) {
            apply(ctx, Boolean.TRUE.equals(done.getNow(Boolean.FALSE)));
            return;
        }
        verdict.whenComplete((accepted, error) -> ctx.executor().execute(() -> {
            if (error != null) {
                ProxyEngine.LOG.log(System.Logger.Level.WARNING, "connection filter failed for " + client, error);
            }
            apply(ctx, error == null && Boolean.TRUE.equals(accepted));
        }));
    }

    private void apply(ChannelHandlerContext ctx, boolean accepted) {
        if (!ctx.channel().isActive()) {
            releaseHeld();
            return;
        }
        if (!accepted) {
            refuse(ctx);
            return;
        }
        deciding = false;
        Object m;
        while ((m = held.poll()) != null) {
            ctx.fireChannelRead(m);
        }
        ctx.fireChannelReadComplete();
        ctx.pipeline().remove(this);
        ctx.channel().config().setAutoRead(true);
    }

    private void refuse(ChannelHandlerContext ctx) {
        refused.increment();
        ProxyEngine.LOG.log(System.Logger.Level.DEBUG, "connection from {0} refused by the connection filter",
                ClientAddresses.client(ctx.channel()));
        releaseHeld();
        ctx.close();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (deciding || afterProxyHeader && ctx.channel().attr(ClientAddresses.FROM_PROXY_HEADER).get() == null) {
            held.add(msg);
            return;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (!deciding) {
            ctx.fireChannelReadComplete();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        releaseHeld();
        ctx.fireChannelInactive();
    }

    private void releaseHeld() {
        Object m;
        while ((m = held.poll()) != null) {
            ReferenceCountUtil.release(m);
        }
    }
}
