package dev.relay.filters.compression;

import org.jspecify.annotations.Nullable;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/** The inflate loop the gzip and deflate decoders share. */
final class Inflating {
    private static final int STEP = 16 * 1024;
    private static final byte[] NO_INPUT = new byte[0];

    private Inflating() {}

    /**
     * Inflates from {@code input} until it is used up or the deflate stream ends (the bytes after the end
     * stay in {@code input}), updating {@code crc} with what came out when it is given.
     *
     * @return whether the deflate stream ended
     */
    static boolean inflate(Inflater inflater, ByteBuffer input, CodecOutput output, @Nullable CRC32 crc) throws IOException {
        inflater.setInput(input);
        try {
            while (true) {
                int room = output.reserve(STEP);
                int start = output.length();
                int count = inflater.inflate(output.array(), start, room);
                if (crc != null) {
                    crc.update(output.array(), start, count);
                }
                output.advance(count);
                if (inflater.finished()) {
                    return true;
                }
                if (inflater.needsDictionary()) {
                    throw new IOException("the deflate stream asks for a preset dictionary");
                }
                if (count < room && inflater.needsInput()) {
                    return false;
                }
            }
        } catch (DataFormatException e) {
            throw new IOException("invalid deflate data: " + e.getMessage(), e);
        } finally {
            // The input was the chunk's buffer: it must not stay referenced after this call.
            inflater.setInput(NO_INPUT);
        }
    }
}
