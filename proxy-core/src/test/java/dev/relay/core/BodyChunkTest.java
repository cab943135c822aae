package dev.relay.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.concurrent.TimeUnit;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link BodyChunk#wrap(byte[])}, the plain chunk. */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class BodyChunkTest {

    @Test
    void readsTheWrappedBytes() {
        BodyChunk chunk = BodyChunk.wrap("héllo".getBytes(UTF_8));

        assertEquals(6, chunk.length());
        assertFalse(chunk.isEmpty());
        assertEquals('h', chunk.byteAt(0));
        assertEquals("héllo", chunk.toString(UTF_8));
        assertThrows(IndexOutOfBoundsException.class, () -> chunk.byteAt(6));
    }

    @Test
    void anEmptyChunkIsEmpty() {
        BodyChunk chunk = BodyChunk.wrap(new byte[0]);

        assertTrue(chunk.isEmpty());
        assertEquals(0, chunk.asReadOnlyByteBuffer().remaining());
    }

    @Test
    void toByteArrayIsACopy() {
        BodyChunk chunk = BodyChunk.wrap("abc".getBytes(US_ASCII));

        chunk.toByteArray()[0] = 'X';

        assertEquals("abc", chunk.toString(US_ASCII));
    }

    @Test
    void theByteBufferViewIsReadOnly() {
        ByteBuffer view = BodyChunk.wrap("abc".getBytes(US_ASCII)).asReadOnlyByteBuffer();

        assertEquals(3, view.remaining());
        assertThrows(ReadOnlyBufferException.class, () -> view.put(0, (byte) 'X'));
    }

    @Test
    void replaceWithAnArraySendsThoseBytes() {
        BodyChunk chunk = BodyChunk.wrap("original".getBytes(US_ASCII));

        chunk.replace("new".getBytes(US_ASCII));

        assertEquals(3, chunk.length());
        assertEquals("new", chunk.toString(US_ASCII));
        assertThrows(NullPointerException.class, () -> chunk.replace((byte[]) null));
        assertEquals("new", chunk.toString(US_ASCII), "a rejected replacement changes nothing");
    }

    @Test
    void replaceWithABufferCopiesItsRemainingBytesAndLeavesItsPosition() {
        ByteBuffer source = ByteBuffer.wrap("xxpayload".getBytes(US_ASCII));
        source.position(2);
        BodyChunk chunk = BodyChunk.wrap("original".getBytes(US_ASCII));

        chunk.replace(source);
        source.put(2, (byte) 'P');

        assertEquals("payload", chunk.toString(US_ASCII));
        assertEquals(2, source.position());
        assertArrayEquals("payload".getBytes(US_ASCII), chunk.toByteArray());
    }

    @Test
    void clearDropsTheBytes() {
        BodyChunk chunk = BodyChunk.wrap("abc".getBytes(US_ASCII));

        chunk.clear();

        assertTrue(chunk.isEmpty());
        assertArrayEquals(new byte[0], chunk.toByteArray());

        chunk.replace("again".getBytes(US_ASCII));
        assertEquals("again", chunk.toString(US_ASCII));
    }

    @Test
    void wrapRejectsNull() {
        assertThrows(NullPointerException.class, () -> BodyChunk.wrap(null));
    }
}
