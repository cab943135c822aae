package dev.relay.transport.internal;

import dev.relay.core.ProxyHttp;
import dev.relay.core.RequestHeader;
import dev.relay.core.Session;

import dev.relay.core.Addresses;
import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.ProxyError;
import org.jspecify.annotations.Nullable;

import java.lang.System.Logger.Level;
import java.net.SocketAddress;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The error-log policy of one proxy service: at which level a failed request is logged, and, for
 * errors the client caused, a count by {@link Reason} (read by the server's metrics as
 * {@code relay_client_errors_total{reason}}) and a rate limit on their log lines. Thread-safe.
 *
 * <p>Log by who must act. A client's malformed request, its timeout or its hang-up is not the operator's
 * error: one line without a cause chain on the {@value #CLIENT_LOGGER} logger, at INFO for a request
 * the proxy refused (the operator may want to see that clients misbehave) and at DEBUG for a client
 * that went away (browsers cancel requests all day long). A {@link LogRateLimit} lets at most
 * {@value #LINES_PER_SECOND} such lines a second through, all event loops together; the next line let
 * through after some were held back is preceded by a summary of how many. An origin that misbehaves is
 * a WARNING, limited the same way (a dead origin fails every request); ERROR is left for what someone
 * must fix: a filter that throws, a bug, no peer to send to, never limited.
 */
public final class ErrorLog {
    /** The logger of client errors, apart from {@code dev.relay.proxy} so that it can be tuned alone. */
    static final String CLIENT_LOGGER = "dev.relay.proxy.client";
    /** Lines a second let through, and the burst: a flood of bad requests is ten lines a second. */
    static final int LINES_PER_SECOND = 10;

    private static final System.Logger LOG = System.getLogger(CLIENT_LOGGER);

    /** Why a request failed on the client's side; {@link #label()} is the metric label. */
    public enum Reason {
        /** Framing, syntax or a header the proxy refused (400, 403 for a refused CONNECT target). */
        MALFORMED,
        /** A request line, header section or body over a limit (414, 431, 413). */
        TOO_LARGE,
        /** An HTTP version other than 1.0 or 1.1 on an HTTP/1 request line (505). */
        UNSUPPORTED_VERSION,
        /** A method the listener does not allow (405). */
        METHOD_NOT_ALLOWED,
        /** The client was too slow to send its request or to read the response (408, send timeout). */
        TIMEOUT,
        /** The client closed or reset the connection, or a write to it failed, before the response ended. */
        CLOSED;

        /** The metric label value, the name in lower case, as in {@code reason="malformed"}. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final EnumCounts<Reason> counts = new EnumCounts<>(Reason.class);
    private final LogRateLimit clientLines;
    private final LogRateLimit warningLines;

    /** Counts from zero; the rate limits start full at the time of {@code clock}. */
    public ErrorLog(EngineClock clock) {
        this.clientLines = new LogRateLimit(clock, LINES_PER_SECOND);
        this.warningLines = new LogRateLimit(clock, LINES_PER_SECOND);
    }

    /**
     * Whether {@code error} is the client's doing (counted and logged quietly), not the proxy's or the
     * origin's. An {@link ErrorType#INTERNAL} error on the client's connection is not: an exception
     * other than an I/O failure there is a bug in a handler, and gets an ERROR line with its trace.
     */
    static boolean isClientError(ProxyError error) {
        return error.source() == ErrorSource.DOWNSTREAM && error.type() != ErrorType.INTERNAL;
    }

    /** The reason a client error is counted under. */
    static Reason reason(ProxyError error) {
        if (error.type() == ErrorType.HTTP_STATUS) {
            return switch (error.httpStatus()) {
                case 408 -> Reason.TIMEOUT;
                case 413, 414, 431 -> Reason.TOO_LARGE;
                case 405 -> Reason.METHOD_NOT_ALLOWED;
                case 505 -> Reason.UNSUPPORTED_VERSION;
                default -> Reason.MALFORMED;
            };
        }
        return switch (error.type()) {
            case READ_TIMEDOUT, WRITE_TIMEDOUT -> Reason.TIMEOUT;
            case READ_ERROR, WRITE_ERROR, CONNECTION_CLOSED -> Reason.CLOSED;
            default -> Reason.MALFORMED;
        };
    }

    /**
     * The level of the one log line for a request that failed with {@code error} other than on the
     * client's side: WARNING for the origin or the way to it (and for a deadline, which a slow origin
     * passes, for load shed past the in-flight limit, which comes in floods, and for a status a filter
     * chose to fail with as a 5xx), DEBUG for a 4xx a filter chose (a
     * decision, seen in the access log), ERROR for the rest: a filter that threw, a bug, no peer.
     */
    static Level operatorLevel(ProxyError error) {
        if (error.source() == ErrorSource.UPSTREAM || error.type() == ErrorType.DEADLINE_EXCEEDED
                || error.type() == ErrorType.OVERLOADED) {
            return Level.WARNING;
        }
        if (error.type() == ErrorType.HTTP_STATUS) {
            return error.httpStatus() < 500 ? Level.DEBUG : Level.WARNING;
        }
        return Level.ERROR;
    }

    /** The level of a client error's line: DEBUG for a client that went away, INFO for the rest. */
    static Level clientLevel(ProxyError error) {
        return reason(error) == Reason.CLOSED ? Level.DEBUG : Level.INFO;
    }

    /**
     * Counts the client error {@code error} and logs it in one line, unless the rate limit holds it back.
     *
     * @param status the status answered, 0 for none
     * @param log false when the proxy's {@code suppressErrorLog} said so: the error is only counted
     * @param client the client's address
     * @param request what is known of the request (method and target), asked for only when logged
     */
    void recordClientError(ProxyError error, int status, boolean log, Supplier<@Nullable SocketAddress> client,
                           Supplier<String> request) {
        counts.increment(reason(error));
        Level level = clientLevel(error);
        if (!log || !LOG.isLoggable(level)) {
            return;
        }
        long heldBack = clientLines.permit();
        if (heldBack < 0) {
            return;
        }
        if (heldBack > 0) {
            LOG.log(Level.INFO, "{0} similar client error lines suppressed (at most {1} a second)", heldBack,
                    LINES_PER_SECOND);
        }
        LOG.log(level, "client error from {0}: {1}, status {2}: {3}", clientText(client.get()), request.get(), status,
                describe(error));
    }

    /**
     * The one log line of a failed request, at the level of who must act on it: a client error is
     * counted, and logged quietly and rate-limited; anything else is logged with its cause for the
     * operator. The proxy's {@link ProxyHttp#suppressErrorLog} may silence it; a failing callback
     * does not (its failure is not the request's).
     */
    <C> void logRequestError(ProxyHttp<C> proxy, Session session, @Nullable C ctx, ProxyError e, int status) {
        boolean suppress;
        try {
            suppress = proxy.suppressErrorLog(session, ctx, e);
        } catch (Throwable t) {
            suppress = false;
        }
        if (isClientError(e)) {
            recordClientError(e, status, !suppress, session::clientAddress, () -> requestSummary(proxy, session, ctx));
        } else if (!suppress) {
            logForOperator(e, () -> requestSummary(proxy, session, ctx) + ", status " + status + ": " + e.getMessage());
        }
    }

    /** The proxy's {@link ProxyHttp#requestSummary} of the request, or method and target when it fails. */
    <C> String requestSummary(ProxyHttp<C> proxy, Session session, @Nullable C ctx) {
        try {
            return proxy.requestSummary(session, ctx);
        } catch (Throwable t) {
            RequestHeader request = session.requestHeader();
            return request.method() + " " + request.uri();
        }
    }

    /**
     * Logs a request that failed other than on the client's side, at {@link #operatorLevel}: an ERROR
     * always, with the cause's stack trace; a WARNING (an origin that is down fails every request sent
     * to it) at most {@value #LINES_PER_SECOND} a second with a summary of the rest, like client errors;
     * a DEBUG line when enabled.
     *
     * @param line the request and what failed, built only when it is written
     */
    void logForOperator(ProxyError error, Supplier<String> line) {
        Level level = operatorLevel(error);
        if (!ProxyEngine.LOG.isLoggable(level)) {
            return;
        }
        if (level == Level.ERROR && error.getCause() != null) {
            // A filter that threw or a bug: whoever fixes it needs the stack trace.
            ProxyEngine.LOG.log(level, line.get(), error.getCause());
            return;
        }
        if (level == Level.WARNING) {
            warn(line);
        } else {
            ProxyEngine.LOG.log(level, line.get());
        }
    }

    /**
     * A WARNING line about the origin (a failed request, a retry), at most {@value #LINES_PER_SECOND} a
     * second with a summary of the rest.
     */
    void warn(Supplier<String> line) {
        long heldBack = warningLines.permit();
        if (heldBack < 0) {
            return;
        }
        if (heldBack > 0) {
            ProxyEngine.LOG.log(Level.WARNING, "{0} similar warnings suppressed (at most {1} a second)", heldBack,
                    LINES_PER_SECOND);
        }
        ProxyEngine.LOG.log(Level.WARNING, line.get());
    }

    /**
     * What happened, without a stack trace or a cause chain: the type, the side, the context, and of
     * the cause only its message (the parser's reason, or the socket's).
     */
    static String describe(ProxyError error) {
        StringBuilder sb = new StringBuilder();
        sb.append(error.type());
        if (error.type() == ErrorType.HTTP_STATUS) {
            sb.append(' ').append(error.httpStatus());
        }
        sb.append(" (").append(error.source().name().toLowerCase(java.util.Locale.ROOT)).append(')');
        String context = error.context();
        if (context != null) {
            sb.append(": ").append(context);
        }
        @Nullable Throwable cause = error.getCause();
        if (cause != null && cause.getMessage() != null) {
            sb.append(": ").append(cause.getMessage());
        }
        return sb.toString().replace('\n', ' ').replace('\r', ' ');
    }

    private static String clientText(@Nullable SocketAddress address) {
        return address == null ? "unknown" : Addresses.format(address);
    }

    /** Client errors since start, by reason (every reason present, zero included). */
    public Map<Reason, Long> counts() {
        return counts.snapshot();
    }
}
