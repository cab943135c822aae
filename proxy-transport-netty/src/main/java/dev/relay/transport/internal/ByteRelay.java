package dev.relay.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
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

import java.util.ArrayDeque;

/**
 * Copies raw bytes both ways between two connected channels of one event loop, a client side
 * ({@code downstream}) and an upstream side, until both directions are done: the splice of a TCP
 * stream proxy, and of a WebSocket or CONNECT tunnel once the HTTP exchange has switched protocols.
 *
 * <ul>
 *   <li><b>Backpressure</b>, both ways: a side reads only while the other side is writable
 *       (auto-read off when the other's outbound buffer passes its high water mark, on again when it
 *       drains below the low one), so at most one read batch per direction waits in memory.</li>
 *   <li><b>Half-close</b>: the end of one side's input (a TCP FIN, or a TLS close_notify) becomes the
 *       end of the other side's output once what was read before it is written
 *       ({@code shutdownOutput}, or a close_notify on a TLS side), and the other direction carries on.
 *       Both channels get {@link ChannelOption#ALLOW_HALF_CLOSURE}.</li>
 *   <li>The relay ends once both directions are done, when a side closes (what was read from it is
 *       still written to the other, which is then closed), on an error (both closed at once), when
 *       nothing moved for the idle timeout, or on {@link #abort}. Both channels are closed then, and
 *       the {@link Listener} hears about it exactly once.</li>
 *   <li>Byte counts per direction; each buffer read is written to the other side, which releases it
 *       (a buffer that arrives after its direction is done is released here).</li>
 * </ul>
 *
 * <p>Starting: a side's pipeline ends with this relay's handler, named {@value #HANDLER}. Whatever
 * sits before it must hand on plain {@link ByteBuf}s (an {@link SslHandler} does; remove the HTTP
 * codecs first). Bytes a side received before the relay started (bytes after a {@code 101}
 * response, data a server sent right after the TLS handshake) are not lost if that side's pipeline
 * had a {@link #holdingHandler()} under the same name: the relay takes its bytes over and sends them
 * first. Confined to the channels' event loop: call {@link #start} and {@link #abort} on it.
 */
final class ByteRelay {
    /** The name of the relay's handler (and of the {@link #holdingHandler()} it replaces) in both pipelines. */
    static final String HANDLER = "relay";

    /** How the relay ended. */
    enum End {
        /** Both directions finished (each side closed or half-closed its output). */
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
        void relayEnded(ByteRelay relay, End end, @Nullable Throwable cause);
    }

    private final Side downstream;
    private final Side upstream;
    private final @Nullable LazyTimer idleTimer;
    private final long idleTimeoutNanos;
    private final Listener listener;
    private final EngineClock clock;
    private boolean ended;

    private ByteRelay(Channel downstream, Channel upstream, long idleTimeoutNanos, EngineClock clock, Listener listener) {
        this.downstream = new Side(downstream, End.DOWNSTREAM_ERROR);
        this.upstream = new Side(upstream, End.UPSTREAM_ERROR);
        this.downstream.other = this.upstream;
        this.upstream.other = this.downstream;
        this.idleTimeoutNanos = idleTimeoutNanos;
        this.idleTimer = idleTimeoutNanos > 0 ? new LazyTimer(clock, downstream.eventLoop(), this::idleExpired) : null;
        this.listener = listener;
        this.clock = clock;
    }

    /**
     * Starts relaying between two active channels of the same event loop (call on it).
     *
     * @param idleTimeoutNanos end the relay when no byte moved for this long; 0: no idle timeout
     */
    static ByteRelay start(Channel downstream, Channel upstream, long idleTimeoutNanos, EngineClock clock,
                           Listener listener) {
        if (downstream.eventLoop() != upstream.eventLoop()) {
            throw new IllegalArgumentException("upstream: on " + upstream.eventLoop()
                    + " (expected: the downstream's event loop " + downstream.eventLoop() + ")");
        }
        ByteRelay relay = new ByteRelay(downstream, upstream, idleTimeoutNanos, clock, listener);
        if (relay.idleTimer != null) {
            relay.idleTimer.arm(idleTimeoutNanos);
        }
        relay.downstream.install();
        relay.upstream.install();
        if (!relay.ended) {
            relay.downstream.channel.config().setAutoRead(true);
            relay.upstream.channel.config().setAutoRead(true);
        }
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
            // What was read is written before the close; a reader that never takes it is cut off
            // after one more idle timeout.
            downstream.closeAfterWrites();
            upstream.closeAfterWrites();
            if (idleTimeoutNanos > 0 && (downstream.channel.isActive() || upstream.channel.isActive())) {
                clock.schedule(downstream.channel.eventLoop(), () -> {
                    downstream.channel.close();
                    upstream.channel.close();
                }, idleTimeoutNanos);
            }
        } else {
            downstream.channel.close();
            upstream.channel.close();
        }
        listener.relayEnded(this, end, cause);
    }

    /** One side: reads its channel and writes to the other. */
    private final class Side extends ChannelInboundHandlerAdapter {
        final Channel channel;
        final End failure;
        Side other;
        long bytesRead;
        /** This side's input has ended (FIN or close_notify): the direction from it is done. */
        boolean inputEnded;
        boolean flushPending;

        Side(Channel channel, End failure) {
            this.channel = channel;
            this.failure = failure;
        }

        void install() {
            channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
            ChannelPipeline p = channel.pipeline();
            ArrayDeque<Object> held = null;
            if (p.get(HANDLER) instanceof Holding holding) {
                held = holding.takeHeld();
                p.replace(HANDLER, HANDLER, this);
            } else {
                p.addLast(HANDLER, this);
            }
            if (held != null) {
                for (Object msg; (msg = held.poll()) != null; ) {
                    forward(msg);
                }
                if (flushPending) {
                    flushPending = false;
                    other.channel.flush();
                }
            }
            if (!channel.isActive()) {
                // It closed before the relay began: nothing more can come from it.
                closed();
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            forward(msg);
        }

        private void forward(Object msg) {
            if (!(msg instanceof ByteBuf buf)) {
                ReferenceCountUtil.release(msg);
                end(failure, new IllegalStateException("relay: " + msg.getClass().getName()
                        + " read from " + channel + " (expected: ByteBuf; remove the codecs before relaying)"));
                return;
            }
            if (ended || inputEnded) {
                buf.release();
                return;
            }
            int n = buf.readableBytes();
            if (n == 0) {
                buf.release();
                return;
            }
            bytesRead += n;
            progress();
            // A failed write reaches the other side's exceptionCaught (void promise).
            other.channel.write(buf, other.channel.voidPromise());
            flushPending = true;
            if (!other.channel.isWritable()) {
                channel.config().setAutoRead(false);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (flushPending) {
                flushPending = false;
                other.channel.flush();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (channel.isWritable() && !other.inputEnded && !ended) {
                other.channel.config().setAutoRead(true);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt == ChannelInputShutdownEvent.INSTANCE || evt instanceof SslCloseCompletionEvent) {
                inputEnded();
            }
            ReferenceCountUtil.release(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closed();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            end(failure, cause);
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
            SslHandler ssl = channel.pipeline().get(SslHandler.class);
            if (ssl != null) {
                // TLS has its own end of output: close_notify (TLS 1.3 keeps reading after it).
                channel.flush();
                ssl.closeOutbound();
            } else if (channel instanceof DuplexChannel duplex) {
                channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
                    if (f.isSuccess() && channel.isActive()) {
                        duplex.shutdownOutput();
                    }
                });
            } else {
                closeAfterWrites();
            }
        }

        void closeAfterWrites() {
            if (channel.isActive()) {
                channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            } else {
                channel.close();
            }
        }
    }

    /** Keeps what a side reads before the relay starts. */
    private static final class Holding extends ChannelInboundHandlerAdapter {
        private final ArrayDeque<Object> held = new ArrayDeque<>(2);

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            held.add(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // Until the relay starts, failures surface through the connect and handshake futures.
            ctx.close();
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            releaseHeld();
        }

        ArrayDeque<Object> takeHeld() {
            ArrayDeque<Object> out = new ArrayDeque<>(held);
            held.clear();
            return out;
        }

        private void releaseHeld() {
            for (Object msg; (msg = held.poll()) != null; ) {
                ReferenceCountUtil.release(msg);
            }
        }
    }
}
