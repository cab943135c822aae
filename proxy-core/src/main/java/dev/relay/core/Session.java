package dev.relay.core;

import org.jspecify.annotations.Nullable;

import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * One downstream request as the phases see it: its header (mutable), its connection, and the means
 * to answer it directly (short-circuit responses in {@link ProxyHttp#requestFilter}).
 *
 * <p>A session is used on its own event loop ({@link #eventLoop()}); its methods may be called from
 * the phase callbacks, or from any thread for the write methods (they hop to the event loop).
 */
public interface Session {

    /** The downstream request header, mutable: changes affect what later phases and the upstream see. */
    RequestHeader requestHeader();

    /** The client's address (the remote end of the downstream connection). */
    SocketAddress clientAddress();

    /** The local address that accepted the connection. */
    SocketAddress serverAddress();

    /** Whether the downstream connection is TLS; the same as {@code downstreamTls() != null}. */
    boolean isTls();

    /**
     * What the TLS handshake of the downstream connection settled (protocol, cipher, SNI name, ALPN,
     * the client certificate under mutual TLS); null on a plain connection.
     */
    @Nullable TlsInfo downstreamTls();

    /** Whether this request arrived on a keep-alive connection that already carried another one. */
    boolean isConnectionReused();

    /**
     * Writes a response header to the client. With {@code endOfStream} the response is complete
     * (a {@code Content-Length: 0} is added when the header has no framing).
     */
    CompletionStage<Void> writeResponseHeader(ResponseHeader header, boolean endOfStream);

    /** Writes response body bytes (the array is copied) after {@link #writeResponseHeader}. */
    CompletionStage<Void> writeResponseBody(byte[] body, boolean endOfStream);

    /**
     * Writes a complete response with {@code body}, setting {@code Content-Length}. The common way for
     * a filter to answer by itself: {@code return session.respond(ResponseHeader.of(403), bytes).thenApply(v -> true);}
     */
    default CompletionStage<Void> respond(ResponseHeader header, byte[] body) {
        header.headers().set("Content-Length", Integer.toString(body.length));
        if (body.length == 0) {
            return writeResponseHeader(header, true);
        }
        writeResponseHeader(header, false);
        return writeResponseBody(body, true);
    }

    /** Writes a short plain-text error page with {@code status}, as Pingora's {@code respond_error}. */
    default CompletionStage<Void> respondError(int status) {
        ResponseHeader header = ResponseHeader.of(status);
        header.headers().set("Content-Type", "text/plain; charset=utf-8");
        byte[] body = (status + " " + dev.relay.core.internal.ReasonPhrases.of(status) + "\n")
                .getBytes(StandardCharsets.UTF_8);
        return respond(header, body);
    }

    /**
     * Reads the whole request body into memory, up to {@code maxBytes}, so that a filter can route or
     * authenticate on it (call it from {@link ProxyHttp#requestFilter} or earlier). The body is then
     * sent upstream unchanged, with a {@code Content-Length}, and stays replayable for retries
     * whatever the replay-buffer size. A body longer than {@code maxBytes} fails the stage with
     * {@link ProxyError#httpStatus(int) 413}: nothing is forwarded and the client gets 413.
     * Completes with an empty array for a request without a body.
     */
    CompletionStage<byte[]> readRequestBody(int maxBytes);

    /** Whether a response header has already been written to the client for this request. */
    boolean responseWritten();

    /** The status of the response sent to the client, or 0 when none was sent yet. */
    int responseStatus();

    /** Disables keep-alive: the connection closes after this response. */
    void disableKeepAlive();

    /** Whether the connection may carry another request after this one. */
    boolean isKeepAlive();

    /** Request body bytes read from the client so far. */
    long requestBodyBytesRead();

    /** Response body bytes written to the client so far. */
    long responseBodyBytesSent();

    /**
     * Whether the request body is still fully held in the replay buffer, so that another attempt can
     * resend it (false once the body outgrew the buffer).
     */
    boolean isRequestBodyReplayable();

    /** How many upstream attempts this request has started (1 on the first). */
    int attempts();

    /**
     * How long the last upstream connection took to establish (TCP plus TLS), in nanoseconds; 0 when
     * it came from the pool or no upstream was connected.
     */
    long upstreamConnectNanos();

    /** Whether the last upstream connection came from the pool. */
    boolean isUpstreamConnectionReused();

    /** {@link System#nanoTime()} when the request header was received. */
    long requestStartNanos();

    /**
     * The cache as this request sees it: enable it (in {@link ProxyHttp#requestCacheFilter} or a
     * module's request hook) to serve and store this request through an
     * {@link dev.relay.core.cache.HttpCache}; read afterwards what it did.
     */
    dev.relay.core.cache.SessionCache cache();

    /**
     * The executor of this session's event loop. Asynchronous phases may complete anywhere; the
     * engine always continues here.
     */
    Executor eventLoop();
}
