package dev.relay.transport.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import org.jspecify.annotations.Nullable;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static dev.relay.transport.internal.Http1Bytes.FIELD_VALUE;
import static dev.relay.transport.internal.Http1Bytes.SP;
import static dev.relay.transport.internal.Http1Bytes.quote;

/**
 * The HTTP/1.1 response decoder of an upstream connection, made for a proxy that sends one request at
 * a time: it knows whether the request in flight was {@code HEAD} ({@link #expectResponseTo}), passes
 * interim responses and then the final one, and after that decodes nothing until the next request,
 * so bytes beyond the response stay counted in {@link #bufferedBytes()} and the connection is never
 * pooled. A {@code 1xx}, {@code 204} or {@code 304} response and the answer to {@code HEAD} have no
 * body; after {@code 101} the bytes that follow are passed on as they are (the new protocol's), and
 * when the decoder is removed it hands on what it holds. A response without {@code Content-Length}
 * or chunked coding ends when the connection does.
 *
 * <p>The status line is {@code HTTP/1.0} or {@code HTTP/1.1}, a space, a three-digit status between
 * 100 and 599, a space, and a reason phrase that may be empty. See {@link Http1MessageDecoder} for the rest.
 */
final class Http1ResponseDecoder extends Http1MessageDecoder {
    private static final HttpResponseStatus UNKNOWN_STATUS = new HttpResponseStatus(999, "Unknown");

    /**
     * Told of every read before it is decoded ({@link UpstreamConnection#onRawRead}); null for a decoder
     * on its own. A call from here rather than a watching handler of its own in front saves a pipeline
     * hop per read and a handler and context per upstream connection.
     */
    private @Nullable UpstreamConnection connection;
    private boolean headRequest;
    private @Nullable HttpVersion version;
    private @Nullable HttpResponseStatus status;

    /**
     * A decoder with these limits: {@code maxStatusLineBytes} for the status line (and a chunk-size
     * line), {@code maxHeaderBytes} for the header fields (and the trailer fields), and body parts of at
     * most {@code maxChunkBytes}.
     */
    Http1ResponseDecoder(int maxStatusLineBytes, int maxHeaderBytes, int maxChunkBytes) {
        super(maxStatusLineBytes, maxHeaderBytes, maxChunkBytes);
    }

    /** Reports each read to {@code connection} before decoding it. */
    void reportRawReadsTo(UpstreamConnection connection) {
        this.connection = connection;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        UpstreamConnection c = connection;
        if (c != null && !c.onRawRead(ctx, msg)) {
            return;
        }
        super.channelRead(ctx, msg);
    }

    /** Called before each request is written: its response is decoded next. */
    void expectResponseTo(boolean head) {
        this.headRequest = head;
        if (state == State.IDLE) {
            state = State.HEAD;
        }
    }

    /** Whether the response being decoded answers a HEAD request (and so has no body). */
    boolean isHeadResponse() {
        return headRequest;
    }

    /** Bytes received but not yet part of any decoded message. */
    int bufferedBytes() {
        return actualReadableBytes();
    }

    @Override
    void parseStartLine(byte[] a, int end) {
        // RFC 9112 §4 has a server send the SP after the status code even when the reason phrase is
        // empty; a line that ends right after the code is still accepted (as nginx, HAProxy and Netty do:
        // some small origins send it, and it leaves nothing in doubt). Anything else there is refused.
        if (end < 12 || a[0] != 'H' || a[1] != 'T' || a[2] != 'T' || a[3] != 'P' || a[4] != '/' || a[5] != '1'
                || a[6] != '.' || (a[7] != '0' && a[7] != '1') || a[8] != SP || (end > 12 && a[12] != SP)) {
            throw new Http1ParseException("invalid status line: " + quote(a, 0, end));
        }
        int code = 0;
        for (int i = 9; i < 12; i++) {
            int digit = a[i] - '0';
            if (digit < 0 || digit > 9) {
                throw new Http1ParseException("invalid status line: " + quote(a, 0, end));
            }
            code = code * 10 + digit;
        }
        if (code < 100 || code > 599) {
            throw new Http1ParseException("invalid status code: " + quote(a, 0, end));
        }
        int reasonStart = Math.min(13, end);
        for (int i = reasonStart; i < end; i++) {
            if (!FIELD_VALUE[a[i] & 0xff]) {
                throw new Http1ParseException("invalid character in the reason phrase: " + quote(a, 0, end));
            }
        }
        version = a[7] == '1' ? HttpVersion.HTTP_1_1 : HttpVersion.HTTP_1_0;
        status = status(code, a, reasonStart, end);
    }

    /** Netty's constant when the reason phrase is the usual one, else a status with the phrase as sent. */
    private static HttpResponseStatus status(int code, byte[] a, int start, int end) {
        HttpResponseStatus known = HttpResponseStatus.valueOf(code);
        String phrase = known.reasonPhrase();
        if (phrase.length() == end - start) {
            int i = 0;
            while (i < end - start && phrase.charAt(i) == a[start + i]) {
                i++;
            }
            if (i == end - start) {
                return known;
            }
        }
        return new HttpResponseStatus(code, new String(a, start, end - start, StandardCharsets.ISO_8859_1));
    }

    @Override
    void emitHead(CompactHttpHeaders headers, List<Object> out) {
        HttpResponseStatus s = status;
        int code = s.code();
        boolean http11 = version == HttpVersion.HTTP_1_1;
        checkTransferEncoding(!http11);
        if (transferEncoding && code < 200) {
            // RFC 9112 §6.1: a server must not send one in a 1xx, which ends at its empty line: a chunked
            // body after it would be read as the final response.
            throw new Http1ParseException("Transfer-Encoding in a " + code + " response");
        }
        // Nor in a 204 (RFC 9112 §6.1). It has no body whatever its fields say, so it is relayed as such,
        // but the chunked body the origin may send after it, now or a moment later, would be read as the
        // next response: the connection is not reused, whenever those bytes come.
        boolean keepAlive = !connectionClose && (http11 || connectionKeepAlive) && !(transferEncoding && code == 204);
        out.add(new DecodedHttpResponse(version, s, headers,
                Http1Framing.of(contentLength, transferEncoding, keepAlive, false)));
        boolean interim = code < 200;
        if (interim || code == 204 || code == 304 || headRequest || !expectBody(true)) {
            out.add(LastHttpContent.EMPTY_LAST_CONTENT);
            if (code == 101) {
                // What follows is the new protocol's: passed on as it comes, for the tunnel to take.
                state = State.RAW;
            } else if (interim) {
                state = State.HEAD;
            } else {
                messageDone();
            }
        }
    }

    @Override
    HttpMessage invalidHead() {
        return new DecodedHttpResponse(version != null ? version : HttpVersion.HTTP_1_0,
                status != null ? status : UNKNOWN_STATUS, DefaultHttpHeadersFactory.headersFactory().newHeaders(),
                Http1Framing.REJECTED);
    }

    @Override
    void messageDone() {
        state = State.IDLE;
    }

    @Override
    void forgetStartLine() {
        version = null;
        status = null;
    }
}
