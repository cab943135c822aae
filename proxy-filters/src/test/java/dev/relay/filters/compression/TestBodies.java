package dev.relay.filters.compression;

import com.aayushatharva.brotli4j.decoder.BrotliInputStream;
import com.aayushatharva.brotli4j.encoder.BrotliOutputStream;
import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/** Bodies and the libraries' own stream codecs, the reference the tests check the filter's codecs against. */
final class TestBodies {
    static {
        // brotli4j's streams need the native library loaded first, as the filter does when it starts.
        com.aayushatharva.brotli4j.Brotli4jLoader.ensureAvailability();
    }

    private TestBodies() {}

    /** {@code size} bytes of JSON-like text: compressible, but not trivially. */
    static byte[] text(int size) {
        Random random = new Random(size);
        StringBuilder text = new StringBuilder(size + 64);
        while (text.length() < size) {
            text.append("{\"id\":").append(random.nextInt(100_000)).append(",\"name\":\"item-")
                    .append(random.nextInt(1000)).append("\",\"tags\":[\"a\",\"b\"]}\n");
        }
        return text.substring(0, size).getBytes(StandardCharsets.US_ASCII);
    }

    /** Decodes a whole body with the library's (or the JDK's) stream decoder. */
    static byte[] decodeWithLibrary(ContentCoding coding, byte[] encoded) throws IOException {
        try (InputStream in = libraryDecoder(coding, new ByteArrayInputStream(encoded))) {
            return in.readAllBytes();
        }
    }

    /** The library's stream decoder over {@code encoded}. */
    static InputStream libraryDecoder(ContentCoding coding, InputStream encoded) throws IOException {
        return switch (coding) {
            case GZIP -> new GZIPInputStream(encoded);
            case BR -> {
                // Eager: what has been decoded is returned without waiting for more input (a stream's reader).
                BrotliInputStream brotli = new BrotliInputStream(encoded);
                brotli.enableEagerOutput();
                yield brotli;
            }
            case ZSTD -> new ZstdInputStream(encoded);
            case DEFLATE -> new java.util.zip.InflaterInputStream(encoded);
        };
    }

    /** A zstd frame of {@code body} made as a stream (no content size), so its header keeps {@code windowLog}. */
    static byte[] zstdFrame(byte[] body, int windowLog) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZstdOutputStream out = new ZstdOutputStream(bytes)) {
            out.setWindowLog(windowLog);
            out.write(body);
        }
        byte[] frame = bytes.toByteArray();
        // RFC 8878 §3.1.1.1: no Single_Segment_flag, so a Window_Descriptor follows: exponent + 10 = windowLog.
        if ((frame[4] & 0x20) != 0 || ((frame[5] & 0xff) >> 3) + 10 != windowLog) {
            throw new IllegalStateException("not a frame with a window of 2^" + windowLog);
        }
        return frame;
    }

    /** Encodes a whole body with the library's (or the JDK's) stream encoder. */
    static byte[] encodeWithLibrary(ContentCoding coding, byte[] body) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = switch (coding) {
            case GZIP -> new GZIPOutputStream(bytes);
            case BR -> new BrotliOutputStream(bytes);
            case ZSTD -> new ZstdOutputStream(bytes);
            case DEFLATE -> new java.util.zip.DeflaterOutputStream(bytes);
        }) {
            out.write(body);
        }
        return bytes.toByteArray();
    }
}
