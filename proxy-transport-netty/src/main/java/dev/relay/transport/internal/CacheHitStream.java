package dev.relay.transport.internal;

import dev.relay.core.ErrorType;
import dev.relay.core.HttpHeaders;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoop;
import org.jspecify.annotations.Nullable;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A response answered from the cache, as an {@link UpstreamStream}: the phase engine runs the response
 * phases, the modules and the client's backpressure on it exactly as on an origin's response. It
 * reports a prepared header, then the body: a slice of a stored object, or the parts of a
 * {@link CacheFill} as they arrive. The body parts wrap the stored bytes without copying; emission
 * stops while the engine has reading off (the client is slow) and resumes on the event loop.
 */
final class CacheHitStream implements UpstreamStream, CacheFill.Reader {
    /** The largest part reported at once, so a slow client pauses a large object between parts. */
    private static final int PART_SIZE = 64 * 1024;

    private final EventLoop loop;
    private final ResponseHeader header;
    private final byte @Nullable [] body;
    private final @Nullable CacheFill fill;
    /** Offsets into the body: the next byte to report, and one past the last. */
    private long next;
    private final long end;
    private int fillPart;
    private @Nullable Listener listener;
    private boolean reading = true;
    private boolean emitting;
    private boolean done;
    /** Set while an emission is queued on the loop (a wake-up from the fill, or reading turned back on): others fold into it. */
    private final AtomicBoolean emitQueued = new AtomicBoolean();

    /** Reports {@code header}, then {@code body[first, end)} (nothing when {@code first == end}). */
    CacheHitStream(EventLoop loop, ResponseHeader header, byte[] body, long first, long end) {
        this.loop = loop;
        this.header = header;
        this.body = body;
        this.fill = null;
        this.next = first;
        this.end = end;
    }

    /**
     * Reports {@code header}, then every part of {@code fill} as it arrives, to its end. The caller
     * attaches the stream to the fill before it starts ({@code fill.attach(stream)}), so that a fill
     * given up in between is seen before anything is answered.
     */
    CacheHitStream(EventLoop loop, ResponseHeader header, CacheFill fill) {
        this.loop = loop;
        this.header = header;
        this.body = null;
        this.fill = fill;
        this.next = 0;
        this.end = Long.MAX_VALUE;
    }

    @Override
    public void start(Listener l) {
        listener = l;
        emitting = true;
        try {
            l.onResponseHeader(header);
        } finally {
            emitting = false;
        }
        emit();
    }

    @Override
    public void wake() {
        if (emitQueued.compareAndSet(false, true)) {
            loop.execute(() -> {
                emitQueued.set(false);
                emit();
            });
        }
    }

    /** Reports body parts while the engine reads and there are any; ends with a read-complete for the flush. */
    private void emit() {
        Listener l = listener;
        if (l == null || emitting || done) {
            return;
        }
        emitting = true;
        boolean reported = false;
        try {
            while (reading && !done) {
                if (fill == null ? !emitStored(l) : !emitFromFill(l)) {
                    break;
                }
                reported = true;
            }
        } finally {
            emitting = false;
        }
        if (reported) {
            l.onReadComplete();
        }
    }

    private boolean emitStored(Listener l) {
        int n = (int) Math.min(PART_SIZE, end - next);
        boolean last = next + n >= end;
        ByteBuf part = n == 0 ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body, (int) next, n);
        next += n;
        done = last;
        l.onResponseBody(part, last, null);
        return true;
    }

    private boolean emitFromFill(Listener l) {
        CacheFill f = fill;
        CacheFill.State state = f.state();
        int available = f.partCount();
        if (state == CacheFill.State.ABANDONED) {
            done = true;
            f.detach(this);
            l.onFailure(ProxyError.upstream(ErrorType.CONNECTION_CLOSED,
                    "the origin response this cached response streamed from was not completed", null));
            return false;
        }
        if (fillPart < available) {
            byte[] part = f.part(fillPart++);
            boolean last = state == CacheFill.State.COMPLETE && fillPart == available;
            done = last;
            if (last) {
                f.detach(this);
            }
            l.onResponseBody(Unpooled.wrappedBuffer(part), last, null);
            return true;
        }
        if (state == CacheFill.State.COMPLETE) {
            done = true;
            f.detach(this);
            l.onResponseBody(Unpooled.EMPTY_BUFFER, true, null);
            return true;
        }
        return false;
    }

    @Override
    public void setReading(boolean on) {
        reading = on;
        if (on && !emitting && !done && listener != null) {
            // Not at once: the engine turns reading on from inside its own response handling.
            wake();
        }
    }

    @Override
    public RequestHeader newRequestHeader(RequestHeader clientRequest, HttpPeer peer, boolean requestHasBody,
                                          long bufferedBodyLength, boolean upgrade) {
        throw new IllegalStateException("a cached response sends no request");
    }

    @Override
    public void writeHeader(RequestHeader upstreamRequest) {
        throw new IllegalStateException("a cached response sends no request");
    }

    @Override
    public void writeBody(ByteBuf data, boolean last, @Nullable HttpHeaders trailers) {
        // The request body of a request answered from the cache goes nowhere.
        data.release();
    }

    @Override
    public void flush() {}

    @Override
    public boolean isWritable() {
        return true;
    }

    @Override
    public void armReadTimeout(long timeoutNanos) {}

    @Override
    public void progress() {}

    @Override
    public boolean switchedProtocols() {
        return false;
    }

    @Override
    public ByteBuf switchToTunnel(ChannelHandler relay) {
        throw new IllegalStateException("a cached response is no tunnel");
    }

    @Override
    public void release() {
        stop();
    }

    @Override
    public void abort() {
        stop();
    }

    private void stop() {
        done = true;
        if (fill != null) {
            fill.detach(this);
        }
    }

    @Override
    public String toString() {
        return "CacheHitStream{" + header.status() + (fill != null ? ", streaming from a fill" : "") + '}';
    }
}
