package dev.relay.server.internal.metrics;

import java.nio.charset.StandardCharsets;

/**
 * A request field's value as an access-log entry keeps it: a span of the entry's own byte buffer,
 * read as ISO-8859-1 text (one char per byte, as the value's String would read). The event loop
 * fills it before the entry is published and the writer reads it after; the entry's next request
 * fills it again. Kept instead of a String: the value's String and its byte array (some 60 B per
 * field) are not made per request.
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
