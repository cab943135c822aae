package dev.relay.transport.internal;

import io.netty.buffer.ByteBuf;

import java.util.ArrayList;

/**
 * The request body bytes already sent upstream, kept so that a retry can send them again
 * (Pingora's retry buffer). It holds retained duplicates, up to a byte limit; once the body outgrew
 * it the buffer lets go of everything and the request is no longer replayable. A body the client
 * had sent completely before the first attempt (a filter read it whole) is kept whatever its size.
 */
final class ReplayBuffer {
    private final int limit;
    private ArrayList<ByteBuf> parts;
    private long bytes;
    private boolean truncated;

    ReplayBuffer(int limit) {
        this.limit = limit;
    }

    /** Keeps a duplicate of {@code sent} (the caller keeps its own reference). */
    void keep(ByteBuf sent, boolean unbounded) {
        if (truncated) {
            return;
        }
        int n = sent.readableBytes();
        if (!unbounded && bytes + n > limit) {
            truncated = true;
            release();
            return;
        }
        if (parts == null) {
            parts = new ArrayList<>(4);
        }
        parts.add(sent.retainedDuplicate());
        bytes += n;
    }

    /** Whether everything sent so far is still held. */
    boolean isReplayable() {
        return !truncated;
    }

    /** Writes what is held to {@code stream} again (as new references; the buffer keeps its own). */
    void replayTo(UpstreamStream stream) {
        if (parts != null) {
            for (ByteBuf part : parts) {
                stream.writeBody(part.retainedDuplicate(), false, null);
            }
        }
    }

    /** Releases everything held. */
    void release() {
        if (parts != null) {
            for (ByteBuf part : parts) {
                part.release();
            }
            parts.clear();
        }
    }
}
