package dev.relay.filters.compression;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * gzip (RFC 1952) with the JDK's zlib: a raw {@link Deflater}, and the 10-byte header and the CRC-32 and
 * length trailer written here, since {@code GZIPOutputStream} only writes to a stream and cannot be told
 * to flush in the middle without holding the whole body behind it.
 */
final class GzipEncoder extends BodyCodec {
    /** Magic, deflate, no flags, no modification time, no extra flags, operating system unknown. */
    private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};
    private static final int STEP = 16 * 1024;
    private static final byte[] NO_INPUT = new byte[0];

    private final Deflater deflater;
    private final CRC32 crc = new CRC32();
    private boolean headerWritten;

    GzipEncoder(int level) {
        deflater = new Deflater(level, true);
        opened();
    }

    @Override
    void transform(ByteBuffer input, boolean last, CodecOutput output) throws IOException {
        if (!headerWritten) {
            output.write(HEADER, 0, HEADER.length);
            headerWritten = true;
        }
        boolean hadInput = input.hasRemaining();
        if (hadInput) {
            crc.update(input.duplicate());
            deflater.setInput(input);
        }
        if (last) {
            deflater.finish();
            while (!deflater.finished()) {
                int room = output.reserve(STEP);
                output.advance(deflater.deflate(output.array(), output.length(), room, Deflater.NO_FLUSH));
            }
            writeTrailer(output);
        } else if (hadInput) {
            // SYNC_FLUSH: everything so far goes out, ending on a byte boundary, the window kept.
            int written;
            int room;
            do {
                room = output.reserve(STEP);
                written = deflater.deflate(output.array(), output.length(), room, Deflater.SYNC_FLUSH);
                output.advance(written);
            } while (written == room);
        }
        // The input was the chunk's buffer: it must not stay referenced after this call.
        deflater.setInput(NO_INPUT);
    }

    private void writeTrailer(CodecOutput output) throws IOException {
        byte[] trailer = new byte[8];
        putIntLittleEndian(trailer, 0, (int) crc.getValue());
        putIntLittleEndian(trailer, 4, (int) deflater.getBytesRead());
        output.write(trailer, 0, trailer.length);
    }

    private static void putIntLittleEndian(byte[] bytes, int offset, int value) {
        bytes[offset] = (byte) value;
        bytes[offset + 1] = (byte) (value >>> 8);
        bytes[offset + 2] = (byte) (value >>> 16);
        bytes[offset + 3] = (byte) (value >>> 24);
    }

    @Override
    protected void free() {
        deflater.end();
    }
}
