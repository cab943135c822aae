package dev.relay.filters.compression;

import com.github.luben.zstd.ZstdCompressCtx;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
        List<byte[]> pieces = new ArrayList<>();
        int offset = 0;
        do {
            int count = Math.min(piece, body.length - offset);
            pieces.add(Arrays.copyOfRange(body, offset, offset + count));
            offset += count;
        } while (offset < body.length);
        return transformParts(codec, pieces, direct, endsStream);
    }

    /** Feeds {@code parts} to {@code codec} one by one (the last one ending it when {@code endsStream}). */
    private static byte[] transformParts(BodyCodec codec, List<byte[]> parts, boolean direct, boolean endsStream)
            throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (codec) {
            for (int i = 0; i < parts.size(); i++) {
                byte[] part = parts.get(i);
                ByteBuffer input = direct ? ByteBuffer.allocateDirect(part.length) : ByteBuffer.allocate(part.length);
                input.put(part).flip();
                CodecOutput output = CodecOutput.borrow(Long.MAX_VALUE);
                try {
                    ByteBuffer view = input.asReadOnlyBuffer();
                    codec.transform(view, endsStream && i == parts.size() - 1, output);
                    assertEquals(0, view.remaining(), "input left unread");
                    ByteBuffer written = output.written();
                    out.write(written.array(), written.arrayOffset() + written.position(), written.remaining());
                } finally {
                    output.release();
                }
            }
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

    /** A skippable frame (RFC 8878 §3.1.2) of {@code length} bytes of content. */
    private static byte[] skippableFrame(int length) {
        ByteBuffer frame = ByteBuffer.allocate(8 + length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        return frame.putInt(0x184D2A50).putInt(length).array();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    @Test
    void zstdWindowsUpToEightMebibytesDecode() throws IOException {
        byte[] body = TestBodies.text(100_000);
        byte[] frame = TestBodies.zstdFrame(body, ZstdCodecs.MAX_WINDOW_LOG);
        assertArrayEquals(body, transformInPieces(Codecs.decoder(ContentCoding.ZSTD), frame, 1000, true));
    }

    @Test
    void zstdWindowOverEightMebibytesIsRefusedBeforeItIsAllocated() throws IOException {
        byte[] large = TestBodies.zstdFrame(TestBodies.text(10_000), 24);
        IOException e = assertThrows(IOException.class,
                () -> transformInPieces(Codecs.decoder(ContentCoding.ZSTD), large, 4096, true));
        assertTrue(e.getMessage().contains("window"), e.getMessage());

        // A single-segment frame's window is its content size (RFC 8878 §3.1.1.1.2): 9 MiB is over the limit.
        byte[] singleSegment;
        try (ZstdCompressCtx context = new ZstdCompressCtx()) {
            singleSegment = context.setLevel(1).setWindowLog(24).setContentSize(true).compress(new byte[9 << 20]);
        }
        assertTrue((singleSegment[4] & 0x20) != 0, "single segment");
        e = assertThrows(IOException.class,
                () -> transformInPieces(Codecs.decoder(ContentCoding.ZSTD), singleSegment, 4096, false));
        assertTrue(e.getMessage().contains("window"), e.getMessage());
    }

    @Test
    void everyZstdFrameIsChecked() throws IOException {
        byte[] first = TestBodies.text(30_000);
        byte[] second = TestBodies.text(20_000);
        byte[] firstFrame = TestBodies.encodeWithLibrary(ContentCoding.ZSTD, first);
        byte[] secondFrame = TestBodies.encodeWithLibrary(ContentCoding.ZSTD, second);
        byte[] skippable = skippableFrame(16);
        byte[] both = concat(first, second);
        // Frames ending where a part ends (the stream stops there and a new one takes the next frame), and inside one.
        assertArrayEquals(both, transformParts(Codecs.decoder(ContentCoding.ZSTD),
                List.of(firstFrame, skippable, secondFrame), true, true));
        assertArrayEquals(both, transformParts(Codecs.decoder(ContentCoding.ZSTD),
                List.of(concat(firstFrame, skippable, secondFrame)), false, true));
        // A frame with too large a window after good ones is refused too, whatever the parts.
        byte[] large = TestBodies.zstdFrame(second, 25);
        for (List<byte[]> parts : List.of(List.of(firstFrame, skippable, large), List.of(concat(firstFrame, skippable, large)))) {
            IOException e = assertThrows(IOException.class,
                    () -> transformParts(Codecs.decoder(ContentCoding.ZSTD), parts, true, true));
            assertTrue(e.getMessage().contains("window"), e.getMessage());
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
