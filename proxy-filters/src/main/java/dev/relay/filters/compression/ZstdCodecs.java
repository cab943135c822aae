package dev.relay.filters.compression;

import com.github.luben.zstd.EndDirective;
import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDirectBufferDecompressingStreamNoFinalizer;
import com.github.luben.zstd.ZstdException;
import com.github.luben.zstd.ZstdIOException;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Zstandard over zstd-jni (the reference C library), streaming between direct buffers: a chunk's own
 * buffer when it is direct (as the Netty transport's are), otherwise a copy through a per-thread direct
 * buffer; output goes through another per-thread direct buffer.
 */
final class ZstdCodecs {
    /**
     * The largest window a decoder accepts, 8 MiB: RFC 9659 caps the {@code zstd} content coding's window
     * there and lets decoders refuse more. libzstd's own default, 128 MiB, would let every request body
     * make the proxy allocate that much native memory.
     */
    static final int MAX_WINDOW_LOG = 23;
    /** About libzstd's own recommended stream buffer sizes (ZSTD_CStreamOutSize, ZSTD_DStreamOutSize). */
    private static final int SCRATCH = 128 * 1024;
    private static final ThreadLocal<ByteBuffer[]> SCRATCH_BUFFERS = ThreadLocal.withInitial(
            () -> new ByteBuffer[] {ByteBuffer.allocateDirect(SCRATCH), ByteBuffer.allocateDirect(SCRATCH)});
    private static final ByteBuffer EMPTY = ByteBuffer.allocateDirect(0);

    private ZstdCodecs() {}

    /** What one call of the context did. */
    private interface Step {
        /**
         * Moves bytes from {@code source} to {@code target}; {@code finalPiece} when {@code source} holds
         * the end of this call's input. Returns whether the context has nothing left to write.
         */
        boolean run(ByteBuffer target, ByteBuffer source, boolean finalPiece) throws IOException;
    }

    /**
     * Runs {@code step} over all of {@code input} (copied through a direct buffer if it is not one),
     * draining into {@code output}; when {@code untilDone}, also until the step reports nothing left.
     *
     * @return what the last step reported
     */
    private static boolean pump(ByteBuffer input, CodecOutput output, Step step, boolean untilDone) throws IOException {
        ByteBuffer[] scratch = SCRATCH_BUFFERS.get();
        ByteBuffer target = scratch[1];
        if (input.isDirect() || !input.hasRemaining()) {
            return drain(input.isDirect() ? input : EMPTY, target, output, step, true, untilDone);
        }
        ByteBuffer copy = scratch[0];
        boolean done = false;
        while (input.hasRemaining()) {
            copy.clear();
            int count = Math.min(copy.remaining(), input.remaining());
            ByteBuffer part = input.duplicate();
            part.limit(part.position() + count);
            copy.put(part).flip();
            input.position(input.position() + count);
            boolean finalPiece = !input.hasRemaining();
            done = drain(copy, target, output, step, finalPiece, untilDone && finalPiece);
        }
        return done;
    }

    private static boolean drain(ByteBuffer source, ByteBuffer target, CodecOutput output, Step step, boolean finalPiece,
                                 boolean untilDone) throws IOException {
        boolean done;
        boolean full;
        try {
            do {
                target.clear();
                done = step.run(target, source, finalPiece);
                full = !target.hasRemaining();
                target.flip();
                output.write(target);
            } while (source.hasRemaining() || full || untilDone && !done);
        } catch (ZstdException e) {
            throw new IOException("zstd: " + e.getMessage(), e);
        }
        return done;
    }

    /** Compresses at a level from 1 to 19 (above 19 the window passes RFC 9659's 8 MiB). */
    static final class Encoder extends BodyCodec {
        private final ZstdCompressCtx context;

        Encoder(int level) {
            context = new ZstdCompressCtx();
            opened();
            context.setLevel(level);
        }

        @Override
        void transform(ByteBuffer input, boolean last, CodecOutput output) throws IOException {
            if (!input.hasRemaining() && !last) {
                return;
            }
            // FLUSH (END at the last part) once the part's bytes are in: what was sent can be decoded at once.
            EndDirective atEnd = last ? EndDirective.END : EndDirective.FLUSH;
            pump(input, output, (target, source, finalPiece) -> context.compressDirectByteBufferStream(target, source,
                    finalPiece ? atEnd : EndDirective.CONTINUE), true);
        }

        @Override
        protected void free() {
            context.close();
        }
    }

    /**
     * Decompresses one or more zstd frames, refusing a window over {@link #MAX_WINDOW_LOG} before it is
     * allocated. The limit is libzstd's own ({@code ZSTD_d_windowLogMax}), which zstd-jni sets only on its
     * direct-buffer stream, so that is used here, fed each piece as its source. That stream stops for good
     * once a frame ends exactly where its input does (it takes that for the end of the data); the next
     * frame, if one comes, gets a new stream (frames are independent).
     */
    static final class Decoder extends BodyCodec {
        private FedStream stream;
        private boolean frameEnded = true;

        Decoder() throws IOException {
            stream = FedStream.open();
            opened();
        }

        @Override
        void transform(ByteBuffer input, boolean last, CodecOutput output) throws IOException {
            if (input.hasRemaining()) {
                try {
                    frameEnded = pump(input, output, (target, source, finalPiece) -> decode(target, source), false);
                } finally {
                    // The stream keeps no reference to a chunk's buffer between parts.
                    stream.feed(EMPTY);
                }
            }
            if (last && !frameEnded) {
                throw new IOException("truncated zstd stream");
            }
        }

        /** One step: returns whether a frame ended with {@code source} used up. */
        private boolean decode(ByteBuffer target, ByteBuffer source) throws IOException {
            if (stream.stopped() && source.hasRemaining()) {
                FedStream next = FedStream.open();
                stream.close();
                stream = next;
            }
            stream.feed(source);
            try {
                stream.read(target);
            } catch (ZstdIOException e) {
                if (e.getErrorCode() == Zstd.errFrameParameterWindowTooLarge()) {
                    throw new IOException("zstd: the frame's window is larger than " + (1 << MAX_WINDOW_LOG)
                            + " bytes (RFC 9659's limit)", e);
                }
                throw new IOException("zstd: " + e.getMessage(), e);
            }
            return stream.stopped();
        }

        @Override
        protected void free() {
            stream.close();
        }
    }

    /** zstd-jni's direct-buffer stream, given each piece of input as its source. */
    private static final class FedStream extends ZstdDirectBufferDecompressingStreamNoFinalizer {
        private FedStream() {
            super(EMPTY);
        }

        static FedStream open() throws IOException {
            FedStream stream = new FedStream();
            try {
                stream.setLongMax(MAX_WINDOW_LOG);
            } catch (IOException | RuntimeException e) {
                stream.close();
                throw e;
            }
            return stream;
        }

        void feed(ByteBuffer piece) {
            source = piece;
        }

        /** Whether a frame ended with the source used up: this stream reads nothing more. */
        boolean stopped() {
            return !hasRemaining();
        }
    }
}
