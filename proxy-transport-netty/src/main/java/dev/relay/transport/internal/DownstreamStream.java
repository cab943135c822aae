package dev.relay.transport.internal;

import dev.relay.core.HttpHeaders;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import org.jspecify.annotations.Nullable;

import java.net.SocketAddress;

/**
 * The client side of one request, as the phase engine ({@link ProxyCall}) sees it: the request
 * header, then body parts pushed to the call, and the means to answer. An implementation owns
 * every framing rule of its protocol (chunked coding, {@code Content-Length}, hop-by-hop fields,
 * {@code Connection} and keep-alive, HTTP/1.0 clients), so the engine never knows which protocol
 * it speaks. {@link Http1DownstreamStream} is the HTTP/1.1 one; an HTTP/2 stream, or a cache hit
 * answering without a client socket of its own, are others.
 *
 * <p>Inbound, the implementation hands body parts to the call's {@link RequestBody}
 * ({@link RequestBody#onPart}, {@link RequestBody#onMalformed}) and reports the connection through
 * {@link ProxyCall#onDownstreamFailure} and {@link ProxyCall#onDownstreamWritabilityChanged}.
 * Everything runs on {@link #eventLoop()}. Buffers passed to a write method belong to the stream
 * from then on.
 */
interface DownstreamStream {

    /** The request header (mutable: phases may change it). */
    RequestHeader requestHeader();

    /** Whether the request has a body at all (RFC 9112 §6.3: a length above 0 or chunked). */
    boolean requestHasBody();

    /** Whether the client waits for {@code 100 Continue} before it sends the body. */
    boolean expectsContinue();

    /** Whether the client asked to keep the connection open after this response. */
    boolean requestsKeepAlive();

    /** Whether this request came on a connection that already carried another one. */
    boolean isConnectionReused();

    SocketAddress clientAddress();

    SocketAddress serverAddress();

    /** Whether the connection is TLS: {@code tls() != null}. */
    boolean isTls();

    /** What the connection's TLS handshake settled; null on a plain connection. */
    dev.relay.core.@Nullable TlsInfo tls();

    EventLoop eventLoop();

    /** Longest wait for each read of the request body, in nanoseconds (the listener's setting). */
    long bodyReadTimeoutNanos();

    /** Whether the connection is still open. */
    boolean isOpen();

    /**
     * Writes and flushes an interim (1xx) response: the proxy's own {@code 100 Continue}, or one the
     * origin sent, such as {@code 103 Early Hints} with its {@code Link} fields. An HTTP/1.0 client is
     * sent none (RFC 9110 §15.2: it does not understand them).
     */
    void writeInterim(ResponseHeader interim);

    /**
     * Writes the response header (not flushed), adding the framing the protocol needs.
     *
     * @param endOfStream the response has no body and ends here (the caller writes the end next)
     * @param keepAlive whether the engine wants the connection to carry another request
     * @return whether the connection can still carry another request after this response (the
     *         framing may rule it out: an HTTP/1.0 client reading a body of unknown length)
     */
    boolean writeResponseHeader(ResponseHeader header, boolean endOfStream, boolean keepAlive);

    /** Writes a body part (not flushed). */
    void writeBody(ByteBuf data);

    /** Writes and flushes a body part; the future tells when the bytes left. */
    ChannelFuture writeBodyAndFlush(ByteBuf data);

    /**
     * Writes the last part of the response, with trailer fields when the protocol can carry them,
     * and flushes. The future tells when the response has left.
     */
    ChannelFuture writeLast(ByteBuf data, @Nullable HttpHeaders trailers);

    /** Flushes what was written. */
    void flush();

    /** Flushes what was written; the future tells when it has left. */
    ChannelFuture flushWithFuture();

    /** A future already succeeded, for writes that need no wait (a subrequest's, which go nowhere). */
    ChannelFuture succeededFuture();

    /** Whether the client takes more bytes now (its send buffer is below the high water mark). */
    boolean isWritable();

    /** Turns reading from the client on or off (backpressure); pipelining may keep it off. */
    void setReading(boolean on);

    /** Whether reading from the client is off (then a slow body is the proxy's doing, not the client's). */
    boolean isReadingPaused();

    /**
     * The tunnel the request asks for and the connection is held for: while it is not
     * {@link TunnelRequests.Kind#NONE NONE}, nothing more is read from the client until the answer,
     * and after an answer that does not open the tunnel the connection closes.
     */
    TunnelRequests.Kind tunnelKind();

    /**
     * Opens the tunnel: writes {@code header} (the {@code 101}, or the {@code 2xx} answering
     * {@code CONNECT}) as it is and flushes, takes the protocol's codec out of the connection and
     * puts {@code relay} in its place.
     *
     * @return the bytes the client sent after its request, in order (ownership passes to the caller; may be empty)
     * @throws IllegalStateException when the connection was not held for a tunnel
     */
    ByteBuf switchToTunnel(ResponseHeader header, io.netty.channel.ChannelHandler relay);

    /**
     * The call is over and {@code logging} has run: the connection carries on with the next request
     * when {@code reusable}, or closes. {@code requestComplete} tells whether the whole request body
     * was read (if not, the rest is drained before the next request).
     */
    void finished(boolean reusable, boolean requestComplete);
}
