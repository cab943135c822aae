package dev.relay.filters.redis;

import static java.util.Objects.requireNonNull;

/**
 * Why a Redis command failed: the server answered with an error, or the client could not get an answer.
 * A {@link RedisClient}'s futures fail with this; {@link #kind()} tells which, so that a caller can tell
 * "Redis said no" ({@link Kind#ERROR_REPLY}) from "Redis is not there" (every other kind), on which it
 * fails open or closed.
 */
public final class RedisException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Kind {
        /** The server answered with an error reply ({@code -ERR ...}, {@code -NOSCRIPT ...}); the message is its text. */
        ERROR_REPLY,
        /** The client has no connection to the server (it is reconnecting): failed at once, nothing was sent. */
        DISCONNECTED,
        /** The connection was lost after the command was sent: it may or may not have run. */
        CONNECTION_LOST,
        /** No answer within the command timeout: the command may still run. */
        TIMEOUT,
        /** Too many commands were waiting for an answer: failed at once, nothing was sent. */
        QUEUE_FULL,
        /** The client was closed. */
        CLOSED,
        /** The server sent bytes that are not RESP2; the connection was dropped. */
        PROTOCOL
    }

    private final Kind kind;

    /** An exception of {@code kind} with {@code message}. */
    public RedisException(Kind kind, String message) {
        super(message, null, false, false);
        this.kind = requireNonNull(kind, "kind");
    }

    /** What went wrong. */
    public Kind kind() {
        return kind;
    }

    /** Whether the server answered with an error reply whose text starts with {@code code} ({@code "NOSCRIPT"}). */
    public boolean isErrorReply(String code) {
        String message = getMessage();
        return kind == Kind.ERROR_REPLY && message != null && message.startsWith(code);
    }
}
