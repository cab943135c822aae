package dev.relay.transport.internal;

import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpHeaders;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.RequestHeader;
import dev.relay.core.RetryType;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

/**
 * One HTTP/1.1 exchange on one upstream {@link UpstreamConnection}: writes the request with Netty's
 * encoder, turns the decoder's response objects into listener events, and decides whether the
 * connection can carry another request afterwards (the response was framed and kept alive, the
 * whole request went out, and the origin sent nothing beyond the response).
 */
final class Http1UpstreamStream implements UpstreamStream {
    private final UpstreamConnection conn;
    private final HttpPeer peer;
    private final UpstreamConnectionPool pool;
    private final Channel channel;
    private @Nullable Listener listener;
    private boolean used;
    private boolean requestComplete;
    private boolean responseStarted;
    private boolean lastReceived;
    private boolean responseKeepAlive;
    private boolean skipInformationalBody;
    private boolean done;
    /** The client connection is held for an upgrade, so this request may carry {@code Upgrade} up. */
    private boolean upgradeAllowed;
    /** The request carried {@code Upgrade}: a {@code 101} is its answer, and it is never sent twice. */
    private boolean upgradeSent;
    /** The origin answered {@code 101}: what follows is not HTTP, and waits for the tunnel. */
    private boolean switched;
    /** Bytes the origin sent after its {@code 101}, until the tunnel takes them. */
    private @Nullable ByteBuf held;
    /**
     * The final response header, held until what came with it in the same read is known: a body whose
     * framing is broken there turns into a 502 instead of a header the client would see cut short.
     */
    private @Nullable HttpResponse heldHeader;
    /**
     * Told once when the exchange is over and the connection went back to the pool or closed: the
     * {@link PeerLimits} slot it held is free (null: no limit).
     */
    private final @Nullable Runnable onDone;

    Http1UpstreamStream(UpstreamConnection conn, HttpPeer peer, UpstreamConnectionPool pool) {
        this(conn, peer, pool, null);
    }

    Http1UpstreamStream(UpstreamConnection conn, HttpPeer peer, UpstreamConnectionPool pool,
                        @Nullable Runnable onDone) {
        this.conn = conn;
        this.peer = peer;
        this.pool = pool;
        this.channel = conn.channel;
        this.onDone = onDone;
    }

    private void done() {
        if (onDone != null) {
            onDone.run();
        }
    }

    @Override
    public void start(Listener listener) {
        this.listener = listener;
        conn.attach(this);
    }

    @Override
    public RequestHeader newRequestHeader(RequestHeader clientRequest, HttpPeer peer, boolean requestHasBody,
                                          long bufferedBodyLength, boolean upgrade) {
        HttpRequest request = UpstreamRequests.copy(clientRequest);
        io.netty.handler.codec.http.HttpHeaders headers = request.headers();
        boolean clientChunked = clientRequest instanceof NettyRequestHeader netty
                ? HttpUtil.isTransferEncodingChunked(netty.unwrap())
                : requestHasBody && !headers.contains(HttpHeaderNames.CONTENT_LENGTH);
        upgradeAllowed = upgrade;
        String upgradeTo = upgrade && TunnelRequests.asksForUpgrade(headers) ? headers.get(HttpHeaderNames.UPGRADE) : null;
        HopByHop.strip(headers);
        if (upgradeTo != null) {
            TunnelRequests.restoreUpgrade(headers, upgradeTo);
        }
        headers.remove(HttpHeaderNames.EXPECT);
        UpstreamRequests.defaultHost(headers, peer);
        if (bufferedBodyLength >= 0) {
            // The whole body is here: announce its exact length, whatever framing the client used.
            headers.set(HttpHeaderNames.CONTENT_LENGTH, bufferedBodyLength);
        } else if (clientChunked || requestHasBody && !headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            // A body of unknown length goes chunked: the client's was, or a filter removed its
            // Content-Length (a body it rewrites). Unframed, the origin would read the body as the next
            // request on the connection. Never both fields (RFC 9112 §6.1): a length a filter set on a
            // chunked body cannot be trusted.
            headers.remove(HttpHeaderNames.CONTENT_LENGTH);
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        return new NettyRequestHeader(request);
    }

    @Override
    public void writeHeader(RequestHeader upstreamRequest) {
        HttpRequest request = ((NettyRequestHeader) upstreamRequest).unwrap();
        used = true;
        // Only a held client connection can take a 101: an Upgrade a filter added to another request
        // is sent, but a 101 to it is an error, not a switch (and no header lookup on every request).
        upgradeSent = upgradeAllowed && request.headers().contains(HttpHeaderNames.UPGRADE);
        conn.decoder.expectResponseTo(HttpMethod.HEAD.equals(request.method()));
        // Failed writes surface as exceptionCaught on the upstream pipeline: no promise per write.
        channel.write(request, channel.voidPromise());
    }

    @Override
    public void writeBody(ByteBuf data, boolean last, @Nullable HttpHeaders trailers) {
        if (!last) {
            if (data.isReadable()) {
                channel.write(new DefaultHttpContent(data), channel.voidPromise());
            } else {
                data.release();
            }
            return;
        }
        requestComplete = true;
        channel.write(Http1Messages.lastPart(channel, data, trailers), channel.voidPromise());
    }

    @Override
    public void flush() {
        channel.flush();
    }

    @Override
    public boolean isWritable() {
        return channel.isWritable();
    }

    @Override
    public void setReading(boolean on) {
        if (!lastReceived && !switched) {
            channel.config().setAutoRead(on);
        }
    }

    @Override
    public void armReadTimeout(long timeoutNanos) {
        conn.armReadTimeout(timeoutNanos);
    }

    @Override
    public void progress() {
        conn.readProgress();
    }

    @Override
    public boolean switchedProtocols() {
        return switched;
    }

    @Override
    public ByteBuf switchToTunnel(io.netty.channel.ChannelHandler relay) {
        if (done) {
            throw new IllegalStateException("the exchange is over: " + this);
        }
        io.netty.channel.ChannelPipeline pipeline = channel.pipeline();
        // The decoder hands its unparsed bytes on as it leaves: they are held with the others, in order.
        pipeline.remove(conn.decoder);
        pipeline.remove(Http1Encoder.class);
        done = true;
        listener = null;
        done();
        conn.handOver();
        pipeline.replace(conn, ByteRelay.HANDLER, relay);
        ByteBuf early = held;
        held = null;
        return early != null ? early : io.netty.buffer.Unpooled.EMPTY_BUFFER;
    }

    private void releaseHeld() {
        if (held != null) {
            held.release();
            held = null;
        }
    }

    @Override
    public void release() {
        if (done) {
            return;
        }
        done = true;
        releaseHeld();
        heldHeader = null;
        listener = null;
        conn.detach();
        channel.config().setAutoRead(true);
        boolean clean = !used || responseKeepAlive && requestComplete && lastReceived;
        if (clean && conn.decoder.bufferedBytes() == 0) {
            pool.release(conn, peer);
        } else {
            // The upstream answered before the whole request went out, or framed its response by
            // closing, or sent more than it announced: that connection cannot carry another request.
            conn.close();
        }
        // After the connection is pooled: a waiter for a connection of this key takes it.
        done();
    }

    @Override
    public void abort() {
        if (!done) {
            done = true;
            listener = null;
            heldHeader = null;
            releaseHeld();
            conn.close();
            done();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Events of the connection (called by UpstreamConnection while this stream is attached)

    void onMessage(Object msg) {
        Listener l = listener;
        if (l == null) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof ByteBuf raw) {
            // Raw bytes: after a 101 (the decoder passes them through) or as the decoder leaves.
            held = ByteRelay.append(held, raw);
            return;
        }
        if (msg instanceof HttpResponse response) {
            if (response.decoderResult().isFailure()) {
                ReferenceCountUtil.release(msg);
                l.onFailure(ProxyError.upstream(ErrorType.INVALID_HTTP_HEADER, "invalid response header from upstream",
                        response.decoderResult().cause()));
                return;
            }
            int code = response.status().code();
            if (code == 101 && upgradeSent && !switched) {
                onSwitchingProtocols(l, response);
                return;
            }
            if (code >= 100 && code < 200) {
                // Interim responses (100, 103): passed on, the final one follows. A 101 to a request that
                // did not ask for an upgrade would switch protocols behind the client's back.
                if (code == 101) {
                    ReferenceCountUtil.release(msg);
                    l.onFailure(ProxyError.upstream(ErrorType.H1_ERROR,
                            "upstream switched protocols without being asked", null));
                    return;
                }
                skipInformationalBody = !(msg instanceof LastHttpContent);
                HttpResponse interim = new io.netty.handler.codec.http.DefaultHttpResponse(response.protocolVersion(),
                        response.status(), response.headers().copy());
                ReferenceCountUtil.release(msg);
                HopByHop.strip(interim.headers());
                // RFC 9110 §8.6: never on a 1xx, which ends at its empty line whatever it says (RFC 9112 §6.3).
                interim.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
                l.onInterimResponse(new NettyResponseHeader(interim));
                return;
            }
            prepareResponseHeader(response);
            if (msg instanceof HttpContent content) {
                // A response in one object: its body goes to the same listener, which releases it
                // if the header already ended the exchange.
                l.onResponseHeader(new NettyResponseHeader(response));
                onContent(l, content);
            } else {
                heldHeader = response;
            }
            return;
        }
        if (msg instanceof HttpContent content) {
            if (skipInformationalBody) {
                skipInformationalBody = !(content instanceof LastHttpContent);
                content.release();
                return;
            }
            if (heldHeader != null) {
                if (content.decoderResult().isFailure()) {
                    // Nothing of this response has reached the client: the failure alone answers it (502).
                    heldHeader = null;
                } else {
                    l = deliverHeldHeader(l);
                    if (l == null) {
                        content.release();
                        return;
                    }
                }
            }
            onContent(l, content);
            return;
        }
        ReferenceCountUtil.release(msg);
    }

    /** The origin accepted the upgrade: nothing more is read until the tunnel takes the connection. */
    private void onSwitchingProtocols(Listener l, HttpResponse response) {
        switched = true;
        responseStarted = true;
        channel.config().setAutoRead(false);
        // A FIN right after the 101 is passed on in the tunnel, not taken for the end of the exchange.
        channel.config().setOption(io.netty.channel.ChannelOption.ALLOW_HALF_CLOSURE, true);
        skipInformationalBody = !(response instanceof LastHttpContent);
        String upgradeTo = response.headers().get(HttpHeaderNames.UPGRADE);
        HopByHop.strip(response.headers());
        if (upgradeTo != null) {
            TunnelRequests.restoreUpgrade(response.headers(), upgradeTo);
        }
        if (response instanceof HttpContent content) {
            content.release();
        }
        l.onResponseHeader(new NettyResponseHeader(response));
    }

    private void prepareResponseHeader(HttpResponse response) {
        responseStarted = true;
        int code = response.status().code();
        boolean bodiless = conn.decoder.isHeadResponse() || code == 204 || code == 304;
        Http1Framing framing = Http1Framing.of(response);
        responseKeepAlive = framing.keepAlive() && (bodiless || framing.isDelimited());
        HopByHop.strip(response.headers());
    }

    /** Reports the held header; returns the listener that is still attached afterwards, or null. */
    private @Nullable Listener deliverHeldHeader(Listener l) {
        HttpResponse response = heldHeader;
        heldHeader = null;
        l.onResponseHeader(new NettyResponseHeader(response));
        return listener;
    }

    private void onContent(Listener l, HttpContent content) {
        if (content.decoderResult().isFailure()) {
            content.release();
            Throwable cause = content.decoderResult().cause();
            l.onFailure(cause instanceof PrematureChannelClosureException
                    ? ProxyError.upstream(ErrorType.CONNECTION_CLOSED, "upstream closed mid-body", cause)
                    : ProxyError.upstream(ErrorType.H1_ERROR, "invalid response body from upstream", cause));
            return;
        }
        boolean last = content instanceof LastHttpContent;
        HttpHeaders trailers = null;
        if (last) {
            lastReceived = true;
            io.netty.handler.codec.http.HttpHeaders t = ((LastHttpContent) content).trailingHeaders();
            trailers = t.isEmpty() ? null : new NettyHttpHeaders(t);
        }
        l.onResponseBody(content.content(), last, trailers);
    }

    void onInactive() {
        Listener l = listener;
        // A header still held is dropped: the client gets the failure's answer instead of a header cut short.
        heldHeader = null;
        if (l == null || lastReceived || switched) {
            // After a 101 the close is the tunnel's to see (what came before it is held).
            return;
        }
        l.onFailure(responseStarted
                ? ProxyError.upstream(ErrorType.CONNECTION_CLOSED, "upstream closed mid-response", null)
                : ProxyError.upstream(ErrorType.CONNECTION_CLOSED, "upstream closed before sending a response", null)
                        // An upgrade request is never sent twice: the origin may have acted on it.
                        .setRetryType(upgradeSent ? RetryType.NO : RetryType.REUSED_ONLY));
    }

    void onException(Throwable cause) {
        Listener l = listener;
        heldHeader = null;
        if (l == null) {
            return;
        }
        ProxyError e = Errors.io(cause, ErrorSource.UPSTREAM, responseStarted
                ? "reading the upstream response" : "waiting for the upstream response");
        if (responseStarted || upgradeSent) {
            // The upstream has answered (the request was processed), or the request asked to switch
            // protocols: it must not be sent again.
            e.setRetry(false);
        }
        l.onFailure(e);
    }

    /** The connection's read timer expired. */
    void onReadTimeout(long timeoutNanos) {
        Listener l = listener;
        if (l == null || lastReceived || switched) {
            return;
        }
        if (!channel.config().isAutoRead()) {
            // Reading is paused because the client is slow: that is not the upstream's fault.
            conn.armReadTimeout(timeoutNanos);
            return;
        }
        l.onReadTimeout();
    }

    void onReadComplete() {
        Listener l = listener;
        if (l != null && heldHeader != null) {
            l = deliverHeldHeader(l);
        }
        if (l != null) {
            l.onReadComplete();
        }
    }

    void onWritabilityChanged(boolean writable) {
        Listener l = listener;
        if (l != null) {
            l.onWritabilityChanged(writable);
        }
    }

    @Override
    public String toString() {
        return "Http1UpstreamStream{" + conn + '}';
    }
}
