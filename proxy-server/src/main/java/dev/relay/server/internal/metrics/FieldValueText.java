package dev.relay.server.internal.metrics;

import java.nio.charset.StandardCharsets;

/**
 * A text of an access-log line as its slot keeps it (the target, Referer, User-Agent, Host): a span
 * of the slot's own bytes, read as ISO-8859-1 text (one char per byte, as the value's String would
 * read). The writer points its own views at each line's spans as it formats the line
 * ({@link AccessLogFormatter}); the slot holds only the bytes and the spans' numbers, so a line
 * neither makes a String per field (some 60 B each) nor writes a reference into the old slot.
 */
final class FieldValueText implements CharSequence {
    private byte[] bytes;
    private int start;
    private int length;

    FieldValueText(byte[] bytes, int start, int length) {
        set(bytes, start, length);
    }

    /** Points this view at {@code bytes[start, start + length)}; returns it. */
    FieldValueText set(byte[] bytes, int start, int length) {
        this.bytes = bytes;
        this.start = start;
        this.length = length;
        return this;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public char charAt(int index) {
        if (index < 0 || index >= length) {
            throw new IndexOutOfBoundsException("index: " + index + " (expected: 0 <= index < " + length + ")");
        }
        return (char) (bytes[start + index] & 0xff);
    }

    @Override
    public CharSequence subSequence(int from, int to) {
        return toString().substring(from, to);
    }

    @Override
    public String toString() {
        return new String(bytes, start, length, StandardCharsets.ISO_8859_1);
    }
}
