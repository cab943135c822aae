package dev.relay.transport.internal;

import dev.relay.core.HttpHeaders;
import io.netty.buffer.ByteBuf;
import org.jspecify.annotations.Nullable;

import java.util.ArrayDeque;

/**
 * Body parts of one message waiting to move on, in arrival order: the parts read from one side
 * while the other side cannot take them yet (a filter is busy, the peer is not writable). The end
 * of the message is a flag on the last part, which may carry trailer fields, so a part costs no
 * wrapper object whatever the protocol. The queue owns the buffers it holds until they are polled.
 */
final class BodyQueue {
    /** Made on the first part: most messages in a proxy pass through without ever waiting. */
    private @Nullable ArrayDeque<ByteBuf> parts;
    private boolean endQueued;
    private @Nullable HttpHeaders trailers;

    /** Appends a part; with {@code last} it ends the message (ownership of {@code data} passes here). */
    void add(ByteBuf data, boolean last, @Nullable HttpHeaders trailers) {
        parts().addLast(data);
        if (last) {
            endQueued = true;
            this.trailers = trailers;
        }
    }

    /** Puts a part back at the head (it was taken, but could not be sent). */
    void addFirst(ByteBuf data, boolean last, @Nullable HttpHeaders trailers) {
        parts().addFirst(data);
        if (last) {
            endQueued = true;
            this.trailers = trailers;
        }
    }

    private ArrayDeque<ByteBuf> parts() {
        if (parts == null) {
            parts = new ArrayDeque<>(4);
        }
        return parts;
    }

    boolean isEmpty() {
        return parts == null || parts.isEmpty();
    }

    /** Whether the part {@link #poll()} returns next is the last one of the message. */
    boolean nextIsLast() {
        return endQueued && parts != null && parts.size() == 1;
    }

    /** The next part (ownership passes to the caller), or null. Call {@link #nextIsLast()} first. */
    @Nullable ByteBuf poll() {
        if (parts == null) {
            return null;
        }
        ByteBuf next = parts.pollFirst();
        if (next != null && parts.isEmpty()) {
            endQueued = false;
        }
        return next;
    }

    /** The trailers of the last part, once: call after polling it. */
    @Nullable HttpHeaders takeTrailers() {
        HttpHeaders t = trailers;
        trailers = null;
        return t;
    }

    /** Readable bytes held. */
    long readableBytes() {
        long n = 0;
        if (parts == null) {
            return 0;
        }
        for (ByteBuf part : parts) {
            n += part.readableBytes();
        }
        return n;
    }

    /** Copies every held byte into one array (the parts stay queued). */
    byte[] copyBytes() {
        byte[] out = new byte[(int) readableBytes()];
        if (parts == null) {
            return out;
        }
        int offset = 0;
        for (ByteBuf part : parts) {
            int n = part.readableBytes();
            part.getBytes(part.readerIndex(), out, offset, n);
            offset += n;
        }
        return out;
    }

    /** Releases every held part. */
    void releaseAll() {
        ByteBuf part;
        while (parts != null && (part = parts.pollFirst()) != null) {
            part.release();
        }
        endQueued = false;
        trailers = null;
    }
}
