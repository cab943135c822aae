package dev.relay.core.internal;

import dev.relay.core.BodyChunk;

import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.util.Arrays;

import static java.util.Objects.requireNonNull;

/** A {@link BodyChunk} over a byte array. */
public final class HeapBodyChunk implements BodyChunk {
    private byte[] bytes;

    public HeapBodyChunk(byte[] bytes) {
        this.bytes = requireNonNull(bytes, "bytes");
    }

    @Override public int length() { return bytes.length; }
    @Override public byte byteAt(int index) { return bytes[index]; }
    @Override public byte[] toByteArray() { return Arrays.copyOf(bytes, bytes.length); }
    @Override public String toString(Charset charset) { return new String(bytes, charset); }
    @Override public ByteBuffer asReadOnlyByteBuffer() { return ByteBuffer.wrap(bytes).asReadOnlyBuffer(); }
    @Override public void replace(byte[] replacement) { this.bytes = requireNonNull(replacement, "bytes"); }

    @Override
    public void replace(ByteBuffer replacement) {
        byte[] copy = new byte[replacement.remaining()];
        replacement.duplicate().get(copy);
        this.bytes = copy;
    }

    @Override public void clear() { this.bytes = new byte[0]; }
}
