package dev.relay.filters.redis.internal;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Encodes a command as RESP2: an array of bulk strings ({@code *2\r\n$3\r\nGET\r\n$1\r\nk\r\n}), which is
 * what a server expects from a client whatever the command.
 */
public final class RespEncoder {
    private RespEncoder() {}

    /** The command's bytes, ready to write; runs on the caller's thread so the I/O thread only copies. */
    public static byte[] encode(List<byte[]> arguments) {
        int size = headerLength(arguments.size());
        for (byte[] argument : arguments) {
            size += headerLength(argument.length) + argument.length + 2;
        }
        byte[] out = new byte[size];
        int at = writeHeader(out, 0, '*', arguments.size());
        for (byte[] argument : arguments) {
            at = writeHeader(out, at, '$', argument.length);
            System.arraycopy(argument, 0, out, at, argument.length);
            at += argument.length;
            out[at++] = '\r';
            out[at++] = '\n';
        }
        return out;
    }

    /** {@code arguments} as UTF-8 bytes. */
    public static byte[] encodeStrings(List<String> arguments) {
        byte[][] bytes = new byte[arguments.size()][];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = arguments.get(i).getBytes(StandardCharsets.UTF_8);
        }
        return encode(List.of(bytes));
    }

    private static int headerLength(int n) {
        return 1 + Integer.toString(n).length() + 2;
    }

    private static int writeHeader(byte[] out, int at, char marker, int n) {
        out[at++] = (byte) marker;
        String digits = Integer.toString(n);
        for (int i = 0; i < digits.length(); i++) {
            out[at++] = (byte) digits.charAt(i);
        }
        out[at++] = '\r';
        out[at++] = '\n';
        return at;
    }
}
