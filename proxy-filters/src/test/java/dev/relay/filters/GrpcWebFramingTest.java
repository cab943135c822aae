package dev.relay.filters;

import dev.relay.core.HttpHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(10)
class GrpcWebFramingTest {

    @Test
    void trailerFrameIsFlagLengthAndLowerCaseLines() {
        HttpHeaders trailers = HttpHeaders.create().add("grpc-status", "3").add("Grpc-Message", "bad thing");
        byte[] frame = GrpcWebFraming.trailerFrame(trailers);
        String block = "grpc-status: 3\r\ngrpc-message: bad thing\r\n";
        assertEquals((byte) 0x80, frame[0]);
        assertEquals(block.length(), (frame[1] & 0xff) << 24 | (frame[2] & 0xff) << 16 | (frame[3] & 0xff) << 8 | frame[4] & 0xff);
        assertEquals(block, new String(frame, 5, frame.length - 5, StandardCharsets.ISO_8859_1));
    }

    @Test
    void emptyTrailersMakeAnEmptyFrame() {
        assertArrayEquals(new byte[] {(byte) 0x80, 0, 0, 0, 0}, GrpcWebFraming.trailerFrame(HttpHeaders.create()));
    }

    @Test
    void theLengthTakesFourBytesBigEndian() {
        String value = "x".repeat(70_000);
        byte[] frame = GrpcWebFraming.trailerFrame(HttpHeaders.create().add("grpc-message", value));
        int length = "grpc-message: ".length() + value.length() + 2;
        assertEquals(0, frame[1]);
        assertEquals((byte) (length >>> 16), frame[2]);
        assertEquals((byte) (length >>> 8), frame[3]);
        assertEquals((byte) length, frame[4]);
        assertEquals(length + 5, frame.length);
    }

    @Test
    void decodesBase64SplitAnywhereAcrossPieces() {
        byte[] data = new byte[1000];
        new Random(3).nextBytes(data);
        byte[] text = Base64.getEncoder().encode(data);
        for (int split : new int[] {0, 1, 2, 3, 4, 5, 517, text.length - 1}) {
            GrpcWebFraming.Base64Decoder decoder = new GrpcWebFraming.Base64Decoder();
            byte[] first = decoder.decode(java.util.Arrays.copyOfRange(text, 0, split), false);
            byte[] second = decoder.decode(java.util.Arrays.copyOfRange(text, split, text.length), true);
            byte[] all = new byte[first.length + second.length];
            System.arraycopy(first, 0, all, 0, first.length);
            System.arraycopy(second, 0, all, first.length, second.length);
            assertArrayEquals(data, all, "split at " + split);
        }
    }

    @Test
    void decodesPaddedSegmentsOneAfterTheOther() {
        // Two flushes of a client, each padded: "ab" and "c".
        String text = Base64.getEncoder().encodeToString("ab".getBytes(StandardCharsets.US_ASCII))
                + Base64.getEncoder().encodeToString("c".getBytes(StandardCharsets.US_ASCII));
        assertEquals("YWI=Yw==", text);
        byte[] decoded = new GrpcWebFraming.Base64Decoder().decode(text.getBytes(StandardCharsets.US_ASCII), true);
        assertEquals("abc", new String(decoded, StandardCharsets.US_ASCII));
    }

    @Test
    void lineBreaksAreSkipped() {
        byte[] decoded = new GrpcWebFraming.Base64Decoder().decode("YW\r\nJj\n".getBytes(StandardCharsets.US_ASCII), true);
        assertEquals("abc", new String(decoded, StandardCharsets.US_ASCII));
    }

    @Test
    void refusesWhatIsNotBase64() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new GrpcWebFraming.Base64Decoder().decode("YW*j".getBytes(StandardCharsets.US_ASCII), true));
        assertTrue(e.getMessage().contains("'*' is not a base64 character"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new GrpcWebFraming.Base64Decoder().decode("YW=j".getBytes(StandardCharsets.US_ASCII), true));
        e = assertThrows(IllegalArgumentException.class,
                () -> new GrpcWebFraming.Base64Decoder().decode("YWJjZA".getBytes(StandardCharsets.US_ASCII), true));
        assertTrue(e.getMessage().contains("ends inside a group"), e.getMessage());
    }

    @Test
    void encodesWithPadding() {
        assertEquals("gAAAAAA=", new String(GrpcWebFraming.base64(new byte[] {(byte) 0x80, 0, 0, 0, 0}), StandardCharsets.US_ASCII));
    }
}
