package dev.relay.transport.internal;

import dev.relay.core.HttpHeaders;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import io.netty.buffer.ByteBuf;
import org.jspecify.annotations.Nullable;

/**
 * One request/response exchange with the origin, as the phase engine sees it (OkHttp's
 * {@code ExchangeCodec}): send a request header, body parts and trailers; receive a response header,
 * body parts and trailers through a {@link Listener}; then release (back to the pool when the
 * connection can carry another exchange) or abort. {@link Http1UpstreamStream} is the HTTP/1.1 one,
 * over one pooled connection; {@link Http2UpstreamStream} a stream on a multiplexed connection. An
 * implementation owns every framing rule of its protocol. Streams come from {@link UpstreamStreams}.
 * Everything runs on the event loop of the downstream connection; buffers passed to a write method
 * belong to the stream from then on.
 */
interface UpstreamStream {

    /** What the stream reports. Called on the event loop, only between {@link #start} and release or abort. */
    interface Listener {

        /** The final response header arrived. */
        void onResponseHeader(ResponseHeader header);

        /**
         * An interim response arrived ({@code 1xx} other than a {@code 101} that switches protocols),
         * without connection-specific fields; the final one follows.
         */
        void onInterimResponse(ResponseHeader interim);

        /** A response body part (ownership passes to the listener); {@code last} ends the response. */
        void onResponseBody(ByteBuf data, boolean last, @Nullable HttpHeaders trailers);

        /**
         * What the last read from the origin brought has all been reported: the moment to flush what
         * was written to the client meanwhile (Netty's write-in-read, flush-in-read-complete).
         */
        void onReadComplete();

        /** The exchange failed: a malformed response, an I/O error, or the connection closed too early. */
        void onFailure(ProxyError error);

        /** No byte moved for the read timeout while the stream was reading. */
        void onReadTimeout();

        /** The stream's send buffer crossed a water mark. */
        void onWritabilityChanged(boolean writable);
    }

    /** Starts reporting to {@code listener}. */
    void start(Listener listener);

    /**
     * The request header to send upstream for {@code clientRequest}: a copy without the client's
     * connection-specific fields, with a {@code Host}, framed for this protocol.
     *
     * @param requestHasBody whether the client's request has a body
     * @param bufferedBodyLength the exact body length when the whole body is already held, else -1
     * @param upgrade whether the client's connection is held for an upgrade: its {@code Upgrade}
     *                field goes up with {@code Connection: upgrade} (if it still asks for one)
     */
    RequestHeader newRequestHeader(RequestHeader clientRequest, HttpPeer peer, boolean requestHasBody,
                                   long bufferedBodyLength, boolean upgrade);

    /** Writes the request header (not flushed); {@code headRequest} tells that the response has no body. */
    void writeHeader(RequestHeader upstreamRequest);

    /** Writes a body part (not flushed); {@code last} ends the request, with optional trailers. */
    void writeBody(ByteBuf data, boolean last, @Nullable HttpHeaders trailers);

    /** Flushes what was written. */
    void flush();

    /** Whether the stream takes more bytes now. */
    boolean isWritable();

    /** Turns reading the response on or off (backpressure towards the origin). */
    void setReading(boolean on);

    /**
     * Starts the read timeout: the stream reports {@link Listener#onReadTimeout()} when no byte
     * arrives for {@code timeoutNanos} while it is reading (0: no timeout).
     */
    void armReadTimeout(long timeoutNanos);

    /** Request bytes went out: the read timeout starts over (nginx counts send progress too). */
    void progress();

    /** Whether the origin switched protocols: it answered {@code 101} to a request with {@code Upgrade}. */
    boolean switchedProtocols();

    /**
     * Hands the connection over to a tunnel: takes the protocol's codecs out, puts {@code relay} in
     * their place; the connection never returns to the pool and this stream is done.
     *
     * @return the bytes the origin sent after its response header, in order (ownership passes to
     *         the caller; may be empty)
     */
    ByteBuf switchToTunnel(io.netty.channel.ChannelHandler relay);

    /** The exchange is over: the connection goes back to the pool if it can carry another one, else closes. */
    void release();

    /** The exchange is abandoned: the connection closes. */
    void abort();
}
