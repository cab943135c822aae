package dev.relay.filters.compression;

import com.github.luben.zstd.EndDirective;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Zstandard over zstd-jni's contexts (the reference C library), streaming between direct buffers:
 * a chunk's own buffer when it is direct (as the Netty transport's are), otherwise a copy through a
 * per-thread direct buffer; output goes through another per-thread direct buffer.
 */
final class ZstdCodecs {
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
        boolean run(ByteBuffer target, ByteBuffer source, boolean finalPiece);
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

    /** Decompresses one or more zstd frames. */
    static final class Decoder extends BodyCodec {
        private final ZstdDecompressCtx context;
        private boolean frameEnded = true;

        Decoder() {
            context = new ZstdDecompressCtx();
            opened();
        }

        @Override
        void transform(ByteBuffer input, boolean last, CodecOutput output) throws IOException {
            if (input.hasRemaining()) {
                frameEnded = pump(input, output,
                        (target, source, finalPiece) -> context.decompressDirectByteBufferStream(target, source), false);
            }
            if (last && !frameEnded) {
                throw new IOException("truncated zstd stream");
            }
        }

        @Override
        protected void free() {
            context.close();
        }
    }
}
