package dev.relay.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

import java.util.concurrent.Future;

/**
 * The one byte splice of the engine: copies raw bytes both ways between two channels of one event
 * loop, a client side ({@code downstream}) and an upstream side, until both directions are done.
 * It carries the TCP/TLS stream proxy ({@link StreamCall}) and the HTTP tunnels once their exchange
 * switched protocols ({@link TunnelStart}: a WebSocket after {@code 101}, a {@code CONNECT} after
 * {@code 200}).
 *
 * <ul>
 *   <li><b>Backpressure</b>, both ways: a side reads only while the other side is writable
 *       (auto-read off when the other's outbound buffer passes its high water mark, on again when it
 *       drains below the low one; Netty's {@code HexDumpProxy} rule), so at most one read batch per
 *       direction waits in memory. Writes are flushed at the end of each read batch.</li>
 *   <li><b>Half-close</b>: the end of one side's input (a TCP FIN, or a TLS close_notify) becomes the
 *       end of the other side's output once what was read before it is written
 *       ({@code shutdownOutput}, or a close_notify on a TLS side), and the other direction carries on.
 *       Both channels get {@link ChannelOption#ALLOW_HALF_CLOSURE}.</li>
 *   <li>The relay ends once both directions are done, when a side closes, on an error, when nothing
 *       moved for the idle timeout, or on {@link #abort}. After a finished exchange or a close, what
 *       was read is still written before the channels close (closing at once dropped what a slow
 *       reader had not taken yet); a reader that never takes it is cut off after one more idle
 *       timeout. After an error, a timeout or an abort both channels close at once. The
 *       {@link Listener} hears the end exactly once.</li>
 *   <li>Byte counts per direction. Buffer ownership: each buffer read is written to the other side,
 *       whose write releases it; a buffer that arrives after its direction is done is released here.</li>
 * </ul>
 *
 * <p>Two ways to start. A stream proxy calls {@link #start(Channel, Channel, long, EngineClock, Listener)}
 * on two connected channels whose pipelines hand on plain {@link ByteBuf}s (an {@link SslHandler} may
 * sit before); a side whose pipeline ends with a {@link #holdingHandler()} named {@value #HANDLER}
 * has the bytes it received meanwhile sent first. An HTTP tunnel creates the relay with
 * {@link #ByteRelay(long, EngineClock, Listener)}, lets each stream put {@link #downstreamHandler()}
 * and {@link #upstreamHandler()} where its HTTP codec was, and calls {@link #start(ByteBuf, ByteBuf)}
 * with the bytes each side sent before the switch. Confined to the channels' event loop: create,
 * start and abort on it.
 */
final class ByteRelay {
    /** The name of the relay's handler (and of the {@link #holdingHandler()} it replaces) in both pipelines. */
    static final String HANDLER = "relay";

    /** How the relay ended. */
    enum End {
        /** Both directions finished, or a side closed. */
        COMPLETED,
        /** No byte moved either way for the idle timeout. */
        IDLE_TIMEOUT,
        /** The downstream channel failed. */
        DOWNSTREAM_ERROR,
        /** The upstream channel failed. */
        UPSTREAM_ERROR,
        /** {@link #abort} was called. */
        ABORTED
    }

    /** Hears the end of a relay, once, on the event loop; the byte counts are final then. */
    interface Listener {
        /**
         * @param cause the failure for {@link End#DOWNSTREAM_ERROR} and {@link End#UPSTREAM_ERROR}, else null
         */
        void relayEnded(ByteRelay relay, End end, @Nullable Throwable cause);
    }

    private final Side downstream;
    private final Side upstream;
    private final long idleTimeoutNanos;
    private final EngineClock clock;
    private final Listener listener;
    private @Nullable LazyTimer idleTimer;
    private boolean started;
    private boolean ended;

    /**
     * A relay whose two handlers are yet to be placed in the pipelines of two channels of one event
     * loop; {@link #start(ByteBuf, ByteBuf)} begins it.
     *
     * @param idleTimeoutNanos end the relay when no byte moved either way for this long; 0: no idle timeout
     */
    ByteRelay(long idleTimeoutNanos, EngineClock clock, Listener listener) {
        this.downstream = new Side(End.DOWNSTREAM_ERROR);
        this.upstream = new Side(End.UPSTREAM_ERROR);
        this.downstream.other = upstream;
        this.upstream.other = downstream;
        this.idleTimeoutNanos = idleTimeoutNanos;
        this.clock = clock;
        this.listener = listener;
    }

    /**
     * Starts relaying between two connected channels of the same event loop (call on it): the relay's
     * handlers go last in both pipelines, replacing a {@link #holdingHandler()} whose bytes go first.
     *
     * @param idleTimeoutNanos end the relay when no byte moved for this long; 0: no idle timeout
     */
    static ByteRelay start(Channel downstream, Channel upstream, long idleTimeoutNanos, EngineClock clock,
                           Listener listener) {
        if (downstream.eventLoop() != upstream.eventLoop()) {
            throw new IllegalArgumentException("upstream: on " + upstream.eventLoop()
                    + " (expected: the downstream's event loop " + downstream.eventLoop() + ")");
        }
        ByteRelay relay = new ByteRelay(idleTimeoutNanos, clock, listener);
        ByteBuf downstreamEarly = relay.downstream.placeLast(downstream.pipeline());
        ByteBuf upstreamEarly = relay.upstream.placeLast(upstream.pipeline());
        relay.start(downstreamEarly, upstreamEarly);
        return relay;
    }

    /**
     * A placeholder for {@value #HANDLER} until the relay starts: it keeps the bytes a side reads
     * meanwhile (the relay sends them on first, even when that side has closed since), and releases
     * them if the pipeline goes away without a relay.
     */
    static ChannelInboundHandlerAdapter holdingHandler() {
        return new Holding();
    }

    /**
     * Appends {@code more} to {@code held} (which may be null): bytes kept in order while a
     * connection waits for its relay. Ownership of both passes to the result.
     */
    static ByteBuf append(@Nullable ByteBuf held, ByteBuf more) {
        if (held == null) {
            return more;
        }
        if (held instanceof CompositeByteBuf composite) {
            return composite.addComponent(true, more);
        }
        return more.alloc().compositeBuffer().addComponents(true, held, more);
    }

    /** The handler for the downstream pipeline, for an owner that places it itself (an HTTP tunnel). */
    ChannelHandler downstreamHandler() {
        return downstream;
    }

    /** The handler for the upstream pipeline, for an owner that places it itself (an HTTP tunnel). */
    ChannelHandler upstreamHandler() {
        return upstream;
    }

    /**
     * Starts copying once both handlers are in their pipelines: writes what each side sent before the
     * relay existed to the other side (ownership of both buffers passes here), then reads both. A
     * side whose input already ended (a FIN before the switch) is passed on at once; one that closed
     * ends the relay (after its early bytes are written).
     */
    void start(ByteBuf downstreamEarly, ByteBuf upstreamEarly) {
        Channel d = downstream.channel;
        Channel u = upstream.channel;
        if (started || d == null || u == null || d.eventLoop() != u.eventLoop()) {
            downstreamEarly.release();
            upstreamEarly.release();
            throw new IllegalStateException("both handlers must be in pipelines of one event loop, once, before the start");
        }
        started = true;
        if (idleTimeoutNanos > 0) {
            idleTimer = new LazyTimer(clock, d.eventLoop(), this::idleExpired);
            idleTimer.arm(idleTimeoutNanos);
        }
        d.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        u.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        downstream.forwardEarly(downstreamEarly);
        upstream.forwardEarly(upstreamEarly);
        downstream.begin();
        upstream.begin();
    }

    /** Bytes read from the downstream (and written upstream). */
    long downstreamBytes() {
        return downstream.bytesRead;
    }

    /** Bytes read from the upstream (and written downstream). */
    long upstreamBytes() {
        return upstream.bytesRead;
    }

    /** Whether the relay has ended. */
    boolean isEnded() {
        return ended;
    }

    /** Ends the relay now (a server shutting down): both channels are closed; the listener hears {@link End#ABORTED}. */
    void abort() {
        end(End.ABORTED, null);
    }

    private void idleExpired() {
        end(End.IDLE_TIMEOUT, null);
    }

    private void progress() {
        if (idleTimer != null) {
            idleTimer.arm(idleTimeoutNanos);
        }
    }

    private void end(End end, @Nullable Throwable cause) {
        if (ended) {
            return;
        }
        ended = true;
        if (idleTimer != null) {
            idleTimer.cancel();
        }
        if (end == End.COMPLETED) {
            downstream.closeAfterWrites();
            upstream.closeAfterWrites();
            cutOffSlowReaders();
        } else {
            downstream.closeNow();
            upstream.closeNow();
        }
        listener.relayEnded(this, end, cause);
    }

    /** A reader that never takes what was written to it must not keep its channel open: one more idle timeout. */
    private void cutOffSlowReaders() {
        Channel d = downstream.channel;
        Channel u = upstream.channel;
        if (idleTimeoutNanos <= 0 || d == null || u == null || !(d.isActive() || u.isActive())) {
            return;
        }
        Future<?> cutOff = clock.schedule(d.eventLoop(), () -> {
            d.close();
            u.close();
        }, idleTimeoutNanos);
        // Once both are closed the task has nothing to do: do not keep it (and the channels) queued.
        ChannelFutureListener whenBothClosed = f -> {
            if (!d.isOpen() && !u.isOpen()) {
                cutOff.cancel(false);
            }
        };
        d.closeFuture().addListener(whenBothClosed);
        u.closeFuture().addListener(whenBothClosed);
    }

    /** One side: reads its channel and writes to the other's. */
    private final class Side extends ChannelInboundHandlerAdapter {
        final End failure;
        Side other;
        @Nullable Channel channel;
        /** Bytes read before the start (none when the owner placed the handler just before it). */
        @Nullable ByteBuf beforeStart;
        long bytesRead;
        /** This side's input has ended (FIN or close_notify): the direction from it is done. */
        boolean inputEnded;
        boolean flushPending;

        Side(End failure) {
            this.failure = failure;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            channel = ctx.channel();
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            releaseBeforeStart();
        }

        /** Puts this handler last in {@code pipeline} (in place of a holding handler); returns the bytes held so far. */
        ByteBuf placeLast(ChannelPipeline pipeline) {
            if (pipeline.get(HANDLER) instanceof Holding holding) {
                ByteBuf held = holding.takeHeld();
                pipeline.replace(HANDLER, HANDLER, this);
                return held;
            }
            pipeline.addLast(HANDLER, this);
            return Unpooled.EMPTY_BUFFER;
        }

        void forwardEarly(ByteBuf early) {
            ByteBuf read = beforeStart;
            beforeStart = null;
            forward(early);
            if (read != null) {
                forward(read);
            }
            flushIfPending();
        }

        /** After the early bytes: notices a side that is already done, else reads it while the other can take it. */
        void begin() {
            Channel ch = channel;
            if (ended || ch == null) {
                return;
            }
            if (!ch.isActive()) {
                // It closed before the relay began: nothing more can come from it.
                closed();
            } else if (ch instanceof DuplexChannel duplex && duplex.isInputShutdown()) {
                inputEnded();
            } else {
                ch.config().setAutoRead(other.channel.isWritable());
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!started && msg instanceof ByteBuf buf) {
                beforeStart = append(beforeStart, buf);
                return;
            }
            forward(msg);
        }

        private void forward(Object msg) {
            if (msg instanceof ByteBufHolder marker && !marker.content().isReadable()) {
                // An empty end marker an HTTP decoder leaves behind after a switch: nothing to relay.
                marker.release();
                return;
            }
            if (!(msg instanceof ByteBuf buf)) {
                ReferenceCountUtil.release(msg);
                end(failure, new IllegalStateException("relay: " + msg.getClass().getName()
                        + " read from " + channel + " (expected: ByteBuf; remove the codecs before relaying)"));
                return;
            }
            int n = buf.readableBytes();
            if (ended || inputEnded || n == 0) {
                buf.release();
                return;
            }
            bytesRead += n;
            progress();
            Channel to = other.channel;
            // A failed write reaches the other side's exceptionCaught (void promise).
            to.write(buf, to.voidPromise());
            flushPending = true;
            if (!to.isWritable()) {
                channel.config().setAutoRead(false);
            }
        }

        private void flushIfPending() {
            if (flushPending) {
                flushPending = false;
                other.channel.flush();
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            flushIfPending();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (started && !ended && channel.isWritable() && !other.inputEnded) {
                // The other side's bytes can flow again: read it.
                other.channel.config().setAutoRead(true);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt == ChannelInputShutdownEvent.INSTANCE || evt instanceof SslCloseCompletionEvent) {
                // Before the start, begin() finds a shut input; a close_notify that early is not seen.
                if (started) {
                    inputEnded();
                }
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (started) {
                closed();
            }
            // The connection's owner (an HTTP listener's handler after a tunnel) still counts the close.
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            end(failure, cause);
            ctx.close();
        }

        private void inputEnded() {
            if (inputEnded || ended) {
                return;
            }
            inputEnded = true;
            channel.config().setAutoRead(false);
            other.shutdownOutputAfterWrites();
            if (other.inputEnded) {
                end(End.COMPLETED, null);
            }
        }

        /** The channel closed: nothing more comes from it, and nothing can be written to it. */
        private void closed() {
            inputEnded = true;
            end(End.COMPLETED, null);
        }

        private void shutdownOutputAfterWrites() {
            Channel ch = channel;
            SslHandler ssl = ch.pipeline().get(SslHandler.class);
            if (ssl != null) {
                // TLS has its own end of output: close_notify (TLS 1.3 keeps reading after it).
                ch.flush();
                ssl.closeOutbound();
            } else if (ch instanceof DuplexChannel duplex) {
                ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
                    if (f.isSuccess() && ch.isActive()) {
                        duplex.shutdownOutput();
                    }
                });
            } else {
                closeAfterWrites();
            }
        }

        void closeAfterWrites() {
            Channel ch = channel;
            if (ch == null) {
                return;
            }
            if (ch.isActive()) {
                ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            } else {
                ch.close();
            }
        }

        void closeNow() {
            if (channel != null) {
                channel.close();
            }
        }

        private void releaseBeforeStart() {
            if (beforeStart != null) {
                beforeStart.release();
                beforeStart = null;
            }
        }
    }

    /** Keeps what a side reads before the relay starts. */
    private static final class Holding extends ChannelInboundHandlerAdapter {
        private @Nullable ByteBuf held;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf buf) {
                held = append(held, buf);
            } else {
                // Only TLS may sit before a holding handler, and it hands on bytes alone.
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // Until the relay starts, failures surface through the connect and handshake futures.
            ctx.close();
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            if (held != null) {
                held.release();
                held = null;
            }
        }

        /** The bytes held so far (ownership passes to the caller; may be empty). */
        ByteBuf takeHeld() {
            ByteBuf taken = held;
            held = null;
            return taken != null ? taken : Unpooled.EMPTY_BUFFER;
        }
    }
}
