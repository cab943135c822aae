package dev.relay.filters.compression;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.Inflater;

/**
 * The {@code deflate} content coding: the zlib format (RFC 1950) as RFC 9110 defines it, or raw deflate
 * data (RFC 1951), which some servers send under that name; told apart by the zlib header check.
 */
final class DeflateDecoder extends BodyCodec {
    private Inflater inflater;
    private boolean formatKnown;
    private boolean ended;

    DeflateDecoder() {
        inflater = new Inflater(false);
        opened();
    }

    @Override
    void transform(ByteBuffer input, boolean last, CodecOutput output) throws IOException {
        if (!formatKnown && input.hasRemaining()) {
            formatKnown = true;
            if (!looksLikeZlib(input)) {
                inflater.end();
                inflater = new Inflater(true);
            }
        }
        if (input.hasRemaining()) {
            if (ended) {
                throw new IOException("data after the end of the deflate stream");
            }
            ended = Inflating.inflate(inflater, input, output, null);
            if (ended && input.hasRemaining()) {
                throw new IOException("data after the end of the deflate stream");
            }
        }
        if (last && formatKnown && !ended) {
            throw new IOException("truncated deflate stream");
        }
    }

    /** RFC 1950 §2.2: method 8, a window of at most 32 KiB, and the header a multiple of 31. */
    private static boolean looksLikeZlib(ByteBuffer input) {
        int cmf = input.get(input.position()) & 0xff;
        if ((cmf & 0x0f) != 8 || (cmf >>> 4) > 7) {
            return false;
        }
        if (input.remaining() < 2) {
            return true;
        }
        int flg = input.get(input.position() + 1) & 0xff;
        return (cmf << 8 | flg) % 31 == 0;
    }

    @Override
    protected void free() {
        inflater.end();
    }
}
