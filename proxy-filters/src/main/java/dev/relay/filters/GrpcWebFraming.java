package dev.relay.filters;

import dev.relay.core.HttpHeaders;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;

/**
 * The byte-level parts of the gRPC-web protocol (grpc/grpc {@code doc/PROTOCOL-WEB.md}): the trailer
 * frame that carries gRPC's trailers in the body, and the base64 of the {@code -text} variants.
 */
final class GrpcWebFraming {
    /** The flag byte of an uncompressed trailer frame: the most significant bit set. */
    static final byte TRAILER_FLAG = (byte) 0x80;

    private static final Base64.Encoder BASE64 = Base64.getEncoder();

    private GrpcWebFraming() {}

    /**
     * The trailer frame of {@code trailers}: the flag byte {@code 0x80}, the length of the block as four
     * bytes (big-endian), then one {@code name: value\r\n} line per field, names in lower case.
     */
    static byte[] trailerFrame(HttpHeaders trailers) {
        StringBuilder block = new StringBuilder(64);
        trailers.forEach((String name, String value) ->
                block.append(name.toLowerCase(Locale.ROOT)).append(": ").append(value).append("\r\n"));
        // Field values are ISO-8859-1 on the wire in HTTP/1.1 and HTTP/2 alike; gRPC's are ASCII.
        byte[] fields = block.toString().getBytes(StandardCharsets.ISO_8859_1);
        byte[] frame = new byte[5 + fields.length];
        frame[0] = TRAILER_FLAG;
        frame[1] = (byte) (fields.length >>> 24);
        frame[2] = (byte) (fields.length >>> 16);
        frame[3] = (byte) (fields.length >>> 8);
        frame[4] = (byte) fields.length;
        System.arraycopy(fields, 0, frame, 5, fields.length);
        return frame;
    }

    /**
     * {@code bytes} in base64 with padding. Each piece of a {@code -text} response is encoded on its own,
     * as the protocol allows ("the implementation may send base64-encoded chunks with potential padding
     * whenever the runtime needs to flush"): the body is then a run of padded base64 segments, which
     * clients decode four characters at a time.
     */
    static byte[] base64(byte[] bytes) {
        return BASE64.encode(bytes);
    }

    /**
     * Decodes a base64 request body ({@code application/grpc-web-text}) as it arrives in pieces: a
     * piece may end inside a four-character group, whose start waits for the next piece; a group may be
     * padded anywhere in the stream (a client that flushes segments). One per request; not thread-safe.
     */
    static final class Base64Decoder {
        private static final byte[] VALUES = new byte[128];

        static {
            java.util.Arrays.fill(VALUES, (byte) -1);
            String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            for (int i = 0; i < alphabet.length(); i++) {
                VALUES[alphabet.charAt(i)] = (byte) i;
            }
        }

        private final char[] group = new char[4];
        private int held;

        /**
         * Decodes {@code text}; with {@code last}, the body must end on a whole group.
         *
         * @throws IllegalArgumentException on a character outside the base64 alphabet, padding in the
         *         wrong place, or a body that ends inside a group
         */
        byte[] decode(byte[] text, boolean last) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(text.length / 4 * 3 + 3);
            for (byte b : text) {
                char c = (char) (b & 0xff);
                if (c == '\r' || c == '\n') {
                    continue;
                }
                group[held++] = c;
                if (held == 4) {
                    decodeGroup(out);
                    held = 0;
                }
            }
            if (last && held != 0) {
                throw new IllegalArgumentException("the base64 body ends inside a group of four characters ("
                        + held + " left over)");
            }
            return out.toByteArray();
        }

        private void decodeGroup(ByteArrayOutputStream out) {
            int a = value(group[0]);
            int b = value(group[1]);
            if (group[2] == '=') {
                if (group[3] != '=') {
                    throw new IllegalArgumentException("base64 padding '=' followed by '" + group[3] + "'");
                }
                out.write(a << 2 | b >> 4);
                return;
            }
            int c = value(group[2]);
            if (group[3] == '=') {
                out.write(a << 2 | b >> 4);
                out.write((b & 0xf) << 4 | c >> 2);
                return;
            }
            int d = value(group[3]);
            out.write(a << 2 | b >> 4);
            out.write((b & 0xf) << 4 | c >> 2);
            out.write((c & 0x3) << 6 | d);
        }

        private static int value(char c) {
            int v = c < 128 ? VALUES[c] : -1;
            if (v < 0) {
                throw new IllegalArgumentException("'" + (c < 0x20 || c >= 0x7f ? String.format(Locale.ROOT, "\\x%02x", (int) c)
                        : String.valueOf(c)) + "' is not a base64 character");
            }
            return v;
        }
    }
}
