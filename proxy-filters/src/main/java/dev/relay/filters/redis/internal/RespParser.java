package dev.relay.filters.redis.internal;

import dev.relay.filters.redis.RedisReply;
import org.jspecify.annotations.Nullable;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Parses RESP2 replies as their bytes arrive, in any split. Each element is consumed once it is whole
 * (a line, or a bulk string's header and all its bytes), and arrays being filled wait on a stack, so a large
 * reply that comes in many reads is not parsed again from its start on each read. An incomplete element is
 * left in the buffer, and {@link #bytesNeeded()} says how large the buffer must be to hold it.
 *
 * <p>Not thread-safe: the I/O thread owns it.
 */
public final class RespParser {
    /** Redis' own limit on a bulk string ({@code proto-max-bulk-len}, 512 MB). */
    private static final int MAX_BULK = 512 * 1024 * 1024;
    /** The longest header or simple line accepted: a server never sends more before a CRLF but in error texts. */
    private static final int MAX_LINE = 64 * 1024;

    /** An array being filled. */
    private static final class PartialArray {
        final List<RedisReply> elements;
        final int size;

        PartialArray(int size) {
            this.size = size;
            this.elements = new ArrayList<>(Math.min(size, 1024));
        }
    }

    /** What {@link #element} returns for an array header it consumed: not a value, compared by identity. */
    private static final RedisReply ARRAY_OPENED = RedisReply.simpleString("array opened");

    private final ArrayDeque<PartialArray> open = new ArrayDeque<>();
    private int bytesNeeded;

    /**
     * Consumes every whole element between {@code in}'s position and limit and hands each whole top-level
     * reply to {@code replies}, in order; leaves the position at the first byte of an incomplete element.
     * Stops at once, touching {@code in} no more, when {@code replies} returns false.
     *
     * @throws RespProtocolException when the bytes are not RESP2
     */
    public void parse(ByteBuffer in, Predicate<RedisReply> replies) {
        bytesNeeded = 0;
        while (in.hasRemaining()) {
            int start = in.position();
            RedisReply element = element(in);
            if (element == null) {
                in.position(start);
                return;
            }
            if (element == ARRAY_OPENED) {
                continue;
            }
            RedisReply whole = attach(element);
            if (whole != null && !replies.test(whole)) {
                return;
            }
        }
    }

    /** After a {@link #parse} that stopped at an incomplete element: the bytes it needs at least, from its start. */
    public int bytesNeeded() {
        return bytesNeeded;
    }

    /** Forgets a partly parsed reply: the connection it came on is gone. */
    public void reset() {
        open.clear();
        bytesNeeded = 0;
    }

    /** Adds a whole element to the innermost open array; returns a top-level reply that became whole, if any. */
    private @Nullable RedisReply attach(RedisReply element) {
        RedisReply done = element;
        while (!open.isEmpty()) {
            PartialArray array = open.peek();
            array.elements.add(done);
            if (array.elements.size() < array.size) {
                return null;
            }
            open.pop();
            done = RedisReply.array(array.elements);
        }
        return done;
    }

    /**
     * One element at the position: a whole value, or {@link #ARRAY_OPENED} after pushing a non-empty array;
     * null, with the position anywhere, when the element is incomplete.
     */
    private @Nullable RedisReply element(ByteBuffer in) {
        int start = in.position();
        int lineEnd = lineEnd(in, start);
        if (lineEnd < 0) {
            bytesNeeded = Math.max(in.remaining() + 1, 64);
            if (in.remaining() > MAX_LINE) {
                throw new RespProtocolException("a RESP line longer than " + MAX_LINE + " bytes");
            }
            return null;
        }
        byte marker = in.get(start);
        int afterLine = lineEnd + 2;
        switch (marker) {
            case '+' -> {
                in.position(afterLine);
                return RedisReply.simpleString(text(in, start + 1, lineEnd));
            }
            case '-' -> {
                in.position(afterLine);
                return RedisReply.error(text(in, start + 1, lineEnd));
            }
            case ':' -> {
                in.position(afterLine);
                return RedisReply.integer(number(in, start + 1, lineEnd));
            }
            case '$' -> {
                long length = number(in, start + 1, lineEnd);
                if (length == -1) {
                    in.position(afterLine);
                    return RedisReply.nil();
                }
                if (length < 0 || length > MAX_BULK) {
                    throw new RespProtocolException("a bulk string of length " + length);
                }
                int total = afterLine - start + (int) length + 2;
                if (in.limit() - start < total) {
                    bytesNeeded = total;
                    return null;
                }
                byte[] value = new byte[(int) length];
                in.position(afterLine);
                in.get(value);
                if (in.get() != '\r' || in.get() != '\n') {
                    throw new RespProtocolException("a bulk string not followed by CRLF");
                }
                return RedisReply.bulk(value);
            }
            case '*' -> {
                long size = number(in, start + 1, lineEnd);
                in.position(afterLine);
                if (size == -1) {
                    return RedisReply.nil();
                }
                if (size < 0 || size > Integer.MAX_VALUE) {
                    throw new RespProtocolException("an array of size " + size);
                }
                if (size == 0) {
                    return RedisReply.array(List.of());
                }
                // The header alone is consumed: the elements follow as elements of their own.
                open.push(new PartialArray((int) size));
                return ARRAY_OPENED;
            }
            default -> throw new RespProtocolException("a reply starting with byte " + (marker & 0xff));
        }
    }

    private static int lineEnd(ByteBuffer in, int from) {
        int limit = in.limit() - 1;
        for (int i = from; i < limit; i++) {
            if (in.get(i) == '\r' && in.get(i + 1) == '\n') {
                return i;
            }
        }
        return -1;
    }

    private static String text(ByteBuffer in, int from, int to) {
        byte[] bytes = new byte[to - from];
        in.get(from, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static long number(ByteBuffer in, int from, int to) {
        if (from == to) {
            throw new RespProtocolException("an empty number");
        }
        boolean negative = in.get(from) == '-';
        long value = 0;
        for (int i = negative ? from + 1 : from; i < to; i++) {
            byte b = in.get(i);
            if (b < '0' || b > '9' || value > (Long.MAX_VALUE - 9) / 10) {
                throw new RespProtocolException("a number with byte " + (b & 0xff));
            }
            value = value * 10 + (b - '0');
        }
        return negative ? -value : value;
    }
}
