package dev.relay.filters.compression;

import java.nio.ByteBuffer;

/**
 * Where a codec writes what one body part became: a growable byte array, one per event-loop thread
 * ({@link #borrow}), reused from part to part and from request to request, so that a part costs no
 * array beyond the one the chunk's {@code replace} copies it into.
 *
 * <p>A limit bounds what may be written: a decoder fed a bomb stops at the limit and never grows the
 * array past it.
 */
final class CodecOutput {
    private static final int INITIAL_CAPACITY = 16 * 1024;
    /** An array that grew past this for one large part is dropped afterwards, not kept per thread. */
    private static final int RETAINED_CAPACITY = 1024 * 1024;
    private static final ThreadLocal<CodecOutput> PER_THREAD = ThreadLocal.withInitial(CodecOutput::new);

    /** Thrown when a codec would write more than the limit. */
    static final class LimitExceededException extends java.io.IOException {
        private static final long serialVersionUID = 1L;

        LimitExceededException(long limit) {
            super("decoded output exceeds " + limit + " bytes");
        }
    }

    private byte[] bytes = new byte[INITIAL_CAPACITY];
    private int length;
    private long limit;
    private boolean borrowed;

    private CodecOutput() {}

    /**
     * This thread's output, emptied, accepting at most {@code limit} bytes. Give it back with
     * {@link #release()} before the body hook returns: it is shared by every request of the thread.
     */
    static CodecOutput borrow(long limit) {
        CodecOutput output = PER_THREAD.get();
        if (output.borrowed) {
            // Only a codec calling back into another would get here; give it its own.
            output = new CodecOutput();
        }
        output.borrowed = true;
        output.length = 0;
        output.limit = limit;
        return output;
    }

    /** Ends the use started by {@link #borrow}. */
    void release() {
        borrowed = false;
        length = 0;
        if (bytes.length > RETAINED_CAPACITY) {
            bytes = new byte[INITIAL_CAPACITY];
        }
    }

    /** The bytes written so far, as a buffer over the shared array (valid until the next write or release). */
    ByteBuffer written() {
        return ByteBuffer.wrap(bytes, 0, length);
    }

    int length() {
        return length;
    }

    /** The array to write into directly, from {@link #length()} on; {@link #reserve} first. */
    byte[] array() {
        return bytes;
    }

    /**
     * Makes room for up to {@code wanted} more bytes (fewer near the limit: one past it, so that a
     * codec that fills that room shows it has more) and returns how many may be written at
     * {@link #length()}.
     */
    int reserve(int wanted) throws LimitExceededException {
        long left = limit - length;
        long allowed = left == Long.MAX_VALUE ? left : left + 1;
        int room = (int) Math.min(wanted, allowed);
        if (bytes.length - length < room) {
            long grown = Math.max((long) length + room, Math.min((long) bytes.length * 2, (long) length + allowed));
            bytes = java.util.Arrays.copyOf(bytes, (int) Math.min(grown, Integer.MAX_VALUE - 8));
        }
        return Math.min(room, bytes.length - length);
    }

    /** Records {@code count} bytes written into {@link #array()} at {@link #length()}. */
    void advance(int count) throws LimitExceededException {
        length += count;
        if (length > limit) {
            throw new LimitExceededException(limit);
        }
    }

    /** Copies the remaining bytes of {@code source} (its position moves to its limit). */
    void write(ByteBuffer source) throws LimitExceededException {
        while (source.hasRemaining()) {
            int room = reserve(source.remaining());
            int count = Math.min(room, source.remaining());
            source.get(bytes, length, count);
            advance(count);
        }
    }

    /** Copies {@code count} bytes of {@code source} from {@code offset}. */
    void write(byte[] source, int offset, int count) throws LimitExceededException {
        write(ByteBuffer.wrap(source, offset, count));
    }
}
