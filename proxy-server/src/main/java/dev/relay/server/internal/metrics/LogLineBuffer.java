package dev.relay.server.internal.metrics;

import org.jspecify.annotations.Nullable;

import java.util.Arrays;

/**
 * The growable byte buffer the access-log writer formats its lines into, reused for every batch:
 * text is encoded to UTF-8 by hand (a plain copy loop while it is ASCII, which a line almost always
 * is), numbers are written as digits, so a line costs no {@code String}, {@code StringBuilder} or
 * {@code CharsetEncoder}. The encoding is {@code String.getBytes(UTF_8)}'s, an unpaired surrogate
 * included (it becomes {@code ?}), and JSON literals are escaped as {@link dev.relay.server.internal.JsonText}
 * escapes them. One thread only.
 */
final class LogLineBuffer {
    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private byte[] bytes;
    private int length;

    LogLineBuffer(int initialCapacity) {
        bytes = new byte[Math.max(16, initialCapacity)];
    }

    /** The bytes so far; valid up to {@link #length()}, and until the next append. */
    byte[] array() {
        return bytes;
    }

    int length() {
        return length;
    }

    void clear() {
        length = 0;
    }

    /** Cuts the buffer back to its first {@code newLength} bytes (a line that failed half-way). */
    void truncate(int newLength) {
        length = newLength;
    }

    /** Drops the first {@code count} bytes (written out), moving what follows to the front. */
    void discardFirst(int count) {
        System.arraycopy(bytes, count, bytes, 0, length - count);
        length -= count;
    }

    /** An ASCII character. */
    LogLineBuffer ascii(char c) {
        ensure(1);
        bytes[length++] = (byte) c;
        return this;
    }

    /** Text known to be ASCII (the formats' own literals). */
    LogLineBuffer ascii(String s) {
        int n = s.length();
        ensure(n);
        byte[] b = bytes;
        int p = length;
        for (int i = 0; i < n; i++) {
            b[p++] = (byte) s.charAt(i);
        }
        length = p;
        return this;
    }

    /** Bytes as they are. */
    LogLineBuffer raw(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, bytes, length, b.length);
        length += b.length;
        return this;
    }

    /** {@code s} in UTF-8. */
    LogLineBuffer utf8(CharSequence s) {
        int n = s.length();
        ensure(n);
        byte[] b = bytes;
        int p = length;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                length = p;
                return utf8From(s, i);
            }
            b[p++] = (byte) c;
        }
        length = p;
        return this;
    }

    /** The rest of {@code s}, from {@code i} on, which is not all ASCII. */
    private LogLineBuffer utf8From(CharSequence s, int i) {
        ensure(3 * (s.length() - i));
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes[length++] = (byte) c;
            } else {
                i = nonAscii(s, i, c);
            }
        }
        return this;
    }

    /**
     * {@code s} as a JSON string literal, {@code null} for null: {@code "}, {@code \} and the
     * control characters escaped, the rest in UTF-8.
     */
    LogLineBuffer json(@Nullable CharSequence s) {
        if (s == null) {
            return ascii("null");
        }
        int n = s.length();
        // Escapes are rare; the worst case (\\u00XX for each char, or 3 bytes of UTF-8) is reserved once.
        ensure(6 * n + 2);
        byte[] b = bytes;
        b[length++] = '"';
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                i = nonAscii(s, i, c);
                continue;
            }
            switch (c) {
                case '"' -> escape('"');
                case '\\' -> escape('\\');
                case '\n' -> escape('n');
                case '\r' -> escape('r');
                case '\t' -> escape('t');
                default -> {
                    if (c < 0x20) {
                        escape('u');
                        b[length++] = '0';
                        b[length++] = '0';
                        b[length++] = HEX[c >> 4];
                        b[length++] = HEX[c & 0xf];
                    } else {
                        b[length++] = (byte) c;
                    }
                }
            }
        }
        b[length++] = '"';
        return this;
    }

    /**
     * {@code s} as an unquoted field value, escaped as nginx escapes log variables: every byte of its
     * UTF-8 that is {@code "}, {@code \}, a control character, DEL or not ASCII is written {@code \xHH},
     * and so is a space, which would otherwise end the field (and let the value write fields of its own).
     */
    LogLineBuffer escapedField(String s) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            if (needsFieldEscape(s.charAt(i))) {
                byte[] utf8 = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                ensure(4 * utf8.length);
                for (byte b : utf8) {
                    int c = b & 0xff;
                    if (needsFieldEscape((char) c)) {
                        bytes[length++] = '\\';
                        bytes[length++] = 'x';
                        bytes[length++] = HEX[c >> 4];
                        bytes[length++] = HEX[c & 0xf];
                    } else {
                        bytes[length++] = (byte) c;
                    }
                }
                return this;
            }
        }
        return ascii(s);
    }

    /**
     * {@code s} inside a quoted field (the request line, {@code Referer}, {@code User-Agent}), escaped as
     * nginx escapes them: {@code "}, {@code \} and control characters are written {@code \xHH}, so a
     * client cannot end the field or the line and write fields or lines of its own. Other characters go in
     * UTF-8 (nginx escapes non-ASCII bytes too; a log reader decoding UTF-8 gets them readable here).
     */
    LogLineBuffer quotedField(CharSequence s) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            if (needsQuotedEscape(s.charAt(i))) {
                StringBuilder escaped = new StringBuilder(n + 16);
                for (int j = 0; j < n; j++) {
                    char c = s.charAt(j);
                    if (needsQuotedEscape(c)) {
                        escaped.append("\\x").append((char) HEX[c >> 4]).append((char) HEX[c & 0xf]);
                    } else {
                        escaped.append(c);
                    }
                }
                return utf8(escaped.toString());
            }
        }
        return utf8(s);
    }

    private static boolean needsQuotedEscape(char c) {
        return c < ' ' || c == 0x7f || c == '"' || c == '\\';
    }

    private static boolean needsFieldEscape(char c) {
        return c <= ' ' || c >= 0x7f || c == '"' || c == '\\';
    }

    private void escape(char c) {
        bytes[length++] = '\\';
        bytes[length++] = (byte) c;
    }

    /**
     * Writes {@code c} = {@code s.charAt(i)}, at least 0x80, in UTF-8 (room for three bytes is
     * there; a pair needs four, for two chars) and returns the index of the last char used.
     */
    private int nonAscii(CharSequence s, int i, char c) {
        byte[] b = bytes;
        if (c < 0x800) {
            b[length++] = (byte) (0xc0 | (c >> 6));
            b[length++] = (byte) (0x80 | (c & 0x3f));
        } else if (!Character.isSurrogate(c)) {
            b[length++] = (byte) (0xe0 | (c >> 12));
            b[length++] = (byte) (0x80 | ((c >> 6) & 0x3f));
            b[length++] = (byte) (0x80 | (c & 0x3f));
        } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
            int cp = Character.toCodePoint(c, s.charAt(i + 1));
            b[length++] = (byte) (0xf0 | (cp >> 18));
            b[length++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
            b[length++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
            b[length++] = (byte) (0x80 | (cp & 0x3f));
            return i + 1;
        } else {
            // What String.getBytes(UTF_8), and so the logging framework before, writes for it.
            b[length++] = '?';
        }
        return i;
    }

    /** {@code v} in decimal. */
    LogLineBuffer decimal(long v) {
        if (v < 0) {
            if (v == Long.MIN_VALUE) {
                return ascii(Long.toString(v));
            }
            ascii('-');
            v = -v;
        }
        if (v <= Integer.MAX_VALUE) {
            // Nearly every number of a line (status, sizes, attempts, whole seconds): int arithmetic,
            // two digits per division.
            return decimal((int) v);
        }
        int digits = 1;
        for (long t = v; t >= 10; t /= 10) {
            digits++;
        }
        ensure(digits);
        int p = length + digits;
        do {
            bytes[--p] = (byte) ('0' + (int) (v % 10));
            v /= 10;
        } while (v != 0);
        length += digits;
        return this;
    }

    private static final byte[] TWO_DIGITS = new byte[200];

    static {
        for (int i = 0; i < 100; i++) {
            TWO_DIGITS[2 * i] = (byte) ('0' + i / 10);
            TWO_DIGITS[2 * i + 1] = (byte) ('0' + i % 10);
        }
    }

    private LogLineBuffer decimal(int v) {
        int digits = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10_000 ? 4 : v < 100_000 ? 5 : v < 1_000_000 ? 6
                : v < 10_000_000 ? 7 : v < 100_000_000 ? 8 : v < 1_000_000_000 ? 9 : 10;
        ensure(digits);
        int p = length + digits;
        while (v >= 100) {
            int q = v / 100;
            int r = (v - q * 100) << 1;
            bytes[--p] = TWO_DIGITS[r + 1];
            bytes[--p] = TWO_DIGITS[r];
            v = q;
        }
        if (v >= 10) {
            bytes[--p] = TWO_DIGITS[(v << 1) + 1];
            bytes[--p] = TWO_DIGITS[v << 1];
        } else {
            bytes[--p] = (byte) ('0' + v);
        }
        length += digits;
        return this;
    }

    /** {@code v} (0..999) in three digits: the milliseconds of {@code 0.004}. */
    LogLineBuffer threeDigits(int v) {
        ensure(3);
        bytes[length++] = (byte) ('0' + v / 100);
        bytes[length++] = (byte) ('0' + v / 10 % 10);
        bytes[length++] = (byte) ('0' + v % 10);
        return this;
    }

    private void ensure(int more) {
        if (length + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
        }
    }
}
