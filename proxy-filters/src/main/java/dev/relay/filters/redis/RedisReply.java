package dev.relay.filters.redis;

import org.jspecify.annotations.Nullable;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * One RESP2 reply: a simple string ({@code +OK}), an integer ({@code :3}), a bulk string ({@code $5 hello}),
 * an array of replies ({@code *2 ...}), nil ({@code $-1}, {@code *-1}), or, only as an element of an
 * array, an error ({@code -ERR ...}). A top-level error reply is not a value: the command's future fails
 * with a {@link RedisException} of kind {@link RedisException.Kind#ERROR_REPLY}.
 *
 * <pre>{@code
 * long n = client.send("INCR", "hits").join().asLong();
 * }</pre>
 *
 * <p>Immutable. The accessors that do not fit the type throw {@link IllegalStateException} naming both.
 */
public final class RedisReply {
    /** The RESP2 type of a reply. */
    public enum Type { SIMPLE_STRING, ERROR, INTEGER, BULK_STRING, ARRAY, NIL }

    private static final RedisReply NIL = new RedisReply(Type.NIL, 0, null, null, null);
    private static final RedisReply OK = new RedisReply(Type.SIMPLE_STRING, 0, "OK", null, null);

    private final Type type;
    private final long integer;
    private final @Nullable String text;
    private final byte @Nullable [] bytes;
    private final @Nullable List<RedisReply> elements;

    private RedisReply(Type type, long integer, @Nullable String text, byte @Nullable [] bytes,
            @Nullable List<RedisReply> elements) {
        this.type = type;
        this.integer = integer;
        this.text = text;
        this.bytes = bytes;
        this.elements = elements;
    }

    /** A simple string reply; {@code "OK"} is a shared instance. */
    public static RedisReply simpleString(String value) {
        return "OK".equals(value) ? OK : new RedisReply(Type.SIMPLE_STRING, 0, requireNonNull(value, "value"), null, null);
    }

    /** An error reply inside an array. */
    public static RedisReply error(String message) {
        return new RedisReply(Type.ERROR, 0, requireNonNull(message, "message"), null, null);
    }

    /** An integer reply. */
    public static RedisReply integer(long value) {
        return new RedisReply(Type.INTEGER, value, null, null, null);
    }

    /** A bulk string reply; takes ownership of {@code value} (not copied). */
    public static RedisReply bulk(byte[] value) {
        return new RedisReply(Type.BULK_STRING, 0, null, requireNonNull(value, "value"), null);
    }

    /** An array reply; {@code elements} is copied. */
    public static RedisReply array(List<RedisReply> elements) {
        return new RedisReply(Type.ARRAY, 0, null, null, List.copyOf(elements));
    }

    /** The nil reply (shared). */
    public static RedisReply nil() {
        return NIL;
    }

    /** The reply's type. */
    public Type type() {
        return type;
    }

    /** Whether this is nil (a missing key's {@code GET}). */
    public boolean isNil() {
        return type == Type.NIL;
    }

    /** An integer reply's value, or a simple or bulk string's that holds a decimal integer. */
    public long asLong() {
        return switch (type) {
            case INTEGER -> integer;
            case SIMPLE_STRING, BULK_STRING -> {
                String s = asString();
                try {
                    yield Long.parseLong(s);
                } catch (NumberFormatException e) {
                    throw new IllegalStateException("reply: " + s + " (expected an integer)");
                }
            }
            default -> throw wrongType("an integer");
        };
    }

    /** A simple string's or error's text, a bulk string as UTF-8, an integer in decimal. */
    public String asString() {
        return switch (type) {
            case SIMPLE_STRING, ERROR -> requireNonNull(text);
            case BULK_STRING -> new String(requireNonNull(bytes), StandardCharsets.UTF_8);
            case INTEGER -> Long.toString(integer);
            default -> throw wrongType("a string");
        };
    }

    /** A bulk string's bytes (a copy), or a simple string's as UTF-8. */
    public byte[] asBytes() {
        return switch (type) {
            case BULK_STRING -> requireNonNull(bytes).clone();
            case SIMPLE_STRING -> requireNonNull(text).getBytes(StandardCharsets.UTF_8);
            default -> throw wrongType("a bulk string");
        };
    }

    /** An array's elements (unmodifiable). */
    public List<RedisReply> elements() {
        if (type != Type.ARRAY) {
            throw wrongType("an array");
        }
        return requireNonNull(elements);
    }

    private IllegalStateException wrongType(String expected) {
        return new IllegalStateException("reply: " + this + " (expected " + expected + ")");
    }

    @Override
    public String toString() {
        return switch (type) {
            case SIMPLE_STRING -> "+" + text;
            case ERROR -> "-" + text;
            case INTEGER -> ":" + integer;
            case BULK_STRING -> requireNonNull(bytes).length > 64
                    ? "$" + requireNonNull(bytes).length + " bytes"
                    : "$\"" + asString() + "\"";
            case ARRAY -> "*" + elements;
            case NIL -> "nil";
        };
    }
}
