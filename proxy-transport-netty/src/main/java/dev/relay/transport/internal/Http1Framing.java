package dev.relay.transport.internal;

import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpUtil;

/**
 * How an HTTP/1.1 message delimits its body and whether its connection persists, as the decoder
 * found it while it read the header block, so that the streams ask the headers nothing again.
 *
 * @param contentLength  the {@code Content-Length}, or {@link #NO_LENGTH} when the message has none
 * @param chunked        the body is in chunked coding
 * @param keepAlive      the connection persists after this message ({@code Connection}, and the version's default)
 * @param expectContinue an HTTP/1.1 request with {@code Expect: 100-continue}
 */
record Http1Framing(long contentLength, boolean chunked, boolean keepAlive, boolean expectContinue) {
    /** {@link #contentLength()} of a message without {@code Content-Length}. */
    static final long NO_LENGTH = -1;
    /** The framing given to a message the decoder rejected: no body, and the connection ends. */
    static final Http1Framing REJECTED = new Http1Framing(NO_LENGTH, false, false, false);
    // The framings of nearly every request, shared instead of made per message.
    private static final Http1Framing NO_BODY_KEEP_ALIVE = new Http1Framing(NO_LENGTH, false, true, false);
    private static final Http1Framing NO_BODY_CLOSE = REJECTED;
    private static final Http1Framing CHUNKED_KEEP_ALIVE = new Http1Framing(NO_LENGTH, true, true, false);

    /** The framing of these values; common ones are shared. */
    static Http1Framing of(long contentLength, boolean chunked, boolean keepAlive, boolean expectContinue) {
        if (contentLength == NO_LENGTH && !expectContinue) {
            if (!chunked) {
                return keepAlive ? NO_BODY_KEEP_ALIVE : NO_BODY_CLOSE;
            }
            if (keepAlive) {
                return CHUNKED_KEEP_ALIVE;
            }
        }
        return new Http1Framing(contentLength, chunked, keepAlive, expectContinue);
    }

    /**
     * The framing of {@code message}: what the decoder recorded for a message of {@link Http1RequestDecoder}
     * or {@link Http1ResponseDecoder}, otherwise looked up in its fields.
     */
    static Http1Framing of(HttpMessage message) {
        if (message instanceof DecodedHttpRequest request) {
            return request.framing();
        }
        if (message instanceof DecodedHttpResponse response) {
            return response.framing();
        }
        return of(HttpUtil.getContentLength(message, NO_LENGTH), HttpUtil.isTransferEncodingChunked(message),
                HttpUtil.isKeepAlive(message), HttpUtil.is100ContinueExpected(message));
    }

    /** Whether a request with this framing has a body (a response's body is also delimited by the close). */
    boolean hasRequestBody() {
        return chunked || contentLength > 0;
    }

    /** Whether the body's end is known without the connection closing: a length or chunked coding. */
    boolean isDelimited() {
        return chunked || contentLength != NO_LENGTH;
    }
}
