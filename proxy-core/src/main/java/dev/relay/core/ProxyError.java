package dev.relay.core;

import org.jspecify.annotations.Nullable;

import static java.util.Objects.requireNonNull;

/**
 * The one error type of the proxy: what failed ({@link ErrorType}), on which side
 * ({@link ErrorSource}), whether another attempt is allowed ({@link RetryType}), the cause, and
 * context (the peer and the phase). Phases throw it or fail their stage with it; any other
 * exception from a filter is wrapped as {@link ErrorType#INTERNAL}.
 *
 * <p>It carries no stack trace of its own (failures are frequent under load and the trace of the
 * event loop says nothing); the cause keeps its trace.
 */
public final class ProxyError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorType type;
    private final ErrorSource source;
    private final int httpStatus;
    private volatile RetryType retry;
    private volatile @Nullable String context;
    private volatile @Nullable HttpPeer peer;

    private ProxyError(ErrorType type, ErrorSource source, int httpStatus, RetryType retry, @Nullable String context,
                       @Nullable Throwable cause) {
        super(null, cause, false, false);
        this.type = requireNonNull(type, "type");
        this.source = requireNonNull(source, "source");
        this.httpStatus = httpStatus;
        this.retry = requireNonNull(retry, "retry");
        this.context = context;
    }

    /** A new error; {@code context} and {@code cause} are nullable. Connect errors are retryable. */
    public static ProxyError of(ErrorType type, ErrorSource source, @Nullable String context,
                                @Nullable Throwable cause) {
        RetryType retry = type.isConnectError() ? RetryType.YES : RetryType.NO;
        return new ProxyError(type, source, 0, retry, context, cause);
    }

    /** An upstream error; {@code context} and {@code cause} are nullable. */
    public static ProxyError upstream(ErrorType type, @Nullable String context, @Nullable Throwable cause) {
        return of(type, ErrorSource.UPSTREAM, context, cause);
    }

    /** A downstream (client side) error; {@code context} and {@code cause} are nullable. */
    public static ProxyError downstream(ErrorType type, @Nullable String context, @Nullable Throwable cause) {
        return of(type, ErrorSource.DOWNSTREAM, context, cause);
    }

    /** An internal error; {@code context} and {@code cause} are nullable. */
    public static ProxyError internal(@Nullable String context, @Nullable Throwable cause) {
        return of(ErrorType.INTERNAL, ErrorSource.INTERNAL, context, cause);
    }

    /** Fails the request with {@code status} (for example 403 from an auth filter). */
    public static ProxyError httpStatus(int status) {
        return httpStatus(status, ErrorSource.INTERNAL);
    }

    /**
     * Fails the request with {@code status}, blaming {@code source}: {@link ErrorSource#DOWNSTREAM} when
     * the client's request is at fault (a 400, 405, 413, 414, 431 or 505 the proxy answers on its own),
     * so that logs and metrics file it as a client error and not as the proxy's.
     */
    public static ProxyError httpStatus(int status, ErrorSource source) {
        if (status < 100 || status > 999) {
            throw new IllegalArgumentException("status: " + status + " (expected: 100..999)");
        }
        return new ProxyError(ErrorType.HTTP_STATUS, requireNonNull(source, "source"), status, RetryType.NO, null,
                null);
    }

    /**
     * {@code error} itself when it is a {@link ProxyError} (or wraps one, as a
     * {@code CompletionException} does), otherwise an {@link ErrorType#INTERNAL} error caused by it,
     * with {@code context} (nullable).
     */
    public static ProxyError from(Throwable error, @Nullable String context) {
        Throwable t = error;
        for (int depth = 0; t != null && depth < 8; depth++, t = t.getCause()) {
            if (t instanceof ProxyError proxyError) {
                return proxyError;
            }
            if (!(t instanceof java.util.concurrent.CompletionException)
                    && !(t instanceof java.util.concurrent.ExecutionException)) {
                break;
            }
        }
        return internal(context, t == null ? error : t);
    }

    /** What failed. */
    public ErrorType type() {
        return type;
    }

    /** Which side failed. */
    public ErrorSource source() {
        return source;
    }

    /** The status for {@link ErrorType#HTTP_STATUS}, otherwise 0. */
    public int httpStatus() {
        return httpStatus;
    }

    /** The retry decision. */
    public RetryType retryType() {
        return retry;
    }

    /** Whether the proxy may try again ({@link RetryType#YES}). */
    public boolean isRetry() {
        return retry == RetryType.YES;
    }

    /** Pingora's {@code set_retry}: decides whether another attempt is allowed. */
    public ProxyError setRetry(boolean retry) {
        this.retry = retry ? RetryType.YES : RetryType.NO;
        return this;
    }

    /** Sets the retry decision, including {@link RetryType#REUSED_ONLY}. */
    public ProxyError setRetryType(RetryType retry) {
        this.retry = requireNonNull(retry, "retry");
        return this;
    }

    /** Where it happened (the phase, the operation); nullable. */
    public @Nullable String context() {
        return context;
    }

    /** Replaces the context; null removes it. */
    public ProxyError setContext(@Nullable String context) {
        this.context = context;
        return this;
    }

    /** The peer being talked to when it failed; nullable. */
    public @Nullable HttpPeer peer() {
        return peer;
    }

    /** Records the peer; null forgets it. */
    public ProxyError setPeer(@Nullable HttpPeer peer) {
        this.peer = peer;
        return this;
    }

    /**
     * The status that {@link ProxyHttp#failToProxy}'s default sends for this error: Pingora's mapping
     * ({@code HTTP_STATUS} → its status, upstream → 502, client read/write/close → 0 meaning no
     * response, other downstream → 400, internal → 500) with nginx's improvements: an upstream
     * timeout or a passed request deadline answers 504 Gateway Timeout, a client too slow to send
     * its request body gets 408 Request Timeout.
     */
    public int defaultStatus() {
        if (type == ErrorType.HTTP_STATUS) {
            return httpStatus;
        }
        return switch (source) {
            case UPSTREAM -> type.isTimeout() ? 504 : 502;
            case DOWNSTREAM -> switch (type) {
                case READ_TIMEDOUT -> 408;
                case READ_ERROR, WRITE_ERROR, CONNECTION_CLOSED, WRITE_TIMEDOUT -> 0;
                default -> 400;
            };
            case INTERNAL -> switch (type) {
                case NO_PEER -> 502;
                case DEADLINE_EXCEEDED -> 504;
                case OVERLOADED -> 503;
                default -> 500;
            };
        };
    }

    @Override
    public String getMessage() {
        StringBuilder sb = new StringBuilder();
        sb.append(type);
        if (type == ErrorType.HTTP_STATUS) {
            sb.append(' ').append(httpStatus);
        }
        sb.append(" (").append(source.name().toLowerCase(java.util.Locale.ROOT)).append(')');
        if (context != null) {
            sb.append(" context: ").append(context);
        }
        if (peer != null) {
            sb.append(" peer: ").append(peer);
        }
        Throwable cause = getCause();
        if (cause != null) {
            sb.append(" cause: ").append(cause);
        }
        return sb.toString();
    }
}
