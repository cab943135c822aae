package dev.relay.transport.internal;

import io.netty.util.internal.PlatformDependent;

/**
 * The bytes of HTTP/1.1 as the decoders see them: the character classes of RFC 9110 as tables
 * indexed by byte, the searches that look at eight bytes at a time (SWAR: a word's matching bytes
 * found with a few arithmetic operations, no branch per byte), and the messages of the parse
 * errors, which quote the offending bytes with control characters escaped.
 */
final class Http1Bytes {
    static final byte CR = '\r';
    static final byte LF = '\n';
    static final byte SP = ' ';
    static final byte HTAB = '\t';

    /** Per byte: its lower-case form when it is a token character (RFC 9110 §5.6.2), else 0. */
    static final byte[] TOKEN = new byte[256];
    /** Per byte: whether it may stand in a field value, a reason phrase or a chunk extension (HTAB, SP, VCHAR, obs-text). */
    static final boolean[] FIELD_VALUE = new boolean[256];
    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    /** Per byte: its value as a hex digit, or -1. */
    static final byte[] HEX = new byte[256];

    static {
        for (int c = '0'; c <= '9'; c++) {
            TOKEN[c] = (byte) c;
        }
        for (int c = 'a'; c <= 'z'; c++) {
            TOKEN[c] = (byte) c;
            TOKEN[c - 'a' + 'A'] = (byte) c;
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            TOKEN[c] = (byte) c;
        }
        java.util.Arrays.fill(HEX, (byte) -1);
        for (int c = 0; c < 16; c++) {
            HEX[Character.forDigit(c, 16)] = (byte) c;
            HEX[Character.toUpperCase(Character.forDigit(c, 16))] = (byte) c;
        }
        FIELD_VALUE[HTAB] = true;
        for (int c = 0x20; c < 0x7f; c++) {
            FIELD_VALUE[c] = true;
        }
        for (int c = 0x80; c < 0x100; c++) {
            FIELD_VALUE[c] = true;
        }
    }

    /** The index of the first LF in the bytes at {@code address + [from, to)}, eight at a time, or -1. */
    static int indexOfLf(long address, int from, int to) {
        int i = from;
        for (; i + Long.BYTES <= to; i += Long.BYTES) {
            long lfs = zeroBytes(PlatformDependent.getLong(address + i) ^ 0x0a0a0a0a0a0a0a0aL);
            if (lfs != 0) {
                return i + ((PlatformDependent.BIG_ENDIAN_NATIVE_ORDER
                        ? Long.numberOfLeadingZeros(lfs) : Long.numberOfTrailingZeros(lfs)) >>> 3);
            }
        }
        for (; i < to; i++) {
            if (PlatformDependent.getByte(address + i) == LF) {
                return i;
            }
        }
        return -1;
    }

    /** The index of the first colon in {@code a} from {@code pos}, eight bytes at a time; {@code a.length} if none. */
    static int indexOfColon(byte[] a, int pos) {
        int lastWord = a.length - Long.BYTES;
        for (; pos <= lastWord; pos += Long.BYTES) {
            long colons = zeroBytes((long) LONGS.get(a, pos) ^ 0x3a3a3a3a3a3a3a3aL);
            if (colons != 0) {
                return pos + (Long.numberOfTrailingZeros(colons) >>> 3);
            }
        }
        while (pos < a.length && a[pos] != ':') {
            pos++;
        }
        return pos;
    }

    /** The bytes of {@code word} that are zero, as 0x80 in each such byte and 0 elsewhere (exact: no borrow). */
    private static long zeroBytes(long word) {
        long low7 = (word & 0x7f7f7f7f7f7f7f7fL) + 0x7f7f7f7f7f7f7f7fL;
        return ~(low7 | word | 0x7f7f7f7f7f7f7f7fL);
    }

    /**
     * The index of the first byte from {@code pos} that may not stand in a field value (normally the CR
     * that ends the line). Eight bytes at a time while none of them is a control character or DEL
     * (SWAR: a byte below 0x20 or equal to 0x7f sets its high bit in {@code special}); byte by byte
     * from the word that has one (HTAB, allowed, included).
     */
    static int valueEnd(byte[] a, int pos) {
        int lastWord = a.length - Long.BYTES;
        while (pos <= lastWord) {
            long word = (long) LONGS.get(a, pos);
            long del = word ^ 0x7f7f7f7f7f7f7f7fL;
            long special = ((word - 0x2020202020202020L) & ~word | (del - 0x0101010101010101L) & ~del)
                    & 0x8080808080808080L;
            if (special != 0) {
                break;
            }
            pos += Long.BYTES;
        }
        while (FIELD_VALUE[a[pos] & 0xff]) {
            pos++;
        }
        return pos;
    }

    static int indexOf(byte[] a, int from, int end, byte b) {
        for (int i = from; i < end; i++) {
            if (a[i] == b) {
                return i;
            }
        }
        return end;
    }

    /** Whether {@code a[start, end)} is {@code lower} ignoring the case of ASCII letters. */
    static boolean equalsIgnoreCase(byte[] a, int start, int end, String lower) {
        if (end - start != lower.length()) {
            return false;
        }
        for (int i = start; i < end; i++) {
            int c = a[i];
            if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }
            if (c != lower.charAt(i - start)) {
                return false;
            }
        }
        return true;
    }

    static Http1ParseException bareLf() {
        return new Http1ParseException("a line ends in LF without CR");
    }

    static Http1ParseException bareCr() {
        return new Http1ParseException("a CR not followed by LF");
    }

    static Http1ParseException invalidFieldLine(byte[] a, int lineStart, int at) {
        byte b = a[at];
        String what;
        if (at == lineStart && (b == SP || b == HTAB)) {
            what = "a field line begins with whitespace (obsolete line folding)";
        } else if (b == SP || b == HTAB) {
            what = "whitespace between a field name and the colon";
        } else if (at == lineStart && b == ':') {
            what = "a field line without a name";
        } else if (b == CR || b == LF) {
            what = "a field line without a colon";
        } else {
            what = String.format("invalid character 0x%02x in a field name", b & 0xff);
        }
        int end = at;
        while (end < a.length && a[end] != CR && a[end] != LF && end - lineStart < 40) {
            end++;
        }
        return new Http1ParseException(what + ": " + quote(a, lineStart, end - lineStart));
    }

    /** {@code a[start, start + length)} for an error message, control characters escaped. */
    static String quote(byte[] a, int start, int length) {
        StringBuilder s = new StringBuilder(length + 2).append('\'');
        for (int i = start; i < start + Math.min(length, 64); i++) {
            int c = a[i] & 0xff;
            if (c < 0x20 || c >= 0x7f) {
                s.append(String.format("\\x%02x", c));
            } else {
                s.append((char) c);
            }
        }
        return s.append(length > 64 ? "...'" : "'").toString();
    }

    private Http1Bytes() {
    }
}
