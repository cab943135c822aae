package dev.relay.filters.redis.internal;

/** The server sent bytes that are not RESP2: the connection cannot be trusted any more and is dropped. */
public final class RespProtocolException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** {@code what} is what was found instead of RESP2. */
    public RespProtocolException(String what) {
        super("not RESP2: " + what, null, false, false);
    }
}
