package dev.relay.filters.compression;

import com.aayushatharva.brotli4j.Brotli4jLoader;
import com.aayushatharva.brotli4j.decoder.DecoderJNI;
import com.aayushatharva.brotli4j.encoder.EncoderJNI;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Brotli over brotli4j's JNI wrappers of Google's C library, driven directly: the wrappers take input
 * through a native buffer of their own and hand output back piece by piece, which is exactly one body
 * part in, its bytes out, with a flush at the end of the part; brotli4j's stream classes would add a
 * channel and a copy around the same calls.
 */
final class BrotliCodecs {
    /** The size of the native input buffer of each encoder or decoder. */
    private static final int INPUT_BUFFER = 16 * 1024;
    private static final System.Logger LOG = System.getLogger(BrotliCodecs.class.getName());
    private static final boolean AVAILABLE = load();

    private BrotliCodecs() {}

    /** Whether the native library loaded; when it did not, br is not offered (logged once, at load). */
    static boolean available() {
        return AVAILABLE;
    }

    private static boolean load() {
        try {
            Brotli4jLoader.ensureAvailability();
            return true;
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.WARNING, "brotli is not available on this platform (" + t
                    + "): the compression filter offers zstd and gzip only, and passes br responses on as they are");
            return false;
        }
    }

    /** A nested class's use does not load the outer one: this does, and with it the native library. */
    private static void requireAvailable() throws IOException {
        if (!AVAILABLE) {
            throw new IOException("brotli is not available on this platform");
        }
    }

    /** Copies up to the native buffer's size of {@code input} into it; returns how many. */
    private static int fill(ByteBuffer nativeInput, ByteBuffer input) {
        nativeInput.clear();
        int count = Math.min(nativeInput.remaining(), input.remaining());
        ByteBuffer part = input.duplicate();
        part.limit(part.position() + count);
        nativeInput.put(part);
        input.position(input.position() + count);
        return count;
    }

    /** Compresses with brotli at a quality from 0 to 11 and the default window (4 MiB). */
    static final class Encoder extends BodyCodec {
        private final EncoderJNI.Wrapper encoder;

        Encoder(int quality) throws IOException {
            requireAvailable();
            encoder = new EncoderJNI.Wrapper(INPUT_BUFFER, quality, -1, null);
            opened();
        }

        @Override
        void transform(ByteBuffer input, boolean last, CodecOutput output) throws IOException {
            boolean hadInput = input.hasRemaining();
            while (input.hasRemaining()) {
                encoder.push(EncoderJNI.Operation.PROCESS, fill(encoder.getInputBuffer(), input));
                drain(EncoderJNI.Operation.PROCESS, output);
            }
            if (last) {
                encoder.push(EncoderJNI.Operation.FINISH, 0);
                drain(EncoderJNI.Operation.FINISH, output);
            } else if (hadInput) {
                encoder.push(EncoderJNI.Operation.FLUSH, 0);
                drain(EncoderJNI.Operation.FLUSH, output);
            }
        }

        private void drain(EncoderJNI.Operation operation, CodecOutput output) throws IOException {
            while (true) {
                if (!encoder.isSuccess()) {
                    throw new IOException("brotli encoder failed");
                }
                if (encoder.hasMoreOutput()) {
                    output.write(encoder.pull());
                } else if (encoder.hasRemainingInput()) {
                    encoder.push(operation, 0);
                } else {
                    return;
                }
            }
        }

        @Override
        protected void free() {
            encoder.destroy();
        }
    }

    /** Decompresses brotli; the window is the stream's own, at most 16 MiB (RFC 7932). */
    static final class Decoder extends BodyCodec {
        private final DecoderJNI.Wrapper decoder;
        private boolean done;
        private boolean started;

        Decoder() throws IOException {
            requireAvailable();
            decoder = new DecoderJNI.Wrapper(INPUT_BUFFER);
            opened();
        }

        @Override
        void transform(ByteBuffer input, boolean last, CodecOutput output) throws IOException {
            while (input.hasRemaining()) {
                if (done) {
                    throw new IOException("data after the end of the brotli stream");
                }
                started = true;
                decoder.push(fill(decoder.getInputBuffer(), input));
                drain(output);
            }
            if (last && started && !done) {
                throw new IOException("truncated brotli stream");
            }
        }

        private void drain(CodecOutput output) throws IOException {
            while (true) {
                switch (decoder.getStatus()) {
                    case OK -> decoder.push(0);
                    case NEEDS_MORE_OUTPUT -> output.write(decoder.pull());
                    case NEEDS_MORE_INPUT -> {
                        if (!decoder.hasOutput()) {
                            return;
                        }
                        output.write(decoder.pull());
                    }
                    case DONE -> {
                        if (!decoder.hasOutput()) {
                            done = true;
                            return;
                        }
                        output.write(decoder.pull());
                    }
                    default -> throw new IOException("invalid brotli data");
                }
            }
        }

        @Override
        protected void free() {
            decoder.destroy();
        }
    }
}
