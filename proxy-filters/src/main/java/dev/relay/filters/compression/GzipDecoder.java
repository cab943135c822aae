package dev.relay.filters.compression;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import java.util.zip.Inflater;

/**
 * gzip (RFC 1952) with the JDK's zlib, streaming: the member header (with its optional extra field,
 * name, comment and header CRC) is read as it arrives, the deflate data inflated, the trailer's CRC-32
 * and length checked; members may follow one another, as the format allows.
 */
final class GzipDecoder extends BodyCodec {
    private enum State { HEADER, EXTRA_LENGTH, EXTRA, NAME, COMMENT, HEADER_CRC, DATA, TRAILER }

    private static final int FHCRC = 2;
    private static final int FEXTRA = 4;
    private static final int FNAME = 8;
    private static final int FCOMMENT = 16;
    private static final int RESERVED_FLAGS = 0xe0;

    private final Inflater inflater;
    private final CRC32 crc = new CRC32();
    private final byte[] field = new byte[10];
    private int fieldLength;
    private State state = State.HEADER;
    private int flags;
    private int toSkip;

    GzipDecoder() {
        inflater = new Inflater(true);
        opened();
    }

    @Override
    void transform(ByteBuffer input, boolean last, CodecOutput output) throws IOException {
        while (input.hasRemaining()) {
            switch (state) {
                case HEADER -> {
                    if (fill(input, 10)) {
                        readHeader();
                    }
                }
                case EXTRA_LENGTH -> {
                    if (fill(input, 2)) {
                        toSkip = (field[0] & 0xff) | (field[1] & 0xff) << 8;
                        state = State.EXTRA;
                    }
                }
                case EXTRA -> {
                    int skipped = Math.min(toSkip, input.remaining());
                    input.position(input.position() + skipped);
                    toSkip -= skipped;
                    if (toSkip == 0) {
                        afterExtra();
                    }
                }
                case NAME, COMMENT -> {
                    if (skipZeroTerminated(input)) {
                        afterText();
                    }
                }
                case HEADER_CRC -> {
                    if (fill(input, 2)) {
                        state = State.DATA;
                    }
                }
                case DATA -> {
                    if (Inflating.inflate(inflater, input, output, crc)) {
                        state = State.TRAILER;
                    }
                }
                case TRAILER -> {
                    if (fill(input, 8)) {
                        checkTrailer();
                    }
                }
            }
        }
        if (last && (state != State.HEADER || fieldLength != 0)) {
            throw new IOException("truncated gzip stream");
        }
    }

    /** Reads into {@link #field} until it holds {@code length} bytes; whether it does. */
    private boolean fill(ByteBuffer input, int length) {
        int count = Math.min(length - fieldLength, input.remaining());
        input.get(field, fieldLength, count);
        fieldLength += count;
        if (fieldLength < length) {
            return false;
        }
        fieldLength = 0;
        return true;
    }

    private void readHeader() throws IOException {
        if (field[0] != 0x1f || field[1] != (byte) 0x8b) {
            throw new IOException("not a gzip stream (bad magic bytes)");
        }
        if (field[2] != 8) {
            throw new IOException("unknown gzip compression method " + field[2]);
        }
        flags = field[3] & 0xff;
        if ((flags & RESERVED_FLAGS) != 0) {
            throw new IOException("reserved gzip flags set");
        }
        state = State.EXTRA_LENGTH;
        if ((flags & FEXTRA) == 0) {
            afterExtra();
        }
    }

    private void afterExtra() {
        state = State.NAME;
        if ((flags & FNAME) == 0) {
            afterText();
        }
    }

    private void afterText() {
        if (state == State.NAME && (flags & FCOMMENT) != 0) {
            state = State.COMMENT;
            return;
        }
        state = (flags & FHCRC) != 0 ? State.HEADER_CRC : State.DATA;
    }

    private static boolean skipZeroTerminated(ByteBuffer input) {
        while (input.hasRemaining()) {
            if (input.get() == 0) {
                return true;
            }
        }
        return false;
    }

    private void checkTrailer() throws IOException {
        long expectedCrc = intLittleEndian(0) & 0xffffffffL;
        long expectedSize = intLittleEndian(4) & 0xffffffffL;
        if (expectedCrc != crc.getValue()) {
            throw new IOException("gzip CRC-32 mismatch");
        }
        if (expectedSize != (inflater.getBytesWritten() & 0xffffffffL)) {
            throw new IOException("gzip length mismatch");
        }
        crc.reset();
        inflater.reset();
        state = State.HEADER;
    }

    private int intLittleEndian(int offset) {
        return (field[offset] & 0xff) | (field[offset + 1] & 0xff) << 8 | (field[offset + 2] & 0xff) << 16
                | (field[offset + 3] & 0xff) << 24;
    }

    @Override
    protected void free() {
        inflater.end();
    }
}
