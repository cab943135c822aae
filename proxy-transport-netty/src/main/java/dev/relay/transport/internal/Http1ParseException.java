package dev.relay.transport.internal;

/**
 * What an HTTP/1.1 decoder found wrong with a message (a request is answered with {@link #status()}).
 * Without a stack trace: a flood of bad requests costs no stack walks, and the message says where.
 */
final class Http1ParseException extends RuntimeException {
    private final int status;

    Http1ParseException(String message) {
        this(400, message);
    }

    Http1ParseException(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    /** The status a request rejected for this is answered with: 400, or 505 for an HTTP version other than 1.x. */
    int status() {
        return status;
    }
}
