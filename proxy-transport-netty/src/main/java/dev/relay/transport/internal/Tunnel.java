package dev.relay.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

/**
 * Copies raw bytes both ways between two channels of one event loop, once neither speaks HTTP any
 * more (a WebSocket after {@code 101}, a {@code CONNECT} after {@code 200}); usable for any splice of
 * two connections. Each side has a handler ({@link #clientHandler()}, {@link #originHandler()}) that
 * the side's owner puts in its pipeline where the HTTP codec was; {@link #start} then turns reading on.
 *
 * <ul>
 *   <li>Backpressure: a side is read only while the other side's channel is writable (Netty's
 *       {@code HexDumpProxy} rule); writes are flushed at the end of each read.</li>
 *   <li>Half-close: a FIN from one side becomes a {@code shutdownOutput} on the other once what was
 *       read before it has been written; the tunnel ends when both directions are done.</li>
 *   <li>It also ends when either side closes or fails (the other side is closed once what is pending
 *       for it has been written), or when no byte moved either way for the idle timeout.</li>
 * </ul>
 *
 * <p>Buffer ownership: a buffer read from one side is written to the other (the write releases it);
 * what arrives after the end is released. Confined to the event loop of both channels.
 */
final class Tunnel {
    /** Hears the end of the tunnel, once. */
    interface Listener {
        /**
         * The tunnel is over and both channels are closing.
         *
         * @param cause      why it ended early (an I/O error), or null for a close or a finished exchange
         * @param fromClient whether {@code cause} came from the client's side
         * @param idle       whether the idle timeout ended it
         */
        void onTunnelEnd(Tunnel tunnel, @Nullable Throwable cause, boolean fromClient, boolean idle);
    }

    private final Side client;
    private final Side origin;
    private final Listener listener;
    private final EngineClock clock;
    private final long idleNanos;
    private @Nullable LazyTimer idleTimer;
    private boolean started;
    private boolean ended;

    /**
     * A tunnel whose two handlers are yet to be placed in the pipelines of two channels of one event loop.
     *
     * @param idleNanos no byte either way for this long ends the tunnel; 0: no idle timeout
     */
    Tunnel(EngineClock clock, long idleNanos, Listener listener) {
        this.client = new Side(true);
        this.origin = new Side(false);
        this.client.peer = origin;
        this.origin.peer = client;
        this.clock = clock;
        this.listener = listener;
        this.idleNanos = idleNanos;
    }

    /** The handler for the client's pipeline. */
    ChannelInboundHandlerAdapter clientHandler() {
        return client;
    }

    /** The handler for the origin's pipeline. */
    ChannelInboundHandlerAdapter originHandler() {
        return origin;
    }

    /**
     * Appends {@code more} to {@code held} (either may be the first): bytes kept in order while a
     * connection waits for its tunnel. Ownership of both passes to the result.
     */
    static ByteBuf append(@Nullable ByteBuf held, ByteBuf more) {
        if (held == null) {
            return more;
        }
        if (held instanceof io.netty.buffer.CompositeByteBuf composite) {
            return composite.addComponent(true, more);
        }
        return more.alloc().compositeBuffer().addComponents(true, held, more);
    }

    /** Bytes read from the client and passed to the origin. */
    long clientToOriginBytes() {
        return client.bytesRead;
    }

    /** Bytes read from the origin and passed to the client. */
    long originToClientBytes() {
        return origin.bytesRead;
    }

    /**
     * Starts copying: writes what each side sent before the tunnel existed to the other side
     * (ownership of both buffers passes here), then reads both. A side whose input already ended
     * (a FIN before the switch) is passed on at once.
     */
    void start(ByteBuf clientEarly, ByteBuf originEarly) {
        if (client.channel == null || origin.channel == null || client.channel.eventLoop() != origin.channel.eventLoop()) {
            clientEarly.release();
            originEarly.release();
            throw new IllegalStateException("both handlers must be in pipelines of one event loop before the start");
        }
        started = true;
        if (idleNanos > 0) {
            idleTimer = new LazyTimer(clock, client.channel.eventLoop(), this::onIdle);
        }
        client.writeEarly(originEarly);
        origin.writeEarly(clientEarly);
        if (idleTimer != null) {
            idleTimer.arm(idleNanos);
        }
        for (Side side : new Side[] {client, origin}) {
            side.channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        }
        client.begin();
        if (!ended) {
            origin.begin();
        }
    }

    /** Ends the tunnel now (closing both channels); for an owner that must stop it. */
    void close() {
        end(null, false, false);
    }

    private void onIdle() {
        end(null, false, true);
    }

    private void end(@Nullable Throwable cause, boolean fromClient, boolean idle) {
        if (ended) {
            return;
        }
        ended = true;
        if (idleTimer != null) {
            idleTimer.cancel();
        }
        // After a close or a finished exchange what is pending still goes out; after an error or a
        // timeout nothing is owed, and a peer that does not read must not keep the channel open.
        boolean abrupt = cause != null || idle;
        client.close(abrupt);
        origin.close(abrupt);
        listener.onTunnelEnd(this, cause, fromClient, idle);
    }

    /** One side: reads from {@link #channel} and writes to the peer's channel. */
    private final class Side extends ChannelInboundHandlerAdapter {
        final boolean isClient;
        @Nullable Channel channel;
        Side peer;
        long bytesRead;
        /** This side's FIN was passed on to the peer (or is being). */
        boolean inputDone;
        /** The peer's output was shut after this side's FIN. */
        boolean forwardedFin;

        Side(boolean isClient) {
            this.isClient = isClient;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            channel = ctx.channel();
        }

        void writeEarly(ByteBuf early) {
            if (early.isReadable()) {
                peer.bytesRead += early.readableBytes();
                channel.writeAndFlush(early, channel.voidPromise());
            } else {
                early.release();
            }
        }

        void begin() {
            if (!channel.isActive()) {
                end(null, false, false);
                return;
            }
            if (channel instanceof DuplexChannel duplex && duplex.isInputShutdown()) {
                onInputShutdown();
                return;
            }
            channel.config().setAutoRead(peer.channel.isWritable());
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf buf) || ended) {
                // A codec's leftover end marker, or bytes after the end: nobody takes them.
                ReferenceCountUtil.release(msg);
                return;
            }
            bytesRead += buf.readableBytes();
            if (idleTimer != null && started) {
                idleTimer.arm(idleNanos);
            }
            peer.channel.write(buf, peer.channel.voidPromise());
            if (!peer.channel.isWritable()) {
                channel.config().setAutoRead(false);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            peer.channel.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (started && !ended && channel.isWritable() && !peer.inputDone) {
                // The peer's bytes can flow again: read it (and flush what this side still holds).
                peer.channel.config().setAutoRead(true);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                if (started) {
                    onInputShutdown();
                }
                // Before the start, begin() finds the shut input and passes it on then.
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        /** This side sent its FIN: once what it sent before has been written, the peer's output is shut. */
        private void onInputShutdown() {
            if (inputDone || ended) {
                return;
            }
            inputDone = true;
            peer.channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f -> {
                if (ended) {
                    return;
                }
                if (!f.isSuccess() || !(peer.channel instanceof DuplexChannel duplex)) {
                    end(f.cause(), !isClient, false);
                    return;
                }
                duplex.shutdownOutput().addListener((ChannelFutureListener) s -> {
                    forwardedFin = true;
                    if (!s.isSuccess()) {
                        end(s.cause(), !isClient, false);
                    } else if (peer.forwardedFin) {
                        // Both directions are finished: the exchange is complete.
                        end(null, false, false);
                    }
                });
            });
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            end(null, false, false);
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            end(cause, isClient, false);
            ctx.close();
        }

        void close(boolean abrupt) {
            Channel ch = channel;
            if (ch == null || !ch.isActive()) {
                return;
            }
            if (abrupt) {
                ch.close();
            } else {
                ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
        }
    }
}
