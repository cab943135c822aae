package dev.relay.transport.internal;

import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpHeaders;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.RequestHeader;
import dev.relay.core.RetryType;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

import java.util.Locale;

/**
 * One HTTP/2 exchange on a stream of a pooled {@link Http2Connection}: the request goes out as a
 * HEADERS frame converted from the HTTP/1-shaped header every phase sees ({@link HttpConversionUtil}),
 * DATA frames and trailing HEADERS; the response comes back the same way, converted into a
 * {@link NettyResponseHeader}. Flow control is the stream channel's: reading off withholds
 * WINDOW_UPDATEs, writability follows the peer's window. Release and abort close the stream (a
 * RST_STREAM CANCEL when it is still open); the connection stays in the pool.
 *
 * <p>Retries: a stream the origin refused (RST_STREAM REFUSED_STREAM) or that a GOAWAY left out
 * (above its last stream id) was not processed, and is retryable; a HEADERS frame that could not be
 * sent was not either. A connection that closes before the response is retryable only for a request
 * that is safe to send twice (an idempotent method), since the origin may have processed it: on a
 * reused connection, and on a new one as for HTTP/1.1 ({@link UpstreamAttempt}).
 */
final class Http2UpstreamStream extends ChannelInboundHandlerAdapter implements UpstreamStream {
    private static final AsciiString HTTPS = AsciiString.cached("https");
    private static final AsciiString HTTP = AsciiString.cached("http");
    private static final AsciiString TRAILERS = AsciiString.cached("trailers");
    private static final String STREAM_ID = HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text().toString();

    private final HttpPeer peer;
    private final LazyTimer readTimer;
    private @Nullable Http2StreamChannel channel;
    private @Nullable Listener listener;
    /** The request header, held until the first body part or flush so a request without a body is one frame. */
    private @Nullable Http2Headers pendingHeader;
    /**
     * Whether the origin may get this request again without harm if the connection is lost before a
     * response: until its HEADERS go out, and after that for an idempotent method only (RFC 9110
     * §9.2.2). A POST (every gRPC call) that reached an origin which then died may have been acted on.
     */
    private boolean safeToResend = true;
    private boolean responseStarted;
    private boolean lastReceived;
    private boolean done;
    private long readTimeoutNanos;

    Http2UpstreamStream(HttpPeer peer, Http2Connection connection, EngineClock clock) {
        this.peer = peer;
        this.readTimer = new LazyTimer(clock, connection.channel.eventLoop(), this::onReadTimer);
    }

    /** The handler of the stream channel: this stream. */
    ChannelHandler handler() {
        return this;
    }

    /** The stream channel is open. */
    void attach(Http2StreamChannel streamChannel) {
        this.channel = streamChannel;
    }

    @Override
    public void start(Listener listener) {
        this.listener = listener;
    }

    @Override
    public RequestHeader newRequestHeader(RequestHeader clientRequest, HttpPeer peer, boolean requestHasBody,
                                          long bufferedBodyLength, boolean upgrade) {
        HttpRequest request = UpstreamRequests.copy(clientRequest);
        io.netty.handler.codec.http.HttpHeaders headers = request.headers();
        // RFC 9113 §8.2.2: TE may go on HTTP/2 only as "trailers" (gRPC needs it to reach the origin).
        boolean teTrailers = headers.containsValue(HttpHeaderNames.TE, TRAILERS, true);
        // HTTP/2 has no Upgrade: an upgrade request goes as an ordinary one (the origin cannot switch).
        HopByHop.strip(headers);
        if (teTrailers) {
            headers.set(HttpHeaderNames.TE, TRAILERS);
        }
        headers.remove(HttpHeaderNames.EXPECT);
        UpstreamRequests.defaultHost(headers, peer);
        if (bufferedBodyLength >= 0) {
            headers.set(HttpHeaderNames.CONTENT_LENGTH, bufferedBodyLength);
        }
        return new NettyRequestHeader(request);
    }

    @Override
    public void writeHeader(RequestHeader upstreamRequest) {
        HttpRequest request = ((NettyRequestHeader) upstreamRequest).unwrap();
        safeToResend = Errors.isIdempotent(request.method().name());
        Http2Headers out = new DefaultHttp2Headers(false);
        out.method(request.method().asciiName());
        String target = request.uri();
        String host = request.headers().get(HttpHeaderNames.HOST);
        if (!target.startsWith("/") && !target.equals("*")) {
            // An absolute-form target (a client speaking to a forward proxy): path and authority apart.
            java.net.URI uri = java.net.URI.create(target);
            target = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
            if (uri.getRawQuery() != null) {
                target += "?" + uri.getRawQuery();
            }
            if (host == null && uri.getRawAuthority() != null) {
                host = uri.getRawAuthority();
            }
        }
        out.path(target);
        out.scheme(peer.isTls() ? HTTPS : HTTP);
        if (host != null) {
            out.authority(host);
        }
        // The rest, lower-cased, without Host (now :authority) and connection-specific fields.
        HttpConversionUtil.toHttp2Headers(request.headers(), out);
        pendingHeader = out;
    }

    @Override
    public void writeBody(ByteBuf data, boolean last, @Nullable HttpHeaders trailers) {
        Http2StreamChannel ch = channel;
        if (done || ch == null) {
            data.release();
            return;
        }
        boolean hasTrailers = trailers != null && trailers.size() > 0;
        if (pendingHeader != null) {
            if (last && !data.isReadable() && !hasTrailers) {
                data.release();
                writePendingHeader(true);
                return;
            }
            writePendingHeader(false);
        }
        if (!last) {
            if (data.isReadable()) {
                ch.write(new DefaultHttp2DataFrame(data, false), ch.voidPromise());
            } else {
                data.release();
            }
            return;
        }
        if (!hasTrailers) {
            ch.write(new DefaultHttp2DataFrame(data, true), ch.voidPromise());
            return;
        }
        if (data.isReadable()) {
            ch.write(new DefaultHttp2DataFrame(data, false), ch.voidPromise());
        } else {
            data.release();
        }
        Http2Headers out = new DefaultHttp2Headers(false);
        trailers.forEach((String name, String value) -> out.add(name.toLowerCase(Locale.ROOT), value));
        ch.write(new DefaultHttp2HeadersFrame(out, true), ch.voidPromise());
    }

    private void writePendingHeader(boolean endStream) {
        Http2Headers header = pendingHeader;
        pendingHeader = null;
        Http2StreamChannel ch = channel;
        // The one write whose failure matters apart: a HEADERS frame that never left (the connection
        // got a GOAWAY, or the peer's stream limit shrank) means the origin never saw the request.
        ch.write(new DefaultHttp2HeadersFrame(header, endStream)).addListener(f -> {
            if (!f.isSuccess()) {
                fail(ProxyError.upstream(ErrorType.H2_ERROR, "the request header could not be sent on "
                        + "the upstream HTTP/2 connection", f.cause()).setRetry(true));
            }
        });
    }

    @Override
    public void flush() {
        Http2StreamChannel ch = channel;
        if (ch == null || done) {
            return;
        }
        if (pendingHeader != null) {
            writePendingHeader(false);
        }
        ch.flush();
    }

    @Override
    public boolean isWritable() {
        Http2StreamChannel ch = channel;
        // Until its HEADERS go out a stream has no flow-control window; what is written waits with them.
        return ch != null && (pendingHeader != null || ch.isWritable());
    }

    @Override
    public void setReading(boolean on) {
        Http2StreamChannel ch = channel;
        if (ch != null && !lastReceived && !done) {
            ch.config().setAutoRead(on);
        }
    }

    @Override
    public void armReadTimeout(long timeoutNanos) {
        readTimeoutNanos = timeoutNanos;
        if (timeoutNanos > 0) {
            readTimer.arm(timeoutNanos);
        }
    }

    @Override
    public void progress() {
        if (readTimer.isArmed()) {
            readTimer.arm(readTimeoutNanos);
        }
    }

    private void onReadTimer() {
        Listener l = listener;
        Http2StreamChannel ch = channel;
        if (l == null || lastReceived || done || ch == null) {
            return;
        }
        if (!ch.config().isAutoRead()) {
            // Reading is paused because the client is slow: that is not the upstream's fault.
            readTimer.arm(readTimeoutNanos);
            return;
        }
        l.onReadTimeout();
    }

    @Override
    public boolean switchedProtocols() {
        return false;
    }

    /** Never called: an HTTP/2 stream never {@linkplain #switchedProtocols() switches protocols}. */
    @Override
    public ByteBuf switchToTunnel(ChannelHandler relay) {
        throw new IllegalStateException("the origin did not switch protocols (an HTTP/2 stream never does): " + this);
    }

    @Override
    public void release() {
        // Complete both ways, the stream is closed already; otherwise (the origin answered before the
        // whole request went out) closing it sends RST_STREAM CANCEL, and the connection stays.
        close();
    }

    @Override
    public void abort() {
        // RST_STREAM CANCEL: how a client's cancellation reaches the origin (gRPC cancels this way).
        close();
    }

    private void close() {
        if (done) {
            return;
        }
        done = true;
        listener = null;
        pendingHeader = null;
        readTimer.cancel();
        Http2StreamChannel ch = channel;
        if (ch != null) {
            ch.close();
        }
    }

    private void fail(ProxyError error) {
        Listener l = listener;
        if (l == null || done) {
            return;
        }
        readTimer.disarm();
        l.onFailure(error);
    }

    // ---------------------------------------------------------------------------------------------
    // Events of the stream channel

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Listener l = listener;
        if (l == null || done || lastReceived) {
            ReferenceCountUtil.release(msg);
            return;
        }
        progress();
        if (msg instanceof Http2HeadersFrame headers) {
            onHeaders(l, headers);
        } else if (msg instanceof Http2DataFrame data) {
            boolean last = data.isEndStream();
            lastReceived = last;
            // The frame's content passes to the listener: the frame itself holds nothing else.
            l.onResponseBody(data.content(), last, null);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onHeaders(Listener l, Http2HeadersFrame frame) {
        Http2Headers headers = frame.headers();
        int id = frame.stream().id();
        try {
            if (!responseStarted) {
                CharSequence status = headers.status();
                if (status != null && status.length() == 3 && status.charAt(0) == '1') {
                    // Interim responses (100, 103): passed on, the final one follows.
                    HttpResponse interim = HttpConversionUtil.toHttpResponse(id, headers, false);
                    interim.headers().remove(STREAM_ID);
                    HopByHop.strip(interim.headers());
                    l.onInterimResponse(new NettyResponseHeader(interim));
                    return;
                }
                HttpResponse response = HttpConversionUtil.toHttpResponse(id, headers, false);
                response.headers().remove(STREAM_ID);
                HopByHop.strip(response.headers());
                responseStarted = true;
                lastReceived = frame.isEndStream();
                l.onResponseHeader(new NettyResponseHeader(response));
                if (lastReceived && listener != null) {
                    // A header-only response (gRPC's trailers-only error, a HEAD answer, a 204).
                    l.onResponseBody(Unpooled.EMPTY_BUFFER, true, null);
                }
                return;
            }
            io.netty.handler.codec.http.HttpHeaders trailers = new DefaultHttpHeaders(false);
            HttpConversionUtil.addHttp2ToHttpHeaders(id, headers, trailers, HttpVersion.HTTP_1_1, true, false);
            lastReceived = true;
            l.onResponseBody(Unpooled.EMPTY_BUFFER, true, trailers.isEmpty() ? null : new NettyHttpHeaders(trailers));
        } catch (Http2Exception e) {
            fail(ProxyError.upstream(ErrorType.INVALID_HTTP_HEADER, "invalid response header from upstream", e));
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Listener l = listener;
        if (l != null) {
            l.onReadComplete();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        try {
            if (evt instanceof Http2ResetFrame reset) {
                long code = reset.errorCode();
                // REFUSED_STREAM: "no application processing", RFC 9113 §8.7: safe to send again.
                boolean refused = code == Http2Error.REFUSED_STREAM.code();
                fail(ProxyError.upstream(ErrorType.H2_ERROR, "upstream reset the stream ("
                        + errorName(code) + ")", null).setRetry(refused && !responseStarted));
            } else if (evt instanceof Http2GoAwayFrame goAway) {
                // Only streams above the GOAWAY's last stream id hear it: the origin did not process them.
                fail(ProxyError.upstream(ErrorType.H2_ERROR, "upstream sent GOAWAY (" + errorName(goAway.errorCode())
                        + ") before processing the stream", null).setRetry(true));
            }
        } finally {
            ReferenceCountUtil.release(evt);
        }
    }

    private static String errorName(long code) {
        Http2Error error = Http2Error.valueOf(code);
        return error != null ? error.name() : "0x" + Long.toHexString(code);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        readTimer.cancel();
        if (lastReceived) {
            return;
        }
        fail(responseStarted
                ? ProxyError.upstream(ErrorType.CONNECTION_CLOSED, "upstream HTTP/2 stream closed mid-response", null)
                : lostBeforeResponse(ProxyError.upstream(ErrorType.CONNECTION_CLOSED,
                        "upstream HTTP/2 stream closed before a response", null)));
    }

    /**
     * The retry of an attempt whose connection was lost before a response: as for HTTP/1.1 (a pooled
     * connection the origin had closed is worth another go) when the request is safe to send again,
     * never otherwise. Unlike an HTTP/1.1 keep-alive race, an HTTP/2 origin that stops gracefully says
     * so with GOAWAY (whose unprocessed streams are retried); a connection lost without one is a
     * crash or a broken path, and the origin may have processed what it received.
     */
    private ProxyError lostBeforeResponse(ProxyError e) {
        return e.setRetryType(safeToResend ? RetryType.REUSED_ONLY : RetryType.NO);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ProxyError e = cause instanceof Http2Exception h2
                ? ProxyError.upstream(ErrorType.H2_ERROR, "upstream HTTP/2 " + h2.error() + ": " + h2.getMessage(), h2)
                : Errors.io(cause, ErrorSource.UPSTREAM, responseStarted
                        ? "reading the upstream response" : "waiting for the upstream response");
        if (responseStarted || cause instanceof Http2Exception) {
            e.setRetry(false);
        } else if (e.retryType() == RetryType.REUSED_ONLY) {
            lostBeforeResponse(e);
        }
        fail(e);
        ctx.close();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Listener l = listener;
        if (l != null) {
            l.onWritabilityChanged(ctx.channel().isWritable());
        }
    }

    @Override
    public String toString() {
        Http2StreamChannel ch = channel;
        return "Http2UpstreamStream{" + peer + (ch != null ? ", stream " + ch.stream().id() : "") + '}';
    }
}
