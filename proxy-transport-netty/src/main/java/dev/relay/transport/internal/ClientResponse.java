package dev.relay.transport.internal;

import dev.relay.core.ErrorType;
import dev.relay.core.HttpHeaders;
import dev.relay.core.ProxyError;
import dev.relay.core.ResponseHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import org.jspecify.annotations.Nullable;

import java.util.concurrent.CompletableFuture;

/**
 * The response of one call on its way to the client, whoever writes it (the proxied upstream
 * response, a phase answering by itself, or an error page): the keep-alive decision, the
 * {@code 100 Continue} the client may be waiting for, whether the response is complete, and the
 * write of its last part, which the end of the call waits for. Protocol-neutral: the framing is the
 * {@link DownstreamStream}'s.
 */
final class ClientResponse implements ChannelFutureListener {
    // The session and the engine are read through the call, not copied: its one reference replaces two.
    private final ProxyCall<?> call;
    private final DownstreamStream downstream;
    private boolean continueSent;
    private boolean complete;
    /** The client is gone while the response is still read to its end (a cache fill): writes go nowhere. */
    private boolean detached;
    private @Nullable ChannelFuture lastWrite;

    ClientResponse(ProxyCall<?> call, DownstreamStream downstream) {
        this.call = call;
        this.downstream = downstream;
    }

    /** The client is gone, but the response is still read to its end (into the cache): from now on writes are dropped. */
    void detach() {
        detached = true;
    }

    boolean isDetached() {
        return detached;
    }

    /** Whether the whole response has been written (its last part at least handed to the connection). */
    boolean isComplete() {
        return complete;
    }

    /** Sends {@code 100 Continue} when the client waits for it before sending the body it still owes. */
    void sendContinueIfAwaited(boolean requestComplete) {
        if (downstream.expectsContinue() && !continueSent && !requestComplete && !call.session().responseWritten) {
            continueSent = true;
            downstream.writeInterim(ResponseHeader.of(100));
        }
    }

    /**
     * Passes on an interim response the origin sent before its final one ({@code 103 Early Hints} and
     * the like), while no response has been written. Not a {@code 100}: the proxy answers the client's
     * {@code Expect} itself and never forwards it, so an origin's {@code 100} speaks to the proxy only.
     */
    void relayInterim(ResponseHeader interim) {
        if (!call.session().responseWritten && interim.status() != 100 && downstream.isOpen()) {
            downstream.writeInterim(interim);
        }
    }

    /** Whether the client still waits for {@code 100 Continue} before sending the body it owes. */
    boolean clientAwaitsContinue(boolean requestComplete) {
        return downstream.expectsContinue() && !continueSent && !requestComplete;
    }

    /** Writes the header (not flushed); a draining server closes the connection after this response. */
    void writeHeader(ResponseHeader header, boolean endOfStream) {
        CallSession session = call.session();
        if (detached) {
            session.responseWritten = true;
            session.responseStatus = header.status();
            return;
        }
        if (call.engine().isDraining()) {
            session.keepAlive = false;
        }
        session.keepAlive = downstream.writeResponseHeader(header, endOfStream, session.keepAlive);
        session.responseWritten = true;
        session.responseStatus = header.status();
    }

    /**
     * Writes a filtered part of the origin's body, the last one with {@code trailers}, or with
     * {@code trailersAsBody} in their place when a module sends them as body bytes (a gRPC-web
     * trailer frame).
     */
    void writePart(ByteBuf data, boolean last, @Nullable HttpHeaders trailers, byte @Nullable [] trailersAsBody) {
        ByteBuf out = trailersAsBody == null ? data
                : Unpooled.wrappedBuffer(data, Unpooled.wrappedBuffer(trailersAsBody));
        if (detached) {
            out.release();
            complete |= last;
            return;
        }
        call.session().responseBodyBytes += out.readableBytes();
        if (last) {
            writeLast(out, trailersAsBody == null ? trailers : null);
        } else if (out.isReadable()) {
            downstream.writeBody(out);
        } else {
            out.release();
        }
    }

    /** Writes the last part and flushes: the response is complete. */
    void writeLast(ByteBuf data, @Nullable HttpHeaders trailers) {
        complete = true;
        lastWrite = downstream.writeLast(data, trailers);
    }

    /** Flushes written parts unless the response is complete (its last write flushed already). */
    void flushUnlessComplete() {
        if (!complete && !detached) {
            downstream.flush();
        }
    }

    /** A phase writes a header ({@code Session.writeResponseHeader}); modules have seen it. */
    void writeHeaderFromPhase(ResponseHeader header, boolean endOfStream, CompletableFuture<Void> result) {
        writeHeader(header, endOfStream);
        if (endOfStream) {
            writeLast(Unpooled.EMPTY_BUFFER, null);
            whenWritten(lastWrite, result);
        } else {
            whenWritten(downstream.flushWithFuture(), result);
        }
    }

    /** A phase writes body bytes ({@code Session.writeResponseBody}). */
    void writeBodyFromPhase(byte[] body, boolean endOfStream, CompletableFuture<Void> result) {
        if (!call.session().responseWritten) {
            throw new IllegalStateException("writeResponseHeader must come before writeResponseBody");
        }
        if (complete) {
            throw new IllegalStateException("the response is already complete");
        }
        ByteBuf buf = Unpooled.wrappedBuffer(body);
        call.session().responseBodyBytes += body.length;
        if (endOfStream) {
            writeLast(buf, null);
            whenWritten(lastWrite, result);
        } else {
            whenWritten(downstream.writeBodyAndFlush(buf), result);
        }
    }

    /**
     * Finishes the call once the last write is done (at once if there is none, or it is done). This
     * object is the listener: a lambda and a method reference per request saved.
     */
    void finishCallAfterLastWrite() {
        ChannelFuture write = lastWrite;
        if (write == null || write.isDone()) {
            call.finish();
        } else {
            write.addListener(this);
        }
    }

    /** The last write is done: the call finishes (listener registered once, by {@link #finishCallAfterLastWrite}). */
    @Override
    public void operationComplete(ChannelFuture lastWriteDone) {
        call.finish();
    }

    /** Why the last write failed, or null when it succeeded or there was none. */
    @Nullable Throwable lastWriteFailure() {
        ChannelFuture write = lastWrite;
        return write != null && write.isDone() && !write.isSuccess() ? write.cause() : null;
    }

    private static void whenWritten(ChannelFuture write, CompletableFuture<Void> result) {
        write.addListener(f -> {
            if (f.isSuccess()) {
                result.complete(null);
            } else {
                result.completeExceptionally(ProxyError.downstream(ErrorType.WRITE_ERROR, "writing the response",
                        f.cause()));
            }
        });
    }
}
