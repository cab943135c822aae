package dev.relay.transport.internal;

import dev.relay.core.ErrorType;
import dev.relay.core.HttpHeaders;
import dev.relay.core.ProxyError;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.HttpConversionUtil;
import org.jspecify.annotations.Nullable;

import java.net.SocketAddress;

/**
 * One request on a downstream HTTP/2 connection, as a {@link DownstreamStream}, over the stream's
 * child channel of Netty's {@code Http2MultiplexHandler}: the HEADERS frame converted to the Netty
 * HTTP/1 request every phase sees ({@code :authority} as {@code Host}, cookies joined, version
 * {@code HTTP/2.0}), DATA frames as body parts, a trailing HEADERS frame as trailers; the response as
 * a HEADERS frame without connection-specific fields, DATA frames, and trailers as a last HEADERS
 * frame. Flow control is the child channel's: its auto-read decides when the client's DATA is
 * acknowledged (WINDOW_UPDATE), its writability follows the stream and connection send windows.
 * The stream's frames arrive through its {@link Http2StreamHandler}.
 */
final class Http2DownstreamStream implements DownstreamStream {
    /** The version an HTTP/2 request shows the phases and the access log. */
    static final HttpVersion HTTP_2 = HttpVersion.valueOf("HTTP/2.0");
    private static final DefaultHttpHeadersFactory TRAILERS = DefaultHttpHeadersFactory.trailersFactory();

    private final Http2StreamHandler handler;
    private final Channel stream;
    private final HttpRequest request;
    private final NettyRequestHeader requestHeader;
    private final boolean hasBody;
    private final boolean connectionReused;
    private final boolean headRequest;
    private final boolean expectContinue;
    /** The response's END_STREAM was written: the stream ends normally whatever follows. */
    private boolean responseEnded;
    private @Nullable ChannelFuture responseEnd;
    /** The write of the response header, for {@link #flushWithFuture()}. */
    private @Nullable ChannelFuture headerWrite;
    /**
     * The response header, held until what follows it is known: a response that ends right after it
     * goes as one HEADERS frame with END_STREAM. gRPC's trailers-only answer (an immediate error) must:
     * a client that gets its grpc-status in a HEADERS frame without END_STREAM, then an empty DATA frame
     * that ends the stream, reports INTERNAL instead of the status.
     */
    private @Nullable Http2Headers pendingHeader;

    Http2DownstreamStream(Http2StreamHandler handler, Channel stream, HttpRequest request, boolean hasBody,
                          boolean connectionReused) {
        this.handler = handler;
        this.stream = stream;
        this.request = request;
        this.requestHeader = new NettyRequestHeader(request);
        this.hasBody = hasBody;
        this.connectionReused = connectionReused;
        this.headRequest = HttpMethod.HEAD.equals(request.method());
        this.expectContinue = HttpUtil.is100ContinueExpected(request);
    }

    /**
     * The request of a HEADERS frame as the phases see it: Netty's conversion, without its
     * {@code x-http2-*} bookkeeping fields, with version {@code HTTP/2.0}, and
     * {@code Transfer-Encoding: chunked} when a body of unannounced length follows (what an HTTP/1.1
     * request with such a body says, so an HTTP/1.1 upstream frames it the same way).
     *
     * @throws Http2Exception when the fields cannot be a request (a stream error)
     * @throws IllegalArgumentException when {@code Host} names another authority than {@code :authority}
     */
    static HttpRequest toRequest(int streamId, Http2Headers headers, boolean hasBody) throws Http2Exception {
        CharSequence authority = headers.authority();
        if (authority != null) {
            // RFC 9113 §8.3.1: :authority wins over Host; a Host naming another one makes the request malformed.
            CharSequence host = headers.get(HttpHeaderNames.HOST);
            if (host != null && !io.netty.util.AsciiString.contentEqualsIgnoreCase(host, authority)) {
                throw new IllegalArgumentException("Host '" + host + "' differs from :authority '" + authority + "'");
            }
            headers.remove(HttpHeaderNames.HOST);
        }
        HttpRequest request = HttpConversionUtil.toHttpRequest(streamId, headers, false);
        io.netty.handler.codec.http.HttpHeaders fields = request.headers();
        fields.remove(HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text());
        fields.remove(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text());
        request.setProtocolVersion(HTTP_2);
        if (hasBody && !fields.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            fields.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        return request;
    }

    /** The request for the answer to a HEADERS frame that is refused before conversion (CONNECT, bad fields). */
    static HttpRequest placeholderRequest(Http2Headers headers) {
        CharSequence method = headers.method();
        CharSequence path = headers.path() != null ? headers.path() : headers.authority();
        HttpMethod m;
        try {
            m = method == null ? HttpMethod.GET : HttpMethod.valueOf(method.toString());
        } catch (IllegalArgumentException e) {
            m = HttpMethod.GET;
        }
        return new DefaultHttpRequest(HTTP_2, m, path == null ? "/" : path.toString(), false);
    }

    /** The trailer fields of a trailing HEADERS frame. */
    static NettyHttpHeaders toTrailers(int streamId, Http2Headers headers) throws Http2Exception {
        io.netty.handler.codec.http.HttpHeaders trailers = TRAILERS.newHeaders();
        HttpConversionUtil.addHttp2ToHttpHeaders(streamId, headers, trailers, HttpVersion.HTTP_1_1, true, true);
        return new NettyHttpHeaders(trailers);
    }

    @Override
    public RequestHeader requestHeader() {
        return requestHeader;
    }

    @Override
    public boolean requestHasBody() {
        return hasBody;
    }

    @Override
    public boolean expectsContinue() {
        return expectContinue;
    }

    @Override
    public boolean requestsKeepAlive() {
        // The connection outlives every stream: keep-alive is not a stream's matter.
        return true;
    }

    @Override
    public boolean isConnectionReused() {
        return connectionReused;
    }

    @Override
    public SocketAddress clientAddress() {
        return ClientAddresses.client(stream.parent());
    }

    @Override
    public SocketAddress serverAddress() {
        return ClientAddresses.server(stream.parent());
    }

    @Override
    public boolean isTls() {
        return tls() != null;
    }

    @Override
    public dev.relay.core.@Nullable TlsInfo tls() {
        TlsHandshakeHandler.DownstreamTls tls = TlsHandshakeHandler.of(stream.parent());
        return tls == null ? null : tls.info();
    }

    @Override
    public EventLoop eventLoop() {
        return stream.eventLoop();
    }

    @Override
    public long bodyReadTimeoutNanos() {
        return handler.bodyReadTimeoutNanos();
    }

    @Override
    public boolean isOpen() {
        return stream.isActive();
    }

    /** Whether the response's END_STREAM has been written. */
    boolean responseEnded() {
        return responseEnded;
    }

    @Override
    public void writeInterim(ResponseHeader interim) {
        // The conversion sets :status from the response, and leaves connection-specific fields out.
        Http2Headers headers = HttpConversionUtil.toHttp2Headers(NettyResponseHeader.toNetty(interim), false);
        stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers, false), stream.voidPromise());
    }

    @Override
    public boolean writeResponseHeader(ResponseHeader header, boolean endOfStream, boolean keepAlive) {
        HttpResponse response = NettyResponseHeader.toNetty(header);
        // Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade and the fields named in
        // Connection are HTTP/1.1 framing: Netty's conversion leaves them out (RFC 9113 §8.2.2).
        Http2Headers headers = HttpConversionUtil.toHttp2Headers(response, false);
        if (endOfStream) {
            responseEnded = true;
            responseEnd = stream.write(new DefaultHttp2HeadersFrame(headers, true));
        } else {
            pendingHeader = headers;
        }
        return keepAlive;
    }

    /** Writes the held response header, if any: with END_STREAM when nothing follows it. */
    private void writePendingHeader(boolean endStream) {
        Http2Headers headers = pendingHeader;
        if (headers == null) {
            return;
        }
        pendingHeader = null;
        ChannelFuture write = stream.write(new DefaultHttp2HeadersFrame(headers, endStream));
        if (endStream) {
            responseEnded = true;
            responseEnd = write;
        } else {
            headerWrite = write;
        }
    }


    @Override
    public void writeBody(ByteBuf data) {
        if (responseEnded || !data.isReadable()) {
            data.release();
            return;
        }
        writePendingHeader(false);
        stream.write(new DefaultHttp2DataFrame(data, false), stream.voidPromise());
    }

    @Override
    public ChannelFuture writeBodyAndFlush(ByteBuf data) {
        if (responseEnded) {
            data.release();
            return flushWithFuture();
        }
        writePendingHeader(false);
        return stream.writeAndFlush(new DefaultHttp2DataFrame(data, false));
    }

    @Override
    public ChannelFuture writeLast(ByteBuf data, @Nullable HttpHeaders trailers) {
        if (responseEnded) {
            // The header carried END_STREAM (a response without a body): nothing may follow it.
            data.release();
            stream.flush();
            return responseEnd != null ? responseEnd : stream.newSucceededFuture();
        }
        boolean withTrailers = trailers != null && trailers.size() > 0 && !headRequest;
        if (pendingHeader != null && !data.isReadable() && !withTrailers) {
            data.release();
            writePendingHeader(true);
            stream.flush();
            return responseEnd;
        }
        writePendingHeader(false);
        responseEnded = true;
        ChannelFuture last;
        if (withTrailers) {
            if (data.isReadable()) {
                stream.write(new DefaultHttp2DataFrame(data, false), stream.voidPromise());
            } else {
                data.release();
            }
            last = stream.writeAndFlush(new DefaultHttp2HeadersFrame(toHttp2Trailers(trailers), true));
        } else {
            last = stream.writeAndFlush(new DefaultHttp2DataFrame(data, true));
        }
        responseEnd = last;
        return last;
    }

    private static Http2Headers toHttp2Trailers(HttpHeaders trailers) {
        io.netty.handler.codec.http.HttpHeaders netty;
        if (trailers instanceof NettyHttpHeaders n) {
            netty = n.unwrap();
        } else {
            netty = TRAILERS.newHeaders();
            trailers.forEach((String name, String value) -> netty.add(name, value));
        }
        return HttpConversionUtil.toHttp2Headers(netty, false);
    }

    @Override
    public void flush() {
        writePendingHeader(false);
        stream.flush();
    }

    @Override
    public ChannelFuture flushWithFuture() {
        // A stream channel writes only frames (no empty buffer to flush with): the header's write
        // stands for what was written before the flush.
        writePendingHeader(false);
        stream.flush();
        return headerWrite != null ? headerWrite : stream.newSucceededFuture();
    }

    @Override
    public ChannelFuture succeededFuture() {
        return stream.newSucceededFuture();
    }

    @Override
    public boolean isWritable() {
        return stream.isWritable();
    }

    @Override
    public void setReading(boolean on) {
        handler.setReading(on);
    }

    @Override
    public boolean isReadingPaused() {
        return !stream.config().isAutoRead();
    }

    @Override
    public TunnelRequests.Kind tunnelKind() {
        // CONNECT on HTTP/2 is refused with 405 before a call starts; nothing else asks for a tunnel.
        return TunnelRequests.Kind.NONE;
    }

    @Override
    public ByteBuf switchToTunnel(ResponseHeader header, ChannelHandler relay) {
        throw new IllegalStateException("an HTTP/2 stream is never held for a tunnel: " + this);
    }

    @Override
    public void finished(boolean reusable, boolean requestComplete) {
        handler.streamFinished(this);
    }

    /** Why the client's request could not be taken, as the error the call answers with. */
    static ProxyError malformedRequest(String why, @Nullable Throwable cause) {
        return ProxyError.downstream(ErrorType.INVALID_HTTP_HEADER, "malformed HTTP/2 request: " + why, cause);
    }

    /**
     * Ends the stream from the proxy's side once the call is over: nothing when both sides sent
     * END_STREAM; RST_STREAM {@code NO_ERROR} when the response is complete but the client has more
     * body to send (RFC 9113 §8.1: it may stop); RST_STREAM {@code CANCEL} when the response could
     * not be finished, so the client sees it cut.
     */
    void end(boolean requestEnded) {
        if (!stream.isActive()) {
            return;
        }
        if (!responseEnded) {
            stream.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL), stream.voidPromise());
        } else if (!requestEnded) {
            stream.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR), stream.voidPromise());
        }
    }

    @Override
    public String toString() {
        return "Http2DownstreamStream{" + request.method() + ' ' + request.uri() + '}';
    }
}
