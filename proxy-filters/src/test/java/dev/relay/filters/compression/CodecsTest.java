package dev.relay.filters.compression;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.Deflater;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class CodecsTest {

    @AfterEach
    void everyCodecClosed() {
        assertEquals(0, BodyCodec.openCodecs(), "codecs left open");
    }

    /** Feeds {@code body} to {@code codec} in pieces of {@code piece} bytes (heap or direct), the last one ending it. */
    private static byte[] transformInPieces(BodyCodec codec, byte[] body, int piece, boolean direct) throws IOException {
        return transformInPieces(codec, body, piece, direct, true);
    }

    private static byte[] transformInPieces(BodyCodec codec, byte[] body, int piece, boolean direct, boolean endsStream)
            throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (codec) {
            int offset = 0;
            do {
                int count = Math.min(piece, body.length - offset);
                ByteBuffer input = direct ? ByteBuffer.allocateDirect(count) : ByteBuffer.allocate(count);
                input.put(body, offset, count).flip();
                offset += count;
                CodecOutput output = CodecOutput.borrow(Long.MAX_VALUE);
                try {
                    ByteBuffer view = input.asReadOnlyBuffer();
                    codec.transform(view, endsStream && offset == body.length, output);
                    assertEquals(0, view.remaining(), "input left unread");
                    ByteBuffer written = output.written();
                    out.write(written.array(), written.arrayOffset() + written.position(), written.remaining());
                } finally {
                    output.release();
                }
            } while (offset < body.length);
        }
        return out.toByteArray();
    }

    @ParameterizedTest
    @EnumSource(value = ContentCoding.class, names = {"GZIP", "BR", "ZSTD"})
    void compressedBodyDecodesWithTheLibraryToTheSameBytes(ContentCoding coding) throws IOException {
        byte[] body = TestBodies.text(300_000);
        byte[] encoded = transformInPieces(Codecs.encoder(coding, 5), body, 8192, false);
        assertTrue(encoded.length < body.length / 3, coding + " compressed to " + encoded.length);
        assertArrayEquals(body, TestBodies.decodeWithLibrary(coding, encoded));
    }

    @ParameterizedTest
    @EnumSource(value = ContentCoding.class, names = {"GZIP", "BR", "ZSTD"})
    void severalMebibytesFromDirectBuffersRoundTrip(ContentCoding coding) throws IOException {
        byte[] body = TestBodies.text(6 * 1024 * 1024);
        byte[] encoded = transformInPieces(Codecs.encoder(coding, 3), body, 65536, true);
        assertArrayEquals(body, TestBodies.decodeWithLibrary(coding, encoded));
        assertArrayEquals(body, transformInPieces(Codecs.decoder(coding), encoded, 16384, true));
    }

    @ParameterizedTest
    @EnumSource(value = ContentCoding.class, names = {"GZIP", "BR", "ZSTD", "DEFLATE"})
    void libraryEncodedBodyDecodesInPiecesOfAnySize(ContentCoding coding) throws IOException {
        byte[] body = TestBodies.text(200_000);
        byte[] encoded = TestBodies.encodeWithLibrary(coding, body);
        for (int piece : new int[] {1, 7, 4096, encoded.length}) {
            if (piece == 1 && encoded.length > 20_000) {
                assertArrayEquals(body, transformInPieces(Codecs.decoder(coding), encoded, 3, false), "pieces of 3");
                continue;
            }
            assertArrayEquals(body, transformInPieces(Codecs.decoder(coding), encoded, piece, false), "pieces of " + piece);
        }
    }

    @ParameterizedTest
    @EnumSource(value = ContentCoding.class, names = {"GZIP", "BR", "ZSTD"})
    void eachPartIsDecodableAsSoonAsItIsCompressed(ContentCoding coding) throws IOException {
        byte[] first = "data: first event\n\n".getBytes();
        BodyCodec encoder = Codecs.encoder(coding, 5);
        try (encoder) {
            CodecOutput output = CodecOutput.borrow(Long.MAX_VALUE);
            byte[] sent;
            try {
                encoder.transform(ByteBuffer.wrap(first), false, output);
                sent = Arrays.copyOf(output.array(), output.length());
            } finally {
                output.release();
            }
            // What went out for the first event alone decodes to the whole event: nothing waits in the compressor.
            if (coding == ContentCoding.BR) {
                // brotli4j's BrotliInputStream reports a stream cut after a flush as an error even when
                // eager, so the flushed prefix is decoded with the filter's decoder (checked against the
                // library by the round trips above).
                assertArrayEquals(first, transformInPieces(Codecs.decoder(coding), sent, sent.length, false, false));
            } else {
                try (InputStream decoded = TestBodies.libraryDecoder(coding, new ByteArrayInputStream(sent))) {
                    assertArrayEquals(first, decoded.readNBytes(first.length));
                }
            }
        }
    }

    @Test
    void gzipWithNameCommentExtraFieldAndSeveralMembersDecodes() throws IOException {
        byte[] one = TestBodies.text(5000);
        byte[] two = TestBodies.text(3000);
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        // A member with FEXTRA, FNAME, FCOMMENT and FHCRC, written by hand, then a plain one.
        stream.write(new byte[] {0x1f, (byte) 0x8b, 8, 2 | 4 | 8 | 16, 0, 0, 0, 0, 0, 3, 3, 0, 'a', 'b', 'c'});
        stream.write("name.txt\0a comment\0".getBytes());
        stream.write(new byte[] {0x12, 0x34});
        Deflater deflater = new Deflater(6, true);
        deflater.setInput(one);
        deflater.finish();
        byte[] buffer = new byte[one.length + 100];
        int length = deflater.deflate(buffer);
        deflater.end();
        stream.write(buffer, 0, length);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(one);
        writeIntLittleEndian(stream, (int) crc.getValue());
        writeIntLittleEndian(stream, one.length);
        stream.write(TestBodies.encodeWithLibrary(ContentCoding.GZIP, two));
        byte[] encoded = stream.toByteArray();
        byte[] expected = new byte[one.length + two.length];
        System.arraycopy(one, 0, expected, 0, one.length);
        System.arraycopy(two, 0, expected, one.length, two.length);
        assertArrayEquals(expected, transformInPieces(new GzipDecoder(), encoded, 5, false));
    }

    private static void writeIntLittleEndian(ByteArrayOutputStream out, int value) {
        out.write(value);
        out.write(value >>> 8);
        out.write(value >>> 16);
        out.write(value >>> 24);
    }

    @Test
    void rawDeflateUnderTheNameDeflateDecodes() throws IOException {
        byte[] body = TestBodies.text(10_000);
        Deflater deflater = new Deflater(6, true);
        deflater.setInput(body);
        deflater.finish();
        byte[] buffer = new byte[body.length];
        int length = deflater.deflate(buffer);
        deflater.end();
        assertArrayEquals(body, transformInPieces(new DeflateDecoder(), Arrays.copyOf(buffer, length), 1000, false));
    }

    @ParameterizedTest
    @EnumSource(value = ContentCoding.class, names = {"GZIP", "BR", "ZSTD", "DEFLATE"})
    void truncatedStreamFailsAtItsEnd(ContentCoding coding) throws IOException {
        byte[] encoded = TestBodies.encodeWithLibrary(coding, TestBodies.text(50_000));
        byte[] truncated = Arrays.copyOf(encoded, encoded.length / 2);
        assertThrows(IOException.class, () -> transformInPieces(Codecs.decoder(coding), truncated, 4096, false));
    }

    @ParameterizedTest
    @EnumSource(value = ContentCoding.class, names = {"GZIP", "BR", "ZSTD", "DEFLATE"})
    void garbageFailsAsInvalid(ContentCoding coding) {
        byte[] garbage = TestBodies.text(10_000);
        IOException e = assertThrows(IOException.class, () -> transformInPieces(Codecs.decoder(coding), garbage, 4096, false));
        assertTrue(!(e instanceof CodecOutput.LimitExceededException), e.toString());
    }

    @ParameterizedTest
    @EnumSource(value = ContentCoding.class, names = {"GZIP", "BR", "ZSTD", "DEFLATE"})
    void bombStopsAtTheLimitWithoutGrowingPastIt(ContentCoding coding) throws IOException {
        byte[] zeros = new byte[16 * 1024 * 1024];
        byte[] bomb = TestBodies.encodeWithLibrary(coding, zeros);
        assertTrue(bomb.length < 1024 * 1024, coding + " bomb of " + bomb.length);
        BodyCodec decoder = Codecs.decoder(coding);
        CodecOutput output = CodecOutput.borrow(1024 * 1024);
        try (decoder) {
            assertThrows(CodecOutput.LimitExceededException.class,
                    () -> decoder.transform(ByteBuffer.wrap(bomb), true, output));
            assertTrue(output.array().length <= 1024 * 1024 + 1, "grew to " + output.array().length);
        } finally {
            output.release();
        }
    }

    @Test
    void closingTwiceFreesOnce() throws IOException {
        BodyCodec codec = Codecs.encoder(ContentCoding.ZSTD, 3);
        assertEquals(1, BodyCodec.openCodecs());
        codec.close();
        codec.close();
        assertEquals(0, BodyCodec.openCodecs());
    }
}
