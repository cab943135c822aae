package dev.relay.transport.internal;

import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.ProxyError;
import dev.relay.transport.ProxyOptions;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

/**
 * The handler of one HTTP/2 stream's child channel (what {@link DownstreamHandler} is to an HTTP/1.1
 * connection, for one request): the first HEADERS frame starts a {@link ProxyCall} over an
 * {@link Http2DownstreamStream}, DATA frames and the trailing HEADERS frame go to its request body,
 * and a client's RST_STREAM or the end of the connection report {@link ProxyCall#onDownstreamFailure}
 * so the upstream side is aborted (gRPC cancellation travels this way).
 *
 * <p>The send timeout ({@link ProxyOptions#sendTimeout()}) runs while the stream is not writable: the
 * client keeps its flow-control window shut (or the connection's), and the response waits in the
 * proxy. Bytes that left meanwhile are progress and start the timer over; otherwise the call ends
 * with a downstream write timeout, which cancels its upstream attempt, and the stream is reset
 * ({@code CANCEL}). A response tail too small to make the stream unwritable is left to the stream
 * idle timeout ({@link Http2StreamIdleTimeout}): timing every flush would cost a timer per stream.
 */
final class Http2StreamHandler extends ChannelInboundHandlerAdapter {
    private final Http2DownstreamConnection connection;
    private @Nullable Channel channel;
    private @Nullable Http2DownstreamStream stream;
    private @Nullable ProxyCall<?> call;
    /** The client sent END_STREAM: its request is complete. */
    private boolean requestEnded;
    /** The call is over ({@code logging} ran). */
    private boolean finished;
    private boolean reading = true;
    /** The connection carried another stream before this one. */
    private boolean connectionReused;
    /** Runs while the stream is not writable; created on the first time it is not. */
    private @Nullable SendTimeout sendTimer;

    Http2StreamHandler(Http2DownstreamConnection connection) {
        this.connection = connection;
    }

    long bodyReadTimeoutNanos() {
        return connection.bodyReadTimeoutNanos();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        connectionReused = connection.streamOpened();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2HeadersFrame headers) {
            if (stream == null) {
                onRequestHeaders(headers);
            } else {
                onTrailers(headers);
            }
        } else if (msg instanceof Http2DataFrame data) {
            onData(data);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onRequestHeaders(Http2HeadersFrame frame) {
        Http2Headers headers = frame.headers();
        requestEnded = frame.isEndStream();
        boolean hasBody = !frame.isEndStream();
        int streamId = frame.stream().id();
        HttpRequest request;
        ProxyError refusal = null;
        if (HttpMethod.CONNECT.asciiName().contentEquals(headers.method() == null ? "" : headers.method())) {
            // No tunnels over HTTP/2 (RFC 9113 §8.5 CONNECT, RFC 8441 extended CONNECT): the listener
            // does not announce SETTINGS_ENABLE_CONNECT_PROTOCOL, and plain CONNECT gets 405.
            request = Http2DownstreamStream.placeholderRequest(headers);
            refusal = ProxyError.httpStatus(405, ErrorSource.DOWNSTREAM)
                    .setContext("CONNECT is not supported over HTTP/2");
        } else {
            try {
                request = Http2DownstreamStream.toRequest(streamId, headers, hasBody);
                ProxyOptions options = connection.engine().options;
                refusal = RequestPolicies.refuseMethod(request.method().name(), options);
                if (refusal == null) {
                    refusal = RequestPolicies.applyUnderscorePolicy(request.headers(), options);
                }
            } catch (Http2Exception | RuntimeException e) {
                request = Http2DownstreamStream.placeholderRequest(headers);
                refusal = Http2DownstreamStream.malformedRequest(e.getMessage(), e);
            }
        }
        ClientCertHeaders.apply(TlsHandshakeHandler.of(channel.parent()), request.headers());
        Http2DownstreamStream s = new Http2DownstreamStream(this, channel, request, hasBody && refusal == null,
                connectionReused);
        ProxyCall<?> c = connection.engine().newCall(s);
        stream = s;
        call = c;
        if (refusal != null) {
            c.rejectMalformed(refusal);
            return;
        }
        c.start();
        if (requestEnded && !finished) {
            c.requestBody().onPart(Unpooled.EMPTY_BUFFER, true, null);
        }
    }

    private void onData(Http2DataFrame data) {
        ProxyCall<?> c = call;
        boolean last = data.isEndStream();
        requestEnded |= last;
        if (c == null || finished) {
            data.release();
            return;
        }
        // Ownership of the bytes passes to the call; the frame is only their wrapper.
        c.requestBody().onPart(data.content(), last, null);
    }

    private void onTrailers(Http2HeadersFrame frame) {
        requestEnded = true;
        ProxyCall<?> c = call;
        if (c == null || finished) {
            return;
        }
        NettyHttpHeaders trailers;
        try {
            trailers = Http2DownstreamStream.toTrailers(frame.stream().id(), frame.headers());
        } catch (Http2Exception e) {
            c.requestBody().onMalformed(Http2DownstreamStream.malformedRequest("bad trailers", e));
            return;
        }
        c.requestBody().onPart(Unpooled.EMPTY_BUFFER, true, trailers.size() == 0 ? null : trailers);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2ResetFrame reset) {
            // The client cancelled the stream: the call stops, and its upstream attempt with it.
            ProxyCall<?> c = call;
            if (c != null && !finished && (stream == null || !stream.responseEnded())) {
                // A client's cancellation, not an operator's problem: logged as a closed connection.
                c.onDownstreamFailure(ProxyError.downstream(ErrorType.CONNECTION_CLOSED, "client reset the stream ("
                        + io.netty.handler.codec.http2.Http2Error.valueOf(reset.errorCode()) + ")", null));
            }
            return;
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (!ctx.channel().isWritable()) {
            if (sendTimer == null) {
                ProxyEngine<?> engine = connection.engine();
                sendTimer = new SendTimeout(engine.clock, channel.eventLoop(), engine.options.sendTimeout().toNanos(),
                        this::unsentBytes, this::onSendTimeout);
            }
            sendTimer.armIfUnsent();
        } else if (sendTimer != null) {
            sendTimer.cancel();
        }
        ProxyCall<?> c = call;
        if (c != null && !finished) {
            c.onDownstreamWritabilityChanged();
        }
        ctx.fireChannelWritabilityChanged();
    }

    /**
     * The bytes written to the stream that have not left for the connection while it is not writable
     * (a stream channel counts them until the flow controller writes them out: above the write
     * buffer's low-water mark then); 0 when it is writable or closed, which stops the send timer.
     */
    private long unsentBytes() {
        Channel ch = channel;
        return !ch.isActive() || ch.isWritable() ? 0
                : ch.config().getWriteBufferLowWaterMark() + ch.bytesBeforeWritable();
    }

    /** The client kept its window shut for the send timeout: the call ends, the stream is reset. */
    private void onSendTimeout() {
        ProxyCall<?> c = call;
        if (c != null && !finished) {
            c.onSendTimeout(connection.engine().options.sendTimeout());
        }
        // Not ended from the proxy's side: closing the stream's channel sends RST_STREAM CANCEL.
        channel.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (sendTimer != null) {
            sendTimer.cancel();
        }
        connection.streamClosed();
        ProxyCall<?> c = call;
        // A stream closes after a complete exchange too (both END_STREAMs written): not a failure then.
        if (c != null && !finished && (stream == null || !stream.responseEnded() || !requestEnded)) {
            c.onDownstreamFailure(null);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ProxyCall<?> c = call;
        if (cause instanceof Http2Exception.StreamException streamError) {
            // A stream error in the client's frames (a WINDOW_UPDATE of 0, DATA after END_STREAM ...).
            // Netty hands it to the stream's handler and then closes the stream's channel, which sends
            // no RST_STREAM once the client has ended its side: the RST_STREAM with the error (RFC 9113
            // §5.4.2) is ours to send. Without it the call would answer 400 and the stream would end as
            // a normal exchange, unseen by the reset limits that stop MadeYouReset (CVE-2025-8671).
            ctx.writeAndFlush(new DefaultHttp2ResetFrame(streamError.error()));
            if (c != null && !finished) {
                // The client's doing: the call ends as on a client's reset, quietly and without a response.
                c.onDownstreamFailure(ProxyError.downstream(ErrorType.CONNECTION_CLOSED, "stream error in the "
                        + "client's frames (" + streamError.error() + "): " + streamError.getMessage(), null));
            }
        } else if (c != null && !finished) {
            c.onDownstreamFailure(cause);
        }
        ctx.close();
    }

    /** Turns reading this stream's DATA on or off: while off, the client's window is not replenished. */
    void setReading(boolean on) {
        if (on != reading && channel != null) {
            reading = on;
            channel.config().setAutoRead(on);
        }
    }

    /** The call is over and {@code logging} ran: the stream ends from the proxy's side. */
    void streamFinished(Http2DownstreamStream s) {
        if (s != stream || finished) {
            return;
        }
        finished = true;
        s.end(requestEnded);
        // Whatever DATA is still queued for this stream is read (and dropped) so the connection
        // window is given back.
        setReading(true);
    }
}
