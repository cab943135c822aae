package dev.relay.transport.internal;

import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.ProxyError;
import dev.relay.core.RetryType;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.handler.timeout.ReadTimeoutException;
import io.netty.handler.timeout.WriteTimeoutException;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.security.cert.CertificateException;
import java.util.Locale;

/** Turns transport exceptions into {@link ProxyError}s with the most precise {@link ErrorType}. */
final class Errors {
    private Errors() {}

    /** A failure to establish an upstream connection (TCP or TLS). Always retryable: nothing was sent. */
    static ProxyError connectFailure(Throwable cause, String context) {
        if (cause instanceof ProxyError e) {
            return e;
        }
        ErrorType type = connectType(cause);
        return ProxyError.upstream(type, context, cause).setRetry(true);
    }

    private static ErrorType connectType(Throwable cause) {
        if (cause instanceof ConnectTimeoutException) {
            return ErrorType.CONNECT_TIMEDOUT;
        }
        if (cause instanceof SslHandshakeTimeoutException) {
            return ErrorType.TLS_HANDSHAKE_TIMEDOUT;
        }
        if (isCertificateFailure(cause)) {
            return ErrorType.INVALID_CERT;
        }
        if (cause instanceof SSLException) {
            return ErrorType.TLS_HANDSHAKE_FAILURE;
        }
        if (cause instanceof NoRouteToHostException) {
            return ErrorType.CONNECT_NO_ROUTE;
        }
        String message = String.valueOf(cause.getMessage()).toLowerCase(Locale.ROOT);
        if (message.contains("refused")) {
            return ErrorType.CONNECT_REFUSED;
        }
        if (message.contains("no route") || message.contains("unreachable")) {
            return ErrorType.CONNECT_NO_ROUTE;
        }
        if (message.contains("timed out")) {
            return ErrorType.CONNECT_TIMEDOUT;
        }
        if (cause instanceof ConnectException || cause instanceof UnknownHostException) {
            return ErrorType.CONNECT_ERROR;
        }
        return ErrorType.CONNECT_ERROR;
    }

    private static boolean isCertificateFailure(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof CertificateException) {
                return true;
            }
            if (t instanceof SSLHandshakeException) {
                String m = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
                if (m.contains("certificate") || m.contains("pkix") || m.contains("hostname")
                        || m.contains("subject alternative")) {
                    return true;
                }
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    /** An I/O failure on an established connection of {@code source}. */
    static ProxyError io(Throwable cause, ErrorSource source, String context) {
        if (cause instanceof ProxyError e) {
            return e;
        }
        ErrorType type;
        if (cause instanceof ReadTimeoutException) {
            type = ErrorType.READ_TIMEDOUT;
        } else if (cause instanceof WriteTimeoutException) {
            type = ErrorType.WRITE_TIMEDOUT;
        } else if (cause instanceof ClosedChannelException) {
            type = ErrorType.CONNECTION_CLOSED;
        } else if (cause instanceof SSLException) {
            type = ErrorType.TLS_HANDSHAKE_FAILURE;
        } else if (cause instanceof IOException) {
            type = ioType(cause);
        } else {
            type = ErrorType.INTERNAL;
        }
        ProxyError error = ProxyError.of(type, source, context, cause);
        if (source == ErrorSource.UPSTREAM && (type == ErrorType.READ_ERROR || type == ErrorType.WRITE_ERROR
                || type == ErrorType.CONNECTION_CLOSED)) {
            // Pingora's ReusedOnly: a pooled connection the origin already closed is worth another go.
            error.setRetryType(RetryType.REUSED_ONLY);
        }
        return error;
    }

    /**
     * The last write of a response failed: whatever the socket's message says, it was a write (the
     * connection's end, a reset, stays what it is).
     */
    static ProxyError responseWriteFailure(Throwable cause) {
        ProxyError e = io(cause, ErrorSource.DOWNSTREAM, "writing the response");
        return e.type() == ErrorType.READ_ERROR
                ? ProxyError.downstream(ErrorType.WRITE_ERROR, "writing the response", cause) : e;
    }

    /**
     * What a socket {@link IOException} says happened: the exception does not tell a read from a write,
     * so the message does. A reset is the peer closing the connection ({@code CONNECTION_CLOSED}, as
     * Pingora files it); a broken pipe can only come from a write, and Netty's native transport names
     * the failed call ({@code writevAddresses(..) failed: ...}, {@code sendfile(..)}, {@code read(..)}).
     */
    static ErrorType ioType(Throwable cause) {
        String message = String.valueOf(cause.getMessage());
        String lower = message.toLowerCase(Locale.ROOT);
        if (lower.contains("connection reset")) {
            return ErrorType.CONNECTION_CLOSED;
        }
        if (lower.contains("broken pipe") || lower.startsWith("write") || lower.startsWith("send")
                || lower.startsWith("splice")) {
            return ErrorType.WRITE_ERROR;
        }
        return ErrorType.READ_ERROR;
    }

    /**
     * Whether a request with {@code method} may be sent again without changing its effect (RFC 9110
     * §9.2.2: the safe methods and PUT, DELETE).
     */
    static boolean isIdempotent(String method) {
        return switch (method) {
            case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE" -> true;
            default -> false;
        };
    }

    /** An error of the proxy's own making (a filter, a malformed client body) is never worth a retry. */
    static ProxyError noRetry(ProxyError e) {
        if (e.retryType() != dev.relay.core.RetryType.NO && e.source() != ErrorSource.UPSTREAM) {
            e.setRetry(false);
        }
        return e;
    }
}
