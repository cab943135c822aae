package dev.relay.core;

import java.nio.ByteBuffer;
import java.nio.charset.Charset;

/**
 * A piece of a message body as a body filter sees it, with the means to change it.
 *
 * <p>Ownership: the chunk and the bytes behind it belong to the framework. A chunk handed to a
 * filter is valid only during that call (for an asynchronous phase, until the returned stage
 * completes); keep a copy ({@link #toByteArray()}) if you need the bytes later. A filter that
 * wants to send something else calls {@link #replace(byte[])} or {@link #clear()}; the framework
 * releases whatever it owned. Users never release anything.
 *
 * <p>On the Netty transport the bytes are read in place, without copying, until a filter replaces
 * them.
 */
public interface BodyChunk {

    /** A chunk over a copy-free view of {@code bytes} (the plain implementation, for tests). */
    static BodyChunk wrap(byte[] bytes) {
        return new dev.relay.core.internal.HeapBodyChunk(bytes);
    }

    /** The number of readable bytes; 0 for an empty chunk (for example the end-of-stream marker). */
    int length();

    /** Whether the chunk holds no bytes. */
    default boolean isEmpty() {
        return length() == 0;
    }

    /** The byte at {@code index} (0-based, below {@link #length()}). */
    byte byteAt(int index);

    /** A copy of the bytes. */
    byte[] toByteArray();

    /** The bytes decoded with {@code charset}. */
    String toString(Charset charset);

    /** A read-only view of the bytes, valid as long as the chunk is. */
    ByteBuffer asReadOnlyByteBuffer();

    /** Replaces the bytes to be sent by {@code bytes} (the array is not copied: do not change it). */
    void replace(byte[] bytes);

    /** Replaces the bytes to be sent by the remaining bytes of {@code bytes} (copied). */
    void replace(ByteBuffer bytes);

    /** Drops the bytes: nothing of this chunk is sent (end-of-stream, if set, still is). */
    void clear();
}
