package dev.relay.filters.compression;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.LongAdder;

/**
 * One direction of one content coding for one message body, streaming: each part goes in as it
 * arrives and what it became comes out at once (an encoder flushes at the end of every part, so
 * that nothing the origin sent waits in the compressor). Most hold native memory (zlib, brotli, zstd
 * state), freed by {@link #close()}, which the module calls exactly once per codec whatever happens
 * to the request; {@link #openCodecs()} counts the codecs not yet closed, so the tests check it.
 */
abstract class BodyCodec implements AutoCloseable {
    private static final LongAdder OPEN = new LongAdder();

    private boolean open;

    /** Codecs made and not yet closed, in the whole JVM. */
    static long openCodecs() {
        return OPEN.sum();
    }

    /** Called by a subclass once its native state exists, so a failed construction is not counted. */
    protected final void opened() {
        open = true;
        OPEN.increment();
    }

    /**
     * Transforms the remaining bytes of {@code input} (its position moves to its limit), writing into
     * {@code output} everything that those bytes allow; with {@code last} the stream ends (an encoder
     * writes its trailer, a decoder checks that the stream was complete).
     *
     * @throws CodecOutput.LimitExceededException when the output would pass its limit
     * @throws IOException when the input is not a valid stream of this coding
     */
    abstract void transform(ByteBuffer input, boolean last, CodecOutput output) throws IOException;

    /** Frees the native state; later calls do nothing. */
    @Override
    public final void close() {
        if (open) {
            open = false;
            OPEN.decrement();
            free();
        }
    }

    /** Frees what the subclass holds; called once. */
    protected abstract void free();
}
