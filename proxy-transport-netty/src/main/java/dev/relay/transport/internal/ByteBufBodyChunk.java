package dev.relay.transport.internal;

import dev.relay.core.BodyChunk;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;

import java.nio.ByteBuffer;
import java.nio.charset.Charset;

/**
 * A reusable {@link BodyChunk} view over a {@link ByteBuf}. The exchange owns the buffer: it
 * {@link #reset(ByteBuf) loads} one before calling the filters and {@link #take() takes} back
 * whatever is to be sent afterwards. A replaced buffer is released here, exactly once.
 */
final class ByteBufBodyChunk implements BodyChunk {
    private ByteBuf buf;

    /** Loads {@code buf} (ownership moves to this chunk until {@link #take()}). */
    ByteBufBodyChunk reset(ByteBuf buf) {
        this.buf = buf;
        return this;
    }

    /** The buffer the chunk holds now (filters may have replaced it), still owned by the chunk. */
    ByteBuf peek() {
        return buf;
    }

    /** Returns the buffer to send (ownership moves to the caller) and empties the view. */
    ByteBuf take() {
        ByteBuf b = buf;
        buf = null;
        return b;
    }

    /** Releases the buffer held, if any (its filter failed, or what it held will never be sent). */
    void releaseHeld() {
        ByteBuf b = take();
        if (b != null) {
            b.release();
        }
    }

    @Override
    public int length() {
        return buf.readableBytes();
    }

    @Override
    public byte byteAt(int index) {
        if (index < 0 || index >= buf.readableBytes()) {
            throw new IndexOutOfBoundsException("index: " + index + " (expected: 0.." + (buf.readableBytes() - 1) + ")");
        }
        return buf.getByte(buf.readerIndex() + index);
    }

    @Override
    public byte[] toByteArray() {
        return ByteBufUtil.getBytes(buf);
    }

    @Override
    public String toString(Charset charset) {
        return buf.toString(charset);
    }

    @Override
    public ByteBuffer asReadOnlyByteBuffer() {
        return buf.nioBuffer().asReadOnlyBuffer();
    }

    @Override
    public void replace(byte[] bytes) {
        ByteBuf old = buf;
        buf = Unpooled.wrappedBuffer(bytes);
        old.release();
    }

    @Override
    public void replace(ByteBuffer bytes) {
        ByteBuf old = buf;
        buf = Unpooled.copiedBuffer(bytes.duplicate());
        old.release();
    }

    @Override
    public void clear() {
        ByteBuf old = buf;
        buf = Unpooled.EMPTY_BUFFER;
        old.release();
    }
}
