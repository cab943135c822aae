package dev.relay.transport.internal;

import dev.relay.core.ErrorSource;
import dev.relay.core.HttpHeaders;
import dev.relay.core.ProxyError;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import org.jspecify.annotations.Nullable;

import java.net.SocketAddress;

/**
 * One request on a downstream HTTP/1.1 connection, as a {@link DownstreamStream}: the request
 * decoded by Netty's codec, and the response framed for the client — {@code Content-Length} as
 * given, else chunked coding for HTTP/1.1 clients and close-delimited for HTTP/1.0 ones,
 * {@code Connection: close} when the connection ends with this response. The connection itself
 * (pipelining, draining, client timeouts) is the {@link DownstreamHandler}'s.
 */
final class Http1DownstreamStream implements DownstreamStream {
    private final DownstreamHandler handler;
    private final Channel channel;
    /** The request as the codec decoded it is this view's {@code unwrap()}: no second reference kept (8 B a request). */
    private final NettyRequestHeader requestHeader;
    private final boolean connectionReused;
    private final boolean headRequest;
    private final boolean hasBody;
    private final boolean expectContinue;
    /** The client asked the connection to persist ({@code Connection} and its version), as its decoder found. */
    private final boolean keepAlive;
    private final TunnelRequests.Kind tunnel;
    private boolean chunkedResponse;
    /** The response has no body (HEAD, 204, 304): body bytes a module writes anyway are dropped here. */
    private boolean bodilessResponse;
    private @Nullable ProxyCall<?> call;

    Http1DownstreamStream(DownstreamHandler handler, Channel channel, HttpRequest request, boolean connectionReused) {
        this(handler, channel, request, connectionReused, TunnelRequests.Kind.NONE);
    }

    Http1DownstreamStream(DownstreamHandler handler, Channel channel, HttpRequest request, boolean connectionReused,
                          TunnelRequests.Kind tunnel) {
        this.handler = handler;
        this.tunnel = tunnel;
        this.channel = channel;
        this.requestHeader = new NettyRequestHeader(request);
        this.connectionReused = connectionReused;
        this.headRequest = HttpMethod.HEAD.equals(request.method());
        Http1Framing framing = Http1Framing.of(request);
        this.hasBody = framing.hasRequestBody();
        this.expectContinue = framing.expectContinue();
        this.keepAlive = framing.keepAlive();
    }

    void bind(ProxyCall<?> call) {
        this.call = call;
    }

    ProxyCall<?> call() {
        return call;
    }

    /** A body part of this request arrived (ownership passes to the call). */
    void onContent(HttpContent content) {
        if (content.decoderResult().isFailure()) {
            content.release();
            call.requestBody().onMalformed(ProxyError.downstream(dev.relay.core.ErrorType.H1_ERROR,
                    "malformed request body", content.decoderResult().cause()));
            return;
        }
        if (content instanceof LastHttpContent last) {
            io.netty.handler.codec.http.HttpHeaders t = last.trailingHeaders();
            call.requestBody().onPart(content.content(), true, t.isEmpty() ? null : new NettyHttpHeaders(t));
        } else {
            call.requestBody().onPart(content.content(), false, null);
        }
    }

    /**
     * The error a request the decoder rejected is answered with: 400, 414/431 for what was too long, 505
     * for an HTTP version other than 1.x; each blames the client ({@link ErrorSource#DOWNSTREAM}).
     */
    static ProxyError malformedRequest(Throwable cause) {
        if (cause instanceof Http1ParseException parse && parse.status() != 400) {
            return ProxyError.httpStatus(parse.status(), ErrorSource.DOWNSTREAM)
                    .setContext("malformed request: " + cause.getMessage());
        }
        if (cause instanceof TooLongHttpLineException) {
            return ProxyError.httpStatus(414, ErrorSource.DOWNSTREAM)
                    .setContext("request line too long: " + cause.getMessage());
        }
        if (cause instanceof TooLongHttpHeaderException) {
            return ProxyError.httpStatus(431, ErrorSource.DOWNSTREAM)
                    .setContext("request header too large: " + cause.getMessage());
        }
        return ProxyError.downstream(dev.relay.core.ErrorType.H1_ERROR, "malformed request", cause);
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
        // A connection held for a tunnel lost its decoder: after any other answer it closes.
        return tunnel == TunnelRequests.Kind.NONE && keepAlive;
    }

    @Override
    public TunnelRequests.Kind tunnelKind() {
        return tunnel;
    }

    @Override
    public ByteBuf switchToTunnel(ResponseHeader header, ChannelHandler relay) {
        if (tunnel == TunnelRequests.Kind.NONE || !handler.isHolding()) {
            throw new IllegalStateException("the connection was not held for a tunnel: " + this);
        }
        HttpResponse response = NettyResponseHeader.toNetty(header);
        response.setProtocolVersion(HttpVersion.HTTP_1_1);
        // Written as it is: a 101 or a 2xx to CONNECT has no body and needs no framing fields.
        response.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
        response.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
        channel.write(response, channel.voidPromise());
        channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT, channel.voidPromise());
        ChannelPipeline pipeline = channel.pipeline();
        pipeline.remove(Http1ServerCodec.class);
        pipeline.addBefore(pipeline.context(handler).name(), ByteRelay.HANDLER, relay);
        return handler.takeEarly();
    }

    @Override
    public boolean isConnectionReused() {
        return connectionReused;
    }

    @Override
    public SocketAddress clientAddress() {
        return ClientAddresses.client(channel);
    }

    @Override
    public SocketAddress serverAddress() {
        return ClientAddresses.server(channel);
    }

    @Override
    public boolean isTls() {
        return tls() != null;
    }

    @Override
    public dev.relay.core.@Nullable TlsInfo tls() {
        TlsHandshakeHandler.DownstreamTls tls = TlsHandshakeHandler.of(channel);
        return tls == null ? null : tls.info();
    }

    @Override
    public EventLoop eventLoop() {
        return channel.eventLoop();
    }

    @Override
    public long bodyReadTimeoutNanos() {
        return handler.bodyReadTimeoutNanos();
    }

    @Override
    public boolean isOpen() {
        return channel.isActive();
    }

    @Override
    public void writeInterim(ResponseHeader interim) {
        if (requestHeader.unwrap().protocolVersion().equals(HttpVersion.HTTP_1_0)) {
            return;
        }
        DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(interim.status()), Unpooled.EMPTY_BUFFER);
        interim.headers().forEach((name, value) -> response.headers().add(name, value));
        channel.writeAndFlush(response, channel.voidPromise());
    }

    @Override
    public boolean writeResponseHeader(ResponseHeader header, boolean endOfStream, boolean keepAlive) {
        HttpResponse response = NettyResponseHeader.toNetty(header);
        int code = response.status().code();
        boolean bodiless = headRequest || code == 204 || code == 304;
        bodilessResponse = bodiless;
        // The framing is this stream's alone (the engine already drops the origin's Transfer-Encoding as
        // hop-by-hop): one a module put on the header would make the encoder chunk a body that has a
        // Content-Length, or write a last chunk after a bodiless answer, bytes a keep-alive client would
        // read as the start of its next response.
        response.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
        if (code == 204) {
            // RFC 9110 §8.6: a 204 carries no Content-Length, whatever the origin put on it (a HEAD or 304
            // response keeps its own: it is the length the content would have had).
            response.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
        }
        boolean lengthSet = HttpUtil.isContentLengthSet(response);
        if (endOfStream && !bodiless && !lengthSet) {
            HttpUtil.setContentLength(response, 0);
            lengthSet = true;
        }
        boolean http10Client = requestHeader.unwrap().protocolVersion().equals(HttpVersion.HTTP_1_0);
        response.setProtocolVersion(HttpVersion.HTTP_1_1);
        if (!bodiless && !lengthSet) {
            if (http10Client) {
                // HTTP/1.0 has no chunked coding: the end of the body is the end of the connection.
                keepAlive = false;
            } else {
                chunkedResponse = true;
                response.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            }
        }
        if (!keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (http10Client) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        channel.write(response, channel.voidPromise());
        return keepAlive;
    }


    @Override
    public void writeBody(ByteBuf data) {
        if (bodilessResponse) {
            data.release();
            return;
        }
        channel.write(new DefaultHttpContent(data), channel.voidPromise());
    }

    @Override
    public ChannelFuture writeBodyAndFlush(ByteBuf data) {
        if (bodilessResponse) {
            data.release();
            return channel.writeAndFlush(Unpooled.EMPTY_BUFFER);
        }
        return channel.writeAndFlush(new DefaultHttpContent(data));
    }

    @Override
    public ChannelFuture writeLast(ByteBuf data, @Nullable HttpHeaders trailers) {
        if (bodilessResponse) {
            data.release();
            return channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        }
        // Only chunked coding can carry trailer fields; otherwise they are dropped, as RFC 9110 §6.5 allows.
        return channel.writeAndFlush(Http1Messages.lastPart(channel, data, chunkedResponse ? trailers : null));
    }

    @Override
    public void flush() {
        channel.flush();
    }

    @Override
    public ChannelFuture flushWithFuture() {
        return channel.writeAndFlush(Unpooled.EMPTY_BUFFER);
    }

    @Override
    public ChannelFuture succeededFuture() {
        return channel.newSucceededFuture();
    }

    @Override
    public boolean isWritable() {
        return channel.isWritable();
    }

    @Override
    public void setReading(boolean on) {
        handler.setReading(on);
    }

    @Override
    public boolean isReadingPaused() {
        return !channel.config().isAutoRead();
    }

    @Override
    public void finished(boolean reusable, boolean requestComplete) {
        handler.exchangeFinished(this, reusable, requestComplete);
    }

    @Override
    public String toString() {
        HttpRequest request = requestHeader.unwrap();
        return "Http1DownstreamStream{" + request.method() + ' ' + request.uri() + '}';
    }
}
