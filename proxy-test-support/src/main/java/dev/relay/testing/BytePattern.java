package dev.relay.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The deterministic body the origin's generated routes send: byte {@code i} is {@code i % 251}. 251 is
 * prime, so the pattern does not line up with power-of-two buffer boundaries and a shifted, dropped or
 * duplicated chunk shows up as a mismatch.
 */
final class BytePattern {
    static final int MODULUS = 251;
    /** Bytes per generated chunk: big enough to keep syscalls few, small enough to bound memory. */
    static final int CHUNK_SIZE = 64 * 1024;

    /** {@code PATTERN[i] == i % 251}, long enough to copy a whole chunk from any phase. */
    private static final byte[] PATTERN = new byte[MODULUS + CHUNK_SIZE];

    static {
        for (int i = 0; i < PATTERN.length; i++) {
            PATTERN[i] = (byte) (i % MODULUS);
        }
    }

    private BytePattern() {
    }

    static byte at(long offset) {
        return (byte) (offset % MODULUS);
    }

    /**
     * A new buffer with the {@code length} pattern bytes that start at {@code offset}; the caller owns it.
     *
     * @param length at most {@link #CHUNK_SIZE}
     */
    static ByteBuf chunk(ByteBufAllocator alloc, long offset, int length) {
        if (length < 0 || length > CHUNK_SIZE) {
            throw new IllegalArgumentException("length: " + length + " (expected: 0.." + CHUNK_SIZE + ")");
        }
        ByteBuf buf = alloc.ioBuffer(length);
        buf.writeBytes(PATTERN, (int) (offset % MODULUS), length);
        return buf;
    }

    static byte[] bytes(long offset, int length) {
        byte[] out = new byte[length];
        int phase = (int) (offset % MODULUS);
        for (int i = 0; i < length; i++) {
            out[i] = (byte) ((phase + i) % MODULUS);
        }
        return out;
    }
}
