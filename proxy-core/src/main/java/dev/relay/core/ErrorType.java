package dev.relay.core;

/** What went wrong, as precisely as the transport can tell. Names match the logs and metrics. */
public enum ErrorType {
    /** The TCP connect did not finish within the connect timeout. */
    CONNECT_TIMEDOUT,
    /** The peer refused the TCP connection. */
    CONNECT_REFUSED,
    /** No route to the peer's host or network. */
    CONNECT_NO_ROUTE,
    /** Any other connect failure (name resolution, address in use ...). */
    CONNECT_ERROR,
    /** The TLS handshake failed. */
    TLS_HANDSHAKE_FAILURE,
    /** The TCP connect plus TLS handshake did not finish within the total connection timeout. */
    TLS_HANDSHAKE_TIMEDOUT,
    /** The peer's certificate did not verify (chain or hostname). */
    INVALID_CERT,
    /** No byte arrived within the read timeout. */
    READ_TIMEDOUT,
    /** A write was not flushed within the write timeout. */
    WRITE_TIMEDOUT,
    /** The request's total deadline passed before it was done. */
    DEADLINE_EXCEEDED,
    /** A socket read failed. */
    READ_ERROR,
    /** A socket write failed. */
    WRITE_ERROR,
    /** The connection closed before the message was complete. */
    CONNECTION_CLOSED,
    /** A header was malformed or broke a limit. */
    INVALID_HTTP_HEADER,
    /** The HTTP/1 framing was broken (bad status line, conflicting lengths, too many bytes ...). */
    H1_ERROR,
    /** An HTTP/2 stream or connection error: RST_STREAM, GOAWAY, a protocol violation (Pingora's {@code H2Error}). */
    H2_ERROR,
    /** A filter decided to fail the request with a status; see {@link ProxyError#httpStatus()}. */
    HTTP_STATUS,
    /** {@link ProxyHttp#upstreamPeer} gave no peer, or a filter refused to go upstream. */
    NO_PEER,
    /**
     * The proxy had its configured most requests in flight and shed this one (503) before any phase ran;
     * or an upstream client's connections to a peer were all busy and its wait queue full.
     */
    OVERLOADED,
    /** A bug or a failed filter: anything without a better name. */
    INTERNAL;

    /** Whether this is one of the connect-phase errors (nothing was sent upstream). */
    public boolean isConnectError() {
        return switch (this) {
            case CONNECT_TIMEDOUT, CONNECT_REFUSED, CONNECT_NO_ROUTE, CONNECT_ERROR,
                    TLS_HANDSHAKE_FAILURE, TLS_HANDSHAKE_TIMEDOUT, INVALID_CERT -> true;
            default -> false;
        };
    }

    /** Whether a timer expired. */
    public boolean isTimeout() {
        return switch (this) {
            case CONNECT_TIMEDOUT, TLS_HANDSHAKE_TIMEDOUT, READ_TIMEDOUT, WRITE_TIMEDOUT, DEADLINE_EXCEEDED -> true;
            default -> false;
        };
    }
}
