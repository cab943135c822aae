package dev.relay.transport.internal;

import dev.relay.core.ErrorSource;
import dev.relay.core.ProxyError;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * The last handler of a downstream HTTP/1.1 connection: runs one {@link ProxyCall} at a time, each
 * over its own {@link Http1DownstreamStream},
 * holds back pipelined requests until the current response is done, drains the unread rest of a
 * request body to keep the connection reusable, and enforces the keep-alive idle, request-header
 * and send timeouts.
 */
public final class DownstreamHandler extends ChannelDuplexHandler implements DownstreamConnection {
    private static final long DRAIN_IDLE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);
    /** nginx's lingering_timeout: a lingering close ends once the client sends nothing for this long ... */
    private static final long LINGER_IDLE_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** ... and at the latest after nginx's lingering_time. */
    private static final long LINGER_MAX_NANOS = TimeUnit.SECONDS.toNanos(30);
    private final DownstreamListener listener;
    private final ProxyEngine<?> engine;
    /** Pipelined messages waiting for the current response; made on the first one (rare), dropped once empty. */
    private @org.jspecify.annotations.Nullable ArrayDeque<Object> queued;
    private Channel channel;
    private Http1DownstreamStream current;
    private boolean currentRequestComplete;
    private boolean discardingBody;
    private boolean awaitingRequest = true;
    private boolean headerStarted;
    /** A request header started in this read: its timer is armed when the read ends, if it is still incomplete. */
    private boolean headerTimerDue;
    private boolean reading = true;
    private int requestsOnConnection;
    /**
     * The one scheduled task of the connection, at the earlier of its two deadlines: the idle one
     * (keep-alive, request header, lingering close) and the send one. Sharing it, rather than a second
     * {@link LazyTimer} in a {@link SendTimeout}, saves about 200 bytes of heap per idle keep-alive
     * connection (the timer, its lambdas and a second scheduled task, which the last response's flush
     * left pending: io_uring writes complete after the flush returns).
     */
    private LazyTimer timer;
    private long idleDeadline;
    private boolean idleArmed;
    /**
     * Armed while written bytes wait to leave; see {@link dev.relay.transport.ProxyOptions#sendTimeout()}
     * and {@link SendTimeout}, whose rule this follows.
     */
    private long sendDeadline;
    private boolean sendArmed;
    /** What was waiting when the send timeout was last armed. */
    private long unsentWhenArmed;
    /** Counted in the engine's open connections (from channelActive until inactive or removed). */
    private boolean counted;

    /**
     * The connection is held for a tunnel: an upgrade or CONNECT request came, the HTTP decoder is
     * gone and nothing is read until the answer; what the client sent after its request waits here.
     */
    private boolean holding;
    private io.netty.buffer.@org.jspecify.annotations.Nullable ByteBuf early;
    /**
     * A lingering close is under way (since this {@link EngineClock} time; 0: none): the response went
     * out with {@code Connection: close} before the client finished sending its request, our side of the
     * connection is shut, and what the client still sends is read and dropped until it closes.
     */
    private long lingeringSince;

    DownstreamHandler(DownstreamListener listener) {
        this.listener = listener;
        this.engine = listener.engine;
    }

    /** This listener's request-body read timeout, in nanoseconds. */
    long bodyReadTimeoutNanos() {
        return listener.bodyReadNanos;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        timer = new LazyTimer(engine.clock, channel.eventLoop(), this::onTimer);
        counted = true;
        engine.openConnections.incrementAndGet();
        armTimer(listener.keepAliveNanos);
        ctx.fireChannelActive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        // Removed from a live connection when it turned out to speak HTTP/2: that handler counts it now.
        uncount();
    }

    private void uncount() {
        if (counted) {
            counted = false;
            engine.openConnections.decrementAndGet();
            idleArmed = false;
            sendArmed = false;
            timer.cancel();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        uncount();
        releaseQueued();
        releaseEarly();
        Http1DownstreamStream exchange = current;
        if (exchange != null) {
            exchange.call().onDownstreamFailure(null);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Http1DownstreamStream exchange = current;
        if (exchange != null) {
            exchange.call().onDownstreamFailure(cause);
        }
        ctx.close();
    }

    /**
     * Only flushes pass here (writes skip this handler): a flush that leaves bytes behind, however few,
     * starts the send timer, as nginx arms send_timeout whenever a write could not finish. Without it a
     * client that stops reading a response whose tail fits under the high-water mark would hold the
     * connection and its call forever: the connection never turns unwritable.
     */
    @Override
    public void flush(ChannelHandlerContext ctx) {
        ctx.flush();
        armSendTimerIfUnsent();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // Either way bytes are waiting or have just left (progress): the timer starts over.
        armSendTimerIfUnsent();
        Http1DownstreamStream exchange = current;
        if (exchange != null) {
            exchange.call().onDownstreamWritabilityChanged();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (lingeringSince != 0) {
            ReferenceCountUtil.release(msg);
            if (engine.clock.nanoTime() - lingeringSince < LINGER_MAX_NANOS) {
                armTimer(LINGER_IDLE_NANOS);
            }
            return;
        }
        if (msg instanceof ByteBuf raw) {
            // Raw bytes come only once the decoder is gone (a held connection): they wait for the answer.
            if (holding) {
                early = ByteRelay.append(early, raw);
            } else {
                raw.release();
            }
            return;
        }
        if (current != null) {
            if (!currentRequestComplete && msg instanceof HttpContent content && !(msg instanceof HttpRequest)) {
                currentRequestComplete = msg instanceof LastHttpContent;
                current.onContent(content);
            } else {
                // A pipelined request: it waits until the current response is complete.
                queue(msg);
                setReading(false);
            }
            return;
        }
        if (hasQueued()) {
            queue(msg);
            return;
        }
        handle(msg);
    }

    private void handle(Object msg) {
        if (discardingBody) {
            if (msg instanceof HttpContent && !(msg instanceof HttpRequest)) {
                discardingBody = !(msg instanceof LastHttpContent);
                ReferenceCountUtil.release(msg);
                return;
            }
            discardingBody = false;
        }
        if (!(msg instanceof HttpRequest request)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (request.decoderResult().isFailure()
                && (request.decoderResult().cause() instanceof io.netty.handler.codec.PrematureChannelClosureException
                    || !channel.isActive())) {
            // The client closed in the middle of a request header (or after a 408): there is no
            // request to answer or log, only a connection that ended.
            ReferenceCountUtil.release(msg);
            return;
        }
        cancelTimer();
        awaitingRequest = false;
        headerStarted = false;
        requestsOnConnection++;
        ClientCertHeaders.apply(TlsHandshakeHandler.of(channel), request.headers());
        TunnelRequests.Kind tunnel = request.decoderResult().isFailure() ? TunnelRequests.Kind.NONE
                : TunnelRequests.kind(request);
        if (tunnel == TunnelRequests.Kind.UPGRADE && hasQueued()) {
            // Bytes behind a pipelined upgrade request were parsed as HTTP already: they could not be
            // passed on as they came, so this one is an ordinary request (Upgrade is not forwarded).
            tunnel = TunnelRequests.Kind.NONE;
        }
        Http1DownstreamStream exchange = new Http1DownstreamStream(this, channel, request, requestsOnConnection > 1,
                tunnel);
        ProxyCall<?> call = engine.newCall(exchange);
        exchange.bind(call);
        current = exchange;
        currentRequestComplete = msg instanceof LastHttpContent;
        ProxyError refusal = request.decoderResult().isFailure()
                ? Http1DownstreamStream.malformedRequest(request.decoderResult().cause())
                : tunnel == TunnelRequests.Kind.CONNECT ? refuseConnect(request)
                : RequestPolicies.refuseMethod(request.method().name(), engine.options);
        if (refusal != null) {
            // The decoder discards everything after a malformed request; so do we.
            setReading(false);
            ReferenceCountUtil.release(msg);
            call.rejectMalformed(refusal);
            return;
        }
        if (tunnel != TunnelRequests.Kind.NONE) {
            hold();
        }
        call.start();
        if (msg instanceof HttpContent content && current == exchange) {
            exchange.onContent(content);
        }
    }

    /** Why a CONNECT is refused on this listener (405 when it allows none, 403 for another target), or null. */
    private @org.jspecify.annotations.Nullable ProxyError refuseConnect(HttpRequest request) {
        if (listener.connectAllow.isEmpty()) {
            return ProxyError.httpStatus(405, ErrorSource.DOWNSTREAM)
                    .setContext("CONNECT is not enabled on this listener");
        }
        java.net.InetSocketAddress target = TunnelRequests.connectTarget(request.uri());
        if (target == null) {
            return ProxyError.httpStatus(400, ErrorSource.DOWNSTREAM)
                    .setContext("CONNECT target is not host:port: " + request.uri());
        }
        if (hasQueued()) {
            return ProxyError.httpStatus(400, ErrorSource.DOWNSTREAM)
                    .setContext("CONNECT pipelined behind other requests");
        }
        if (!listener.connectAllow.allows(target)) {
            return ProxyError.httpStatus(403, ErrorSource.DOWNSTREAM)
                    .setContext("CONNECT target not allowed: " + request.uri());
        }
        return null;
    }

    /**
     * Holds the connection for a tunnel (Pingora CVE-2026-2833): reading stops until the answer, and
     * the HTTP decoder leaves now, so the bytes the client sends after its request stay raw and
     * unparsed. They go to the origin only after it switched protocols; on any other answer they are
     * dropped and the connection closes after the response.
     */
    private void hold() {
        holding = true;
        setReading(false);
        // A FIN while the answer is awaited must not end the exchange: it is passed on in the tunnel.
        channel.config().setOption(io.netty.channel.ChannelOption.ALLOW_HALF_CLOSURE, true);
        removeDecoder();
    }

    /** Takes the HTTP decoder out: it hands its unparsed bytes on as it leaves (they land in channelRead). */
    private void removeDecoder() {
        Http1ServerCodec codec = channel.pipeline().get(Http1ServerCodec.class);
        if (codec != null) {
            codec.removeInboundHandler();
        }
    }

    /** Whether this connection is held for a tunnel (its HTTP decoder is gone). */
    boolean isHolding() {
        return holding;
    }

    /** The bytes the client sent after its tunnel request (ownership passes to the caller; may be empty). */
    ByteBuf takeEarly() {
        ByteBuf taken = early;
        early = null;
        return taken != null ? taken : Unpooled.EMPTY_BUFFER;
    }

    private void releaseEarly() {
        if (early != null) {
            early.release();
            early = null;
        }
    }

    /** Called by the call's stream once its response is done and {@code logging} has run. */
    void exchangeFinished(Http1DownstreamStream exchange, boolean reusable, boolean requestComplete) {
        if (current != exchange) {
            return;
        }
        current = null;
        releaseEarly();
        if (!reusable && !requestComplete && !holding && channel.isActive()
                && channel instanceof io.netty.channel.socket.DuplexChannel) {
            lingeringClose();
            return;
        }
        if (!reusable || !channel.isActive() || holding) {
            channel.close();
            return;
        }
        discardingBody = !requestComplete;
        awaitingRequest = true;
        headerStarted = false;
        long idle = listener.keepAliveNanos;
        if (engine.isDraining()) {
            // This response promised keep-alive before the drain began, so the client may already
            // be sending its next request: serve it (with Connection: close), but do not wait long.
            idle = Math.min(idle, DRAIN_IDLE_NANOS);
        }
        armTimer(idle);
        drainQueued();
        if (current == null) {
            setReading(true);
        }
    }

    /**
     * RFC 9112 §9.6's lingering close, as nginx does it: the client is still sending the request this
     * response refused (a 413, a 401 before the body), so closing now would meet its bytes with a TCP
     * reset, and a reset can destroy the response in the client's receive buffer before it is read.
     * Instead our side is shut once the response has left (a FIN after it; under TLS a close_notify
     * first), and the client's bytes are read and dropped until it closes, goes quiet for
     * {@link #LINGER_IDLE_NANOS}, or {@link #LINGER_MAX_NANOS} have passed.
     */
    private void lingeringClose() {
        lingeringSince = Math.max(1, engine.clock.nanoTime());
        releaseQueued();
        awaitingRequest = false;
        // What still comes is dropped unparsed: no decoding of an upload nobody reads.
        removeDecoder();
        armTimer(LINGER_IDLE_NANOS);
        io.netty.handler.ssl.SslHandler tls = channel.pipeline().get(io.netty.handler.ssl.SslHandler.class);
        // Written from the first handler, the empty buffer passes no encoder and completes once every
        // byte written before it has gone to the socket: only then may the output be shut.
        io.netty.channel.ChannelFuture sent = tls != null ? tls.closeOutbound()
                : channel.pipeline().firstContext().writeAndFlush(Unpooled.EMPTY_BUFFER);
        sent.addListener(f -> {
            if (f.isSuccess() && channel.isActive()) {
                ((io.netty.channel.socket.DuplexChannel) channel).shutdownOutput().addListener(shut -> {
                    if (!shut.isSuccess()) {
                        channel.close();
                    }
                });
            } else {
                channel.close();
            }
        });
        setReading(true);
    }

    /**
     * Serves held-back pipelined messages: a request starts an exchange, and the body parts that
     * follow it go to that exchange, until one is waiting for its response again.
     */
    private void drainQueued() {
        ArrayDeque<Object> queued = this.queued;
        if (queued == null) {
            return;
        }
        Object m;
        while ((m = queued.peek()) != null) {
            if (current == null) {
                queued.poll();
                handle(m);
            } else if (!currentRequestComplete && m instanceof HttpContent content && !(m instanceof HttpRequest)) {
                queued.poll();
                currentRequestComplete = m instanceof LastHttpContent;
                current.onContent(content);
            } else {
                return;
            }
        }
        if (this.queued == queued) {
            this.queued = null;
        }
    }

    private void queue(Object msg) {
        if (queued == null) {
            queued = new ArrayDeque<>(2);
        }
        queued.add(msg);
    }

    private boolean hasQueued() {
        return queued != null && !queued.isEmpty();
    }

    private void releaseQueued() {
        if (queued != null) {
            Object m;
            while ((m = queued.poll()) != null) {
                ReferenceCountUtil.release(m);
            }
            queued = null;
        }
    }

    /** Turns reading from the client on or off (backpressure and pipelining). */
    void setReading(boolean on) {
        if (on && (holding || hasQueued())) {
            // Pipelined requests are waiting: read no more until they have been served.
            on = false;
        }
        if (on != reading) {
            reading = on;
            channel.config().setAutoRead(on);
        }
    }

    /** Closes the connection if no request is in progress (graceful shutdown). Call on the event loop. */
    public void closeIfIdle() {
        if (current == null && channel != null) {
            channel.close();
        }
    }

    @Override
    public void drain(boolean closeIdle, long graceMillis) {
        // In-flight responses close their connections (Connection: close) as the engine drains.
        if (closeIdle) {
            closeIfIdle();
        }
    }

    @Override
    public void closeNow() {
        if (channel != null) {
            channel.close();
        }
    }

    /**
     * Called by {@link Http1ServerCodec} on bytes from the client, before it decodes them: a request
     * header has started. Its timer starts at the end of the read ({@link #onRequestBytesRead}), and
     * only if the header is still incomplete then: a request that arrives whole in one read (nearly all
     * of them) costs no clock read and no re-arm for it. No timer can fire in between.
     */
    void onRequestBytes() {
        if (awaitingRequest && !headerStarted && current == null) {
            headerStarted = true;
            headerTimerDue = true;
        }
    }

    /** Called by {@link Http1ServerCodec} when a read ends: starts the timer of a request header still in the making. */
    void onRequestBytesRead() {
        if (headerTimerDue) {
            headerTimerDue = false;
            if (awaitingRequest && headerStarted && current == null) {
                // The header deadline replaces the keep-alive one.
                armTimer(listener.headerReadNanos);
            }
        }
    }

    /** Arms the idle timeout (keep-alive, request header or lingering close) {@code nanos} from now. */
    private void armTimer(long nanos) {
        idleDeadline = engine.clock.nanoTime() + nanos;
        idleArmed = true;
        scheduleEarliestDeadline();
    }

    private void cancelTimer() {
        idleArmed = false;
        scheduleEarliestDeadline();
    }

    /** Starts the send timeout over when bytes wait (after a flush that left some behind, or progress). */
    private void armSendTimerIfUnsent() {
        long unsent = unsentBytes();
        if (unsent > 0) {
            unsentWhenArmed = unsent;
            sendDeadline = engine.clock.nanoTime() + listener.sendTimeoutNanos;
            sendArmed = true;
            scheduleEarliestDeadline();
        }
    }

    private void scheduleEarliestDeadline() {
        if (idleArmed && (!sendArmed || idleDeadline - sendDeadline <= 0)) {
            timer.armAt(idleDeadline);
        } else if (sendArmed) {
            timer.armAt(sendDeadline);
        } else {
            timer.disarm();
        }
    }

    /** The shared timer expired: runs whichever timeout is due, then waits for the one still armed. */
    private void onTimer() {
        long now = engine.clock.nanoTime();
        if (sendArmed && sendDeadline - now <= 0) {
            sendArmed = false;
            onSendDeadline();
        }
        if (idleArmed && idleDeadline - now <= 0) {
            idleArmed = false;
            onTimeout();
        }
        if (counted) {
            scheduleEarliestDeadline();
        }
    }

    /**
     * The send deadline passed: with nothing waiting the timeout stops; with fewer bytes waiting than
     * when it was armed it starts over (they left: progress); otherwise the client read nothing for the
     * whole timeout.
     */
    private void onSendDeadline() {
        long unsent = unsentBytes();
        if (unsent == 0) {
            return;
        }
        if (unsent < unsentWhenArmed) {
            armSendTimerIfUnsent();
            return;
        }
        onSendTimeout();
    }

    private void onTimeout() {
        if (current != null || !channel.isActive()) {
            return;
        }
        if (headerStarted) {
            // Slowloris defence: a request header that does not arrive in time gets 408 and the door.
            DefaultFullHttpResponse timeout = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.REQUEST_TIMEOUT, Unpooled.EMPTY_BUFFER);
            timeout.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            timeout.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
            channel.writeAndFlush(timeout).addListener(ChannelFutureListener.CLOSE);
            // No call exists yet to log it: the client error is recorded here, quietly, as any other.
            engine.errorLog.recordClientError(ProxyError.downstream(dev.relay.core.ErrorType.READ_TIMEDOUT,
                    "request header not complete within " + TimeUnit.NANOSECONDS.toMillis(listener.headerReadNanos) + " ms",
                    null), 408, true, () -> ClientAddresses.client(channel), () -> "-");
        } else {
            channel.close();
        }
    }

    /**
     * The bytes written to the connection that have not left for the socket yet: all pending ones
     * less what already went of the first (a large buffer leaves in parts, and each part is progress).
     */
    private long unsentBytes() {
        // A closed connection has no outbound buffer: nothing waits.
        ChannelOutboundBuffer out = channel.unsafe().outboundBuffer();
        return out == null ? 0 : out.totalPendingWriteBytes() - out.currentProgress();
    }

    /**
     * The client read nothing of what waits for the send timeout: the call ends with a downstream
     * write timeout, which cancels its upstream attempt (or, when the whole response was written
     * already, is what its logging phase sees), and the connection closes, which fails the writes
     * still queued.
     */
    private void onSendTimeout() {
        Http1DownstreamStream exchange = current;
        if (exchange != null) {
            exchange.call().onSendTimeout(engine.options.sendTimeout());
        }
        channel.close();
    }
}
