package dev.relay.transport.internal;

import dev.relay.core.AttemptOutcome;
import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.FailToProxy;
import dev.relay.core.HttpModule;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.ProxyHttp;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.RetryType;
import dev.relay.core.Session;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
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
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;

import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * One request through the proxy: the state machine that calls the {@link ProxyHttp} phases in
 * Pingora's order, the {@link Session} the phases see, and the {@link UpstreamListener} of the
 * upstream connection in use. Everything runs on the downstream connection's event loop.
 *
 * <p>Buffer ownership: a body chunk read from either side belongs to this exchange until it is
 * written to the other side (the write releases it) or released here; the replay buffer holds
 * retained duplicates of what was sent upstream and releases them when the exchange ends.
 */
final class ProxyExchange<C> implements Session, UpstreamListener {
    // Where an asynchronous phase resumes (one switch instead of a continuation object per phase).
    private static final int AFTER_EARLY_REQUEST_FILTER = 1;
    private static final int AFTER_MODULE_REQUEST_FILTER = 2;
    private static final int AFTER_REQUEST_FILTER = 3;
    private static final int AFTER_PROXY_UPSTREAM_FILTER = 4;
    private static final int AFTER_UPSTREAM_PEER = 5;
    private static final int AFTER_UPSTREAM_REQUEST_FILTER = 6;
    private static final int AFTER_REQUEST_BODY_FILTER = 7;
    private static final int AFTER_RESPONSE_FILTER = 8;
    private static final int AFTER_FAIL_TO_PROXY = 9;
    private static final int AFTER_LOGGING = 10;
    private static final int AFTER_UPSTREAM_REFUSED_RESPONSE = 11;

    private static final io.netty.handler.codec.http.DefaultHttpHeadersFactory TRUSTED_HEADERS =
            io.netty.handler.codec.http.DefaultHttpHeadersFactory.headersFactory()
                    .withNameValidation(false).withValueValidation(false);

    private final ProxyEngine<C> engine;
    private final ProxyHttp<C> proxy;
    private final DownstreamHandler downstream;
    private final Channel channel;
    private final EventLoop loop;
    private final HttpRequest request;
    private final NettyRequestHeader requestHeader;
    private final boolean connectionReused;
    private final boolean headRequest;
    /** No Content-Length above 0 and no chunked coding: the request has no body at all (RFC 9112 §6.3). */
    private final boolean bodiless;
    private final long startNanos = System.nanoTime();
    private final HttpModule[] modules;
    private final ByteBufBodyChunk chunk = new ByteBufBodyChunk();
    private C ctx;
    private int moduleIndex;

    // Downstream request body.
    private final ArrayDeque<HttpContent> pendingRequestBody = new ArrayDeque<>(4);
    private boolean requestComplete;
    private boolean requestBodyForwarded;
    private long requestBodyBytes;
    private boolean expectContinue;
    private boolean continueSent;
    private ArrayList<ByteBuf> replay;
    private int replayBytes;
    private boolean replayTruncated;
    private boolean requestBodyFilterBusy;
    private boolean busyChunkLast;
    private io.netty.handler.codec.http.HttpHeaders busyChunkTrailers;

    // The current upstream attempt.
    private int attempts;
    /** Bumped at each attempt: late completions of an abandoned attempt's phases are recognised by it. */
    private int attemptGeneration;
    private HttpPeer peer;
    private UpstreamConnection upstream;
    private boolean upstreamReused;
    private boolean attemptOpen;
    private long attemptStartNanos;
    private long upstreamConnectNanos;
    private boolean upstreamHeaderSent;
    private boolean upstreamRequestComplete;
    private boolean upstreamResponseStarted;
    private boolean upstreamLastReceived;
    private boolean upstreamKeepAlive;
    private boolean skipInformationalBody;
    private boolean responseFilterBusy;
    private boolean responsePaused;
    private HttpResponse upstreamResponse;
    private NettyResponseHeader upstreamResponseView;
    private final ArrayDeque<HttpContent> pendingResponseBody = new ArrayDeque<>(4);

    // Downstream response.
    private boolean responseHeaderWritten;
    private boolean responseComplete;
    private boolean chunkedResponse;
    private int responseStatus;
    private long responseBodyBytes;
    private boolean keepAlive;
    private boolean shortCircuited;
    private ChannelFuture lastWrite;

    // Timers (each null when not running) and the progress they watch.
    private long readTimeoutNanos;
    private io.netty.util.concurrent.ScheduledFuture<?> upstreamWriteTimer;
    private io.netty.util.concurrent.ScheduledFuture<?> bodyReadTimer;
    private io.netty.util.concurrent.ScheduledFuture<?> deadlineTimer;
    private long lastDownstreamProgress;

    // Whole-body buffering (Session.readRequestBody).
    private CompletableFuture<byte[]> bodyBufferPromise;
    private int bodyBufferLimit;
    private boolean bodyBuffered;
    private long bufferedBodyLength;

    // End.
    private ProxyError error;
    private boolean failing;
    private boolean finishing;
    private boolean released;

    ProxyExchange(ProxyEngine<C> engine, DownstreamHandler downstream, Channel channel, HttpRequest request,
                  boolean connectionReused) {
        this.engine = engine;
        this.proxy = engine.proxy;
        this.downstream = downstream;
        this.channel = channel;
        this.loop = channel.eventLoop();
        this.request = request;
        this.requestHeader = new NettyRequestHeader(request);
        this.connectionReused = connectionReused;
        this.headRequest = HttpMethod.HEAD.equals(request.method());
        this.keepAlive = HttpUtil.isKeepAlive(request) && !engine.isDraining();
        this.expectContinue = HttpUtil.is100ContinueExpected(request);
        this.bodiless = !HttpUtil.isTransferEncodingChunked(request) && HttpUtil.getContentLength(request, 0L) <= 0;
        HttpModule[] created = new HttpModule[engine.moduleFactories.length];
        this.modules = created;
    }

    // ---------------------------------------------------------------------------------------------
    // Phases

    /** Starts the phases for a well-formed request. */
    void start() {
        engine.activeRequests.incrementAndGet();
        engine.requests.increment();
        Duration deadline = engine.options.requestDeadline();
        if (deadline != null) {
            deadlineTimer = loop.schedule(this::onDeadline, deadline.toNanos(), TimeUnit.NANOSECONDS);
        }
        lastDownstreamProgress = startNanos;
        armBodyReadTimer();
        try {
            for (int i = 0; i < modules.length; i++) {
                modules[i] = engine.moduleFactories[i].newModule();
            }
            ctx = proxy.newCtx();
            await(proxy.earlyRequestFilter(this, ctx), AFTER_EARLY_REQUEST_FILTER, "earlyRequestFilter");
        } catch (Throwable t) {
            failRequest(ProxyError.from(t, "newCtx/earlyRequestFilter"));
        }
    }

    /** Answers a request the decoder rejected: 400 (or 414/431), connection closed, logged once. */
    void rejectMalformed(Throwable cause) {
        engine.activeRequests.incrementAndGet();
        engine.requests.increment();
        keepAlive = false;
        // The body of a malformed request cannot be framed: nothing more is read from this connection.
        requestComplete = true;
        int status = 400;
        if (cause instanceof io.netty.handler.codec.http.TooLongHttpLineException) {
            status = 414;
        } else if (cause instanceof io.netty.handler.codec.http.TooLongHttpHeaderException) {
            status = 431;
        }
        ProxyError e = status == 400
                ? ProxyError.downstream(ErrorType.H1_ERROR, "malformed request", cause)
                : ProxyError.httpStatus(status).setContext("request header too large: " + cause.getMessage());
        try {
            ctx = proxy.newCtx();
        } catch (Throwable t) {
            // The context is for logging only here; a failing newCtx leaves it null.
            ctx = null;
        }
        failRequest(e);
    }

    private void runModuleRequestFilters() {
        while (moduleIndex < modules.length) {
            HttpModule module = modules[moduleIndex++];
            CompletionStage<Void> stage;
            try {
                stage = module.requestHeaderFilter(this);
            } catch (Throwable t) {
                failRequest(ProxyError.from(t, "module requestHeaderFilter"));
                return;
            }
            if (!isDoneNormally(stage)) {
                await(stage, AFTER_MODULE_REQUEST_FILTER, "module requestHeaderFilter");
                return;
            }
            if (responseHeaderWritten) {
                afterRequestFilter(true);
                return;
            }
        }
        try {
            await(proxy.requestFilter(this, ctx), AFTER_REQUEST_FILTER, "requestFilter");
        } catch (Throwable t) {
            failRequest(ProxyError.from(t, "requestFilter"));
        }
    }

    private void afterRequestFilter(boolean responded) {
        if (responded) {
            shortCircuited = true;
            if (!responseHeaderWritten) {
                failRequest(ProxyError.internal("requestFilter returned true without writing a response", null));
            } else if (responseComplete) {
                finishAfterLastWrite();
            }
            // Otherwise the filter is still writing: the write of the last part finishes the request.
            return;
        }
        try {
            await(proxy.proxyUpstreamFilter(this, ctx), AFTER_PROXY_UPSTREAM_FILTER, "proxyUpstreamFilter");
        } catch (Throwable t) {
            failRequest(ProxyError.from(t, "proxyUpstreamFilter"));
        }
    }

    private void afterProxyUpstreamFilter(boolean proceed) {
        if (proceed) {
            beginAttempt();
            return;
        }
        shortCircuited = true;
        if (!responseHeaderWritten) {
            await(respondError(502), AFTER_UPSTREAM_REFUSED_RESPONSE, "proxyUpstreamFilter response");
        } else if (responseComplete) {
            finishAfterLastWrite();
        }
    }

    private void beginAttempt() {
        attempts++;
        attemptGeneration++;
        try {
            await(proxy.upstreamPeer(this, ctx), AFTER_UPSTREAM_PEER, "upstreamPeer");
        } catch (Throwable t) {
            failRequest(ProxyError.from(t, "upstreamPeer"));
        }
    }

    private void afterUpstreamPeer(HttpPeer selected) {
        if (selected == null) {
            failRequest(ProxyError.of(ErrorType.NO_PEER, ErrorSource.INTERNAL, "upstreamPeer gave no peer", null));
            return;
        }
        this.peer = selected;
        attemptOpen = true;
        attemptStartNanos = System.nanoTime();
        engine.options.upstreamObserver().onAttemptStart(selected);
        UpstreamConnection pooled = engine.pool.checkout(selected.reuseKey());
        if (pooled != null) {
            upstreamConnectNanos = 0;
            onConnected(pooled, true);
            return;
        }
        long connectStart = System.nanoTime();
        Future<UpstreamConnection> connect = engine.connector.connect(selected, loop);
        HttpPeer attemptPeer = selected;
        int attempt = attempts;
        connect.addListener(f -> {
            if (f.isSuccess()) {
                UpstreamConnection conn = (UpstreamConnection) f.getNow();
                if (isStale(attemptPeer, attempt)) {
                    engine.pool.release(conn, attemptPeer);
                    return;
                }
                upstreamConnectNanos = System.nanoTime() - connectStart;
                onConnected(conn, false);
            } else if (!isStale(attemptPeer, attempt)) {
                onConnectFailed(Errors.connectFailure(f.cause(), "connect " + attemptPeer));
            }
        });
    }

    /** Whether a late callback belongs to an attempt that is over (the request failed or moved on). */
    private boolean isStale(HttpPeer attemptPeer, int attempt) {
        return released || failing || finishing || attempt != attempts || attemptPeer != peer;
    }

    private void onConnectFailed(ProxyError e) {
        if (e.peer() == null) {
            e.setPeer(peer);
        }
        endAttempt(AttemptOutcome.CONNECT_FAILURE);
        ProxyError decided;
        try {
            decided = proxy.failToConnect(this, peer, ctx, e);
        } catch (Throwable t) {
            failRequest(ProxyError.from(t, "failToConnect"));
            return;
        }
        if (decided.isRetry() && attempts < engine.options.maxAttempts()) {
            logRetry(decided);
            retry();
        } else {
            failRequest(decided);
        }
    }

    private void onConnected(UpstreamConnection conn, boolean reused) {
        this.upstream = conn;
        this.upstreamReused = reused;
        conn.attach(this);
        try {
            proxy.connectedToUpstream(this, reused, peer, ctx);
        } catch (Throwable t) {
            failRequest(ProxyError.from(t, "connectedToUpstream"));
            return;
        }
        upstreamResponse = null;
        // The client's fields were validated by the decoder; copying them need not validate again.
        io.netty.handler.codec.http.HttpHeaders copied = TRUSTED_HEADERS.newHeaders();
        copied.set(request.headers());
        HttpRequest upstreamRequest = new DefaultHttpRequest(HttpVersion.HTTP_1_1, request.method(), request.uri(),
                copied);
        io.netty.handler.codec.http.HttpHeaders headers = upstreamRequest.headers();
        HopByHop.strip(headers);
        headers.remove(HttpHeaderNames.EXPECT);
        if (!headers.contains(HttpHeaderNames.HOST)) {
            headers.set(HttpHeaderNames.HOST, peer.hostAndPort());
        }
        if (bodyBuffered) {
            // The whole body is here: announce its exact length, whatever framing the client used.
            headers.set(HttpHeaderNames.CONTENT_LENGTH, bufferedBodyLength);
        } else if (HttpUtil.isTransferEncodingChunked(request)) {
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        upstreamRequestView = new NettyRequestHeader(upstreamRequest);
        try {
            await(proxy.upstreamRequestFilter(this, upstreamRequestView, ctx), AFTER_UPSTREAM_REQUEST_FILTER,
                    "upstreamRequestFilter");
        } catch (Throwable t) {
            upstreamFailure(ProxyError.from(t, "upstreamRequestFilter"));
        }
    }

    private NettyRequestHeader upstreamRequestView;

    private void afterUpstreamRequestFilter() {
        UpstreamConnection conn = upstream;
        if (conn == null) {
            return;
        }
        Channel up = conn.channel;
        conn.decoder.expectResponseTo(headRequest);
        // Failed writes surface as exceptionCaught on the upstream pipeline: no promise per write.
        up.write(upstreamRequestView.unwrap(), up.voidPromise());
        upstreamHeaderSent = true;
        if (replay != null && !replay.isEmpty()) {
            for (ByteBuf buf : replay) {
                up.write(new DefaultHttpContent(buf.retainedDuplicate()), up.voidPromise());
            }
        }
        armUpstreamReadTimer();
        if (requestBodyForwarded) {
            up.write(LastHttpContent.EMPTY_LAST_CONTENT, up.voidPromise());
            upstreamRequestComplete = true;
        } else if (bodiless) {
            // Runs the body phases once with the empty end-of-stream chunk and writes the end of the
            // request together with its header.
            processRequestChunk(LastHttpContent.EMPTY_LAST_CONTENT);
        }
        up.flush();
        if (expectContinue && !continueSent && !requestComplete && !responseHeaderWritten) {
            continueSent = true;
            channel.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
                    Unpooled.EMPTY_BUFFER));
        }
        pumpRequestBody();
    }


    // ---------------------------------------------------------------------------------------------
    // Request body (downstream → upstream)

    /** A body part of this request arrived from the client; ownership passes to the exchange. */
    void onRequestContent(HttpContent content) {
        if (content.decoderResult().isFailure()) {
            content.release();
            requestComplete = true;
            keepAlive = false;
            ProxyError e = ProxyError.downstream(ErrorType.H1_ERROR, "malformed request body",
                    content.decoderResult().cause());
            if (upstream != null || upstreamHeaderSent) {
                upstreamFailureNoRetry(e);
            } else {
                failRequest(e);
            }
            return;
        }
        if (bodiless && content instanceof LastHttpContent && !content.content().isReadable()) {
            // The end marker of a request without a body: the body phases already ran with an empty
            // end-of-stream chunk when the header went upstream (one write, one flush).
            content.release();
            requestComplete = true;
            updateDownstreamReading();
            return;
        }
        requestBodyBytes += content.content().readableBytes();
        lastDownstreamProgress = System.nanoTime();
        if (content instanceof LastHttpContent) {
            requestComplete = true;
        }
        if (failing || finishing || released) {
            content.release();
            return;
        }
        pendingRequestBody.add(content);
        if (bodyBufferPromise != null && !bodyBuffered) {
            checkBufferedBody();
            updateDownstreamReading();
            return;
        }
        pumpRequestBody();
    }

    @Override
    public CompletionStage<byte[]> readRequestBody(int maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: >= 0)");
        }
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        onLoop(() -> {
            if (attempts > 0 || bodyBufferPromise != null) {
                throw new IllegalStateException("readRequestBody: call it once, before upstreamPeer");
            }
            bodyBufferLimit = maxBytes;
            bodyBufferPromise = result;
            if (expectContinue && !continueSent && !requestComplete && !responseHeaderWritten) {
                continueSent = true;
                channel.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
                        Unpooled.EMPTY_BUFFER));
            }
            checkBufferedBody();
            updateDownstreamReading();
        }).whenComplete((v, t) -> {
            if (t != null) {
                result.completeExceptionally(t);
            }
        });
        return result;
    }

    /** Completes readRequestBody once the body is all here, or fails it with 413 once it is too long. */
    private void checkBufferedBody() {
        long held = 0;
        for (HttpContent c : pendingRequestBody) {
            held += c.content().readableBytes();
        }
        if (held > bodyBufferLimit) {
            keepAlive = false;
            bodyBufferPromise.completeExceptionally(ProxyError.httpStatus(413)
                    .setContext("request body longer than " + bodyBufferLimit + " bytes"));
            return;
        }
        if (!requestComplete) {
            return;
        }
        byte[] body = new byte[(int) held];
        int offset = 0;
        for (HttpContent c : pendingRequestBody) {
            ByteBuf buf = c.content();
            int n = buf.readableBytes();
            buf.getBytes(buf.readerIndex(), body, offset, n);
            offset += n;
        }
        bodyBuffered = true;
        bufferedBodyLength = held;
        bodyBufferPromise.complete(body);
    }

    private void pumpRequestBody() {
        HttpContent content;
        while (upstreamHeaderSent && upstream != null && !requestBodyFilterBusy && !failing
                && (content = pendingRequestBody.poll()) != null) {
            processRequestChunk(content);
        }
        updateDownstreamReading();
    }

    /** Reads from the client only while its body has somewhere to go, so memory stays bounded. */
    void updateDownstreamReading() {
        if (requestComplete) {
            // Nothing more of this request to read. Reading stays on (toggling it costs a syscall on
            // io_uring and epoll); a pipelined request that arrives meanwhile is held by the
            // connection handler, which stops reading then.
            downstream.setReading(true);
            return;
        }
        // Before an upstream is ready at most one part is held back; after, the upstream's
        // writability decides.
        boolean read;
        if (bodyBufferPromise != null && !bodyBuffered && !bodyBufferPromise.isDone()) {
            read = true;
        } else {
            read = pendingRequestBody.isEmpty() && !requestBodyFilterBusy
                    && (upstream == null || upstream.channel.isWritable());
        }
        downstream.setReading(read);
    }

    private void processRequestChunk(HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        io.netty.handler.codec.http.HttpHeaders trailers = last ? ((LastHttpContent) content).trailingHeaders() : null;
        chunk.reset(content.content());
        try {
            for (HttpModule module : modules) {
                module.requestBodyFilter(this, chunk, last);
            }
            CompletionStage<Void> stage = proxy.requestBodyFilter(this, chunk, last, ctx);
            if (isDoneNormally(stage)) {
                sendRequestChunk(last, trailers);
            } else {
                requestBodyFilterBusy = true;
                busyChunkLast = last;
                busyChunkTrailers = trailers;
                await(stage, AFTER_REQUEST_BODY_FILTER, "requestBodyFilter");
            }
        } catch (Throwable t) {
            ByteBuf taken = chunk.take();
            if (taken != null) {
                taken.release();
            }
            upstreamFailureNoRetry(ProxyError.from(t, "requestBodyFilter"));
        }
    }

    private void afterRequestBodyFilter() {
        requestBodyFilterBusy = false;
        sendRequestChunk(busyChunkLast, busyChunkTrailers);
        busyChunkTrailers = null;
        pumpRequestBody();
    }

    private void sendRequestChunk(boolean last, io.netty.handler.codec.http.HttpHeaders trailers) {
        upstreamProgress();
        ByteBuf out = chunk.take();
        UpstreamConnection conn = upstream;
        if (conn == null) {
            out.release();
            return;
        }
        if (out.isReadable()) {
            keepForReplay(out);
        }
        if (last) {
            requestBodyForwarded = true;
            upstreamRequestComplete = true;
            conn.channel.writeAndFlush(lastPart(conn.channel, out, trailers), conn.channel.voidPromise());
            if (upstreamLastReceived && pendingResponseBody.isEmpty()) {
                releaseUpstream();
            }
        } else if (out.isReadable()) {
            conn.channel.writeAndFlush(new DefaultHttpContent(out), conn.channel.voidPromise());
        } else {
            out.release();
        }
    }

    /**
     * Writes the data of a message's last part (if any) and returns its end marker to write next.
     * Without trailers the marker is the shared empty instance: a new {@code DefaultLastHttpContent}
     * would allocate a trailer map per message for nothing.
     */
    private static LastHttpContent lastPart(Channel ch, ByteBuf data, io.netty.handler.codec.http.HttpHeaders trailers) {
        if (trailers != null && !trailers.isEmpty()) {
            return new DefaultLastHttpContent(data, trailers);
        }
        if (data.isReadable()) {
            ch.write(new DefaultHttpContent(data), ch.voidPromise());
        } else {
            data.release();
        }
        return LastHttpContent.EMPTY_LAST_CONTENT;
    }

    private void keepForReplay(ByteBuf sent) {
        if (replayTruncated) {
            return;
        }
        int n = sent.readableBytes();
        if (!bodyBuffered && replayBytes + n > engine.options.retryBufferBytes()) {
            replayTruncated = true;
            releaseReplay();
            return;
        }
        if (replay == null) {
            replay = new ArrayList<>(4);
        }
        replay.add(sent.retainedDuplicate());
        replayBytes += n;
    }

    private void releaseReplay() {
        if (replay != null) {
            for (ByteBuf buf : replay) {
                buf.release();
            }
            replay.clear();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Response (upstream → downstream)

    @Override
    public void onUpstreamMessage(Object msg) {
        if (failing || finishing || released) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse response) {
            if (response.decoderResult().isFailure()) {
                ReferenceCountUtil.release(msg);
                upstreamFailureNoRetry(ProxyError.upstream(ErrorType.INVALID_HTTP_HEADER,
                        "invalid response header from upstream", response.decoderResult().cause()));
                return;
            }
            int code = response.status().code();
            if (code >= 100 && code < 200) {
                // Interim responses (100, 103): the final one follows. 101 would switch protocols,
                // which this proxy does not pass through (Upgrade is removed from requests).
                skipInformationalBody = true;
                if (code == 101) {
                    ReferenceCountUtil.release(msg);
                    upstreamFailureNoRetry(ProxyError.upstream(ErrorType.H1_ERROR,
                            "upstream switched protocols without being asked", null));
                    return;
                }
                if (msg instanceof LastHttpContent) {
                    skipInformationalBody = false;
                }
                ReferenceCountUtil.release(msg);
                return;
            }
            onUpstreamResponseHeader(response);
            if (msg instanceof HttpContent content) {
                onUpstreamContent(content);
            }
            return;
        }
        if (msg instanceof HttpContent content) {
            if (skipInformationalBody) {
                if (content instanceof LastHttpContent) {
                    skipInformationalBody = false;
                }
                content.release();
                return;
            }
            onUpstreamContent(content);
            return;
        }
        ReferenceCountUtil.release(msg);
    }

    private void onUpstreamResponseHeader(HttpResponse response) {
        upstreamResponseStarted = true;
        upstreamResponse = response;
        int code = response.status().code();
        boolean bodiless = headRequest || code == 204 || code == 304;
        boolean framed = bodiless || HttpUtil.isContentLengthSet(response) || HttpUtil.isTransferEncodingChunked(response);
        upstreamKeepAlive = HttpUtil.isKeepAlive(response) && framed;
        HopByHop.strip(response.headers());
        if (!bodiless && !HttpUtil.isContentLengthSet(response) && code != 204 && code != 304) {
            // The framing is redone downstream (chunked for HTTP/1.1 clients, close for HTTP/1.0).
            response.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
        }
        upstreamResponseView = new NettyResponseHeader(response);
        try {
            proxy.upstreamResponseFilter(this, upstreamResponseView, ctx);
            responseFilterBusy = true;
            await(proxy.responseFilter(this, upstreamResponseView, ctx), AFTER_RESPONSE_FILTER, "responseFilter");
        } catch (Throwable t) {
            upstreamFailureNoRetry(ProxyError.from(t, "upstreamResponseFilter/responseFilter"));
        }
    }

    private void afterResponseFilter() {
        responseFilterBusy = false;
        try {
            for (HttpModule module : modules) {
                module.responseHeaderFilter(this, upstreamResponseView, false);
            }
        } catch (Throwable t) {
            upstreamFailureNoRetry(ProxyError.from(t, "module responseHeaderFilter"));
            return;
        }
        HttpResponse response = upstreamResponse;
        int code = response.status().code();
        writeResponseHeaderInternal(response, headRequest || code == 204 || code == 304);
        pumpResponseBody();
        if (!responseComplete && !failing) {
            // The header must not wait in the outbound buffer for a body that may be slow to come.
            channel.flush();
        }
    }

    private void onUpstreamContent(HttpContent content) {
        if (content.decoderResult().isFailure()) {
            content.release();
            Throwable cause = content.decoderResult().cause();
            ProxyError e = cause instanceof PrematureChannelClosureException
                    ? ProxyError.upstream(ErrorType.CONNECTION_CLOSED, "upstream closed mid-body", cause)
                    : ProxyError.upstream(ErrorType.H1_ERROR, "invalid response body from upstream", cause);
            upstreamFailureNoRetry(e);
            return;
        }
        if (content instanceof LastHttpContent) {
            upstreamLastReceived = true;
        }
        pendingResponseBody.add(content);
        pumpResponseBody();
    }

    private void pumpResponseBody() {
        HttpContent content;
        boolean wrote = false;
        while (!responseFilterBusy && !responsePaused && responseHeaderWritten && !failing && !finishing
                && (content = pendingResponseBody.poll()) != null) {
            wrote = true;
            processResponseChunk(content);
        }
        if (wrote && !responseComplete) {
            channel.flush();
        }
        updateUpstreamReading();
    }

    private void updateUpstreamReading() {
        UpstreamConnection conn = upstream;
        if (conn != null && !upstreamLastReceived) {
            conn.channel.config().setAutoRead(pendingResponseBody.isEmpty() && !responsePaused && channel.isWritable());
        }
    }

    private void processResponseChunk(HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        io.netty.handler.codec.http.HttpHeaders trailers = last ? ((LastHttpContent) content).trailingHeaders() : null;
        chunk.reset(content.content());
        Duration pause;
        try {
            Duration a = proxy.upstreamResponseBodyFilter(this, chunk, last, ctx);
            Duration b = proxy.responseBodyFilter(this, chunk, last, ctx);
            for (HttpModule module : modules) {
                module.responseBodyFilter(this, chunk, last);
            }
            if (last && trailers != null && !trailers.isEmpty()) {
                NettyHttpHeaders view = new NettyHttpHeaders(trailers);
                proxy.upstreamResponseTrailerFilter(this, view, ctx);
                proxy.responseTrailerFilter(this, view, ctx);
            }
            pause = a == null ? b : b == null ? a : (a.compareTo(b) >= 0 ? a : b);
        } catch (Throwable t) {
            ByteBuf taken = chunk.take();
            if (taken != null) {
                taken.release();
            }
            upstreamFailureNoRetry(ProxyError.from(t, "responseBodyFilter"));
            return;
        }
        ByteBuf out = chunk.take();
        responseBodyBytes += out.readableBytes();
        if (last) {
            responseComplete = true;
            lastWrite = channel.writeAndFlush(lastPart(channel, out, chunkedResponse ? trailers : null));
            endAttempt(upstreamResponse != null && upstreamResponse.status().code() >= 500
                    ? AttemptOutcome.SERVER_ERROR : AttemptOutcome.SUCCESS);
            if (upstreamRequestComplete) {
                releaseUpstream();
            } else {
                // The upstream answered before the whole request body went out: that connection's
                // request framing is unfinished, so it cannot carry another request.
                closeUpstream();
            }
            finishAfterLastWrite();
            return;
        }
        if (out.isReadable()) {
            channel.write(new DefaultHttpContent(out), channel.voidPromise());
        } else {
            out.release();
        }
        if (pause != null && !pause.isNegative() && !pause.isZero()) {
            responsePaused = true;
            loop.schedule(() -> {
                responsePaused = false;
                if (!failing && !finishing && !released) {
                    pumpResponseBody();
                }
            }, pause.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    /** The client connection's writability changed: pause or resume reading the upstream. */
    void onDownstreamWritabilityChanged() {
        if (!failing && !finishing) {
            updateUpstreamReading();
        }
    }

    @Override
    public void onUpstreamWritabilityChanged(boolean writable) {
        if (failing || finishing || released) {
            return;
        }
        Duration writeTimeout = peer == null ? null : peer.options().writeTimeout();
        if (writeTimeout != null) {
            cancel(upstreamWriteTimer);
            upstreamWriteTimer = writable ? null
                    : loop.schedule(this::onUpstreamWriteTimeout, writeTimeout.toNanos(), TimeUnit.NANOSECONDS);
        }
        updateDownstreamReading();
    }

    @Override
    public void onUpstreamInactive() {
        UpstreamConnection conn = upstream;
        upstream = null;
        if (conn == null || upstreamLastReceived || failing || finishing || released) {
            return;
        }
        ProxyError e;
        if (!upstreamResponseStarted) {
            e = ProxyError.upstream(ErrorType.CONNECTION_CLOSED, "upstream closed before sending a response", null)
                    .setRetryType(RetryType.REUSED_ONLY);
        } else {
            e = ProxyError.upstream(ErrorType.CONNECTION_CLOSED, "upstream closed mid-response", null);
        }
        upstreamFailure(e);
    }

    @Override
    public void onUpstreamException(Throwable cause) {
        if (failing || finishing || released) {
            return;
        }
        ProxyError e = Errors.io(cause, ErrorSource.UPSTREAM, upstreamResponseStarted
                ? "reading the upstream response" : "waiting for the upstream response");
        if (upstreamResponseStarted) {
            // The upstream has answered: the request was processed, so it must not be sent again.
            e.setRetry(false);
        }
        upstreamFailure(e);
    }

    private void releaseUpstream() {
        UpstreamConnection conn = upstream;
        if (conn == null) {
            return;
        }
        upstream = null;
        conn.detach();
        conn.channel.config().setAutoRead(true);
        if (upstreamKeepAlive && upstreamRequestComplete && conn.decoder.bufferedBytes() == 0) {
            engine.pool.release(conn, peer);
        } else {
            conn.close();
        }
    }

    private void closeUpstream() {
        UpstreamConnection conn = upstream;
        if (conn != null) {
            upstream = null;
            conn.close();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Timeouts. One timer per kind, re-armed only when it fires early (progress moved the deadline),
    // so a fast request costs one schedule and one cancel per configured timeout.

    private void armUpstreamReadTimer() {
        Duration timeout = peer.options().readTimeout();
        readTimeoutNanos = timeout == null ? 0 : timeout.toNanos();
        UpstreamConnection conn = upstream;
        if (conn != null) {
            conn.armReadTimeout(readTimeoutNanos);
        }
    }

    /** Request bytes went upstream: the read timeout starts over (nginx counts send progress too). */
    private void upstreamProgress() {
        UpstreamConnection conn = upstream;
        if (conn != null) {
            conn.readProgress();
        }
    }

    @Override
    public void onUpstreamReadTimeout() {
        UpstreamConnection conn = upstream;
        if (conn == null || upstreamLastReceived || failing || finishing || released) {
            return;
        }
        if (!conn.channel.config().isAutoRead()) {
            // Reading is paused because the client is slow: that is not the upstream's fault.
            conn.readTimer.arm(readTimeoutNanos);
            return;
        }
        upstreamFailure(ProxyError.upstream(ErrorType.READ_TIMEDOUT, "no data from upstream for "
                + peer.options().readTimeout().toMillis() + " ms", null));
    }

    private void onUpstreamWriteTimeout() {
        upstreamWriteTimer = null;
        UpstreamConnection conn = upstream;
        if (conn == null || conn.channel.isWritable() || failing || finishing || released) {
            return;
        }
        upstreamFailure(ProxyError.upstream(ErrorType.WRITE_TIMEDOUT, "upstream did not take the request for "
                + peer.options().writeTimeout().toMillis() + " ms", null));
    }

    private void armBodyReadTimer() {
        boolean expectsBody = HttpUtil.isTransferEncodingChunked(request) || HttpUtil.getContentLength(request, 0L) > 0;
        if (!requestComplete && expectsBody) {
            bodyReadTimer = loop.schedule(this::onBodyReadTimer, downstream.bodyReadTimeoutNanos(),
                    TimeUnit.NANOSECONDS);
        }
    }

    private void onBodyReadTimer() {
        bodyReadTimer = null;
        if (requestComplete || failing || finishing || released) {
            return;
        }
        long timeout = downstream.bodyReadTimeoutNanos();
        long now = System.nanoTime();
        if (!channel.config().isAutoRead()) {
            // The proxy itself stopped reading (backpressure): the client is not late.
            lastDownstreamProgress = now;
        }
        long idle = now - lastDownstreamProgress;
        if (idle < timeout) {
            bodyReadTimer = loop.schedule(this::onBodyReadTimer, timeout - idle, TimeUnit.NANOSECONDS);
            return;
        }
        keepAlive = false;
        failRequest(ProxyError.downstream(ErrorType.READ_TIMEDOUT, "client sent no request body for "
                + TimeUnit.NANOSECONDS.toMillis(downstream.bodyReadTimeoutNanos()) + " ms", null));
    }

    private void onDeadline() {
        deadlineTimer = null;
        if (failing || finishing || released) {
            return;
        }
        endAttempt(AttemptOutcome.TIMEOUT);
        failRequest(ProxyError.of(ErrorType.DEADLINE_EXCEEDED, ErrorSource.INTERNAL, "request deadline of "
                + engine.options.requestDeadline().toMillis() + " ms passed", null));
    }

    private static void cancel(io.netty.util.concurrent.ScheduledFuture<?> timer) {
        if (timer != null) {
            timer.cancel(false);
        }
    }

    private void cancelTimers() {
        cancel(upstreamWriteTimer);
        cancel(bodyReadTimer);
        cancel(deadlineTimer);
        upstreamWriteTimer = null;
        bodyReadTimer = null;
        deadlineTimer = null;
    }

    // ---------------------------------------------------------------------------------------------
    // Failure and end

    /** A failure after the upstream connection was made: errorWhileProxy decides on a retry. */
    private void upstreamFailure(ProxyError e) {
        if (failing || finishing || released) {
            return;
        }
        closeUpstream();
        if (e.peer() == null && peer != null) {
            e.setPeer(peer);
        }
        endAttempt(e.source() != ErrorSource.UPSTREAM ? AttemptOutcome.CANCELLED
                : e.type().isTimeout() ? AttemptOutcome.TIMEOUT : AttemptOutcome.FAILURE);
        ProxyError decided;
        try {
            decided = proxy.errorWhileProxy(peer, this, e, ctx, upstreamReused);
        } catch (Throwable t) {
            failRequest(ProxyError.from(t, "errorWhileProxy"));
            return;
        }
        if (decided.isRetry() && !responseHeaderWritten && attempts < engine.options.maxAttempts()
                && isRequestBodyReplayable()) {
            logRetry(decided);
            resetAttempt();
            retry();
        } else {
            failRequest(decided);
        }
    }

    private void upstreamFailureNoRetry(ProxyError e) {
        if (e.retryType() != RetryType.NO && e.source() != ErrorSource.UPSTREAM) {
            e.setRetry(false);
        }
        upstreamFailure(e);
    }

    private void resetAttempt() {
        if (requestBodyFilterBusy) {
            // The chunk the abandoned attempt was filtering never went out: it goes first next time.
            requestBodyFilterBusy = false;
            ByteBuf held = chunk.take();
            if (bodiless) {
                held.release();
            } else {
                pendingRequestBody.addFirst(busyChunkLast
                        ? new DefaultLastHttpContent(held, busyChunkTrailers == null
                                ? io.netty.handler.codec.http.DefaultHttpHeadersFactory.trailersFactory().newHeaders()
                                : busyChunkTrailers)
                        : new DefaultHttpContent(held));
            }
            busyChunkTrailers = null;
        }
        upstreamHeaderSent = false;
        upstreamRequestComplete = false;
        upstreamResponseStarted = false;
        upstreamLastReceived = false;
        upstreamKeepAlive = false;
        skipInformationalBody = false;
        responseFilterBusy = false;
        responsePaused = false;
        upstreamResponse = null;
        upstreamResponseView = null;
        releaseAll(pendingResponseBody);
    }

    /** Starts the next attempt, at once or after the configured back-off. */
    private void retry() {
        cancel(upstreamWriteTimer);
        upstreamWriteTimer = null;
        Duration backoff = engine.options.retryBackoff();
        if (backoff == null) {
            beginAttempt();
            return;
        }
        long nanos = backoff.toNanos() << Math.min(5, attempts - 1);
        loop.schedule(() -> {
            if (!failing && !finishing && !released) {
                beginAttempt();
            }
        }, nanos, TimeUnit.NANOSECONDS);
    }

    /** Reports the end of the current attempt to the observer, once. */
    private void endAttempt(AttemptOutcome outcome) {
        if (attemptOpen) {
            attemptOpen = false;
            try {
                engine.options.upstreamObserver().onAttemptEnd(peer, outcome, System.nanoTime() - attemptStartNanos);
            } catch (Throwable t) {
                ProxyEngine.LOG.log(System.Logger.Level.WARNING, "upstream observer failed", t);
            }
        }
    }

    private void logRetry(ProxyError e) {
        ProxyEngine.LOG.log(System.Logger.Level.WARNING, "retrying after attempt {0}: {1} ({2})",
                attempts, e.getMessage(), requestSummarySafe());
    }

    /** The client went away, or its connection failed. */
    void onDownstreamFailure(Throwable cause) {
        if (failing || finishing || released) {
            return;
        }
        keepAlive = false;
        ProxyError e = cause == null
                ? ProxyError.downstream(ErrorType.CONNECTION_CLOSED, "client closed the connection", null)
                : Errors.io(cause, ErrorSource.DOWNSTREAM, "client connection");
        failRequest(e);
    }

    private void failRequest(ProxyError e) {
        if (failing || finishing || released) {
            return;
        }
        failing = true;
        error = e;
        endAttempt(AttemptOutcome.CANCELLED);
        closeUpstream();
        releaseAll(pendingResponseBody);
        if (!requestComplete) {
            // What is left of the request body is not wanted; the connection cannot be reused safely
            // unless the body is drained, which the connection handler does when keep-alive stays on.
            releaseAll(pendingRequestBody);
        }
        CompletionStage<FailToProxy> stage;
        try {
            stage = proxy.failToProxy(this, e, ctx);
        } catch (Throwable t) {
            stage = CompletableFuture.completedFuture(defaultFailure(e));
        }
        await(stage, AFTER_FAIL_TO_PROXY, "failToProxy");
    }

    private FailToProxy defaultFailure(ProxyError e) {
        int status = e.defaultStatus();
        if (status > 0 && !responseHeaderWritten) {
            respondError(status);
            return new FailToProxy(status, false);
        }
        return new FailToProxy(0, false);
    }

    private void afterFailToProxy(FailToProxy result) {
        if (result == null || !result.canReuseDownstream()) {
            keepAlive = false;
        }
        if (responseHeaderWritten && !responseComplete) {
            // A response that started cannot be finished: the client must see the connection end.
            keepAlive = false;
        }
        boolean suppress;
        try {
            suppress = proxy.suppressErrorLog(this, ctx, error);
        } catch (Throwable t) {
            suppress = false;
        }
        if (!suppress && !(error.source() == ErrorSource.DOWNSTREAM && error.type() == ErrorType.CONNECTION_CLOSED)) {
            ProxyEngine.LOG.log(System.Logger.Level.ERROR, "{0}, status {1}: {2}",
                    requestSummarySafe(), result == null ? 0 : result.errorCode(), error.getMessage());
        }
        finishAfterLastWrite();
    }

    private String requestSummarySafe() {
        try {
            return proxy.requestSummary(this, ctx);
        } catch (Throwable t) {
            return request.method() + " " + request.uri();
        }
    }

    private void finishAfterLastWrite() {
        if (finishing) {
            return;
        }
        finishing = true;
        ChannelFuture write = lastWrite;
        if (write == null || write.isDone()) {
            finish();
        } else {
            write.addListener(f -> finish());
        }
    }

    private void finish() {
        for (HttpModule module : modules) {
            if (module == null) {
                continue;
            }
            try {
                module.responseDone(this);
            } catch (Throwable t) {
                ProxyEngine.LOG.log(System.Logger.Level.WARNING, "module responseDone failed", t);
            }
        }
        if (lastWrite != null && lastWrite.isDone() && !lastWrite.isSuccess() && error == null) {
            keepAlive = false;
            error = Errors.io(lastWrite.cause(), ErrorSource.DOWNSTREAM, "writing the response");
            if (error.type() == ErrorType.READ_ERROR) {
                error = ProxyError.downstream(ErrorType.WRITE_ERROR, "writing the response", lastWrite.cause());
            }
        }
        CompletionStage<Void> stage;
        try {
            stage = proxy.logging(this, error, ctx);
        } catch (Throwable t) {
            ProxyEngine.LOG.log(System.Logger.Level.WARNING, "logging phase failed", t);
            stage = null;
        }
        if (stage == null) {
            release();
        } else {
            await(stage, AFTER_LOGGING, "logging");
        }
    }

    private void release() {
        if (released) {
            return;
        }
        released = true;
        cancelTimers();
        closeUpstream();
        releaseReplay();
        releaseAll(pendingResponseBody);
        releaseAll(pendingRequestBody);
        engine.activeRequests.decrementAndGet();
        boolean reusable = keepAlive && responseComplete && channel.isActive()
                && !(expectContinue && !continueSent && !requestComplete);
        downstream.exchangeFinished(this, reusable, requestComplete);
    }

    private static void releaseAll(ArrayDeque<HttpContent> queue) {
        HttpContent c;
        while ((c = queue.poll()) != null) {
            c.release();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Asynchronous phases

    private static boolean isDoneNormally(CompletionStage<?> stage) {
        return stage instanceof CompletableFuture<?> f && f.isDone() && !f.isCompletedExceptionally();
    }

    private void await(CompletionStage<?> stage, int step, String phase) {
        if (stage == null) {
            failRequestOrLog(ProxyError.internal(phase + " returned null instead of a CompletionStage", null), step);
            return;
        }
        if (stage instanceof CompletableFuture<?> f && f.isDone()) {
            if (!f.isCompletedExceptionally()) {
                resume(step, f.getNow(null));
                return;
            }
        }
        int generation = isAttemptScoped(step) ? attemptGeneration : -1;
        stage.whenComplete((value, failure) -> {
            if (loop.inEventLoop()) {
                resumeOrFail(step, generation, value, failure, phase);
            } else {
                loop.execute(() -> resumeOrFail(step, generation, value, failure, phase));
            }
        });
    }

    private static boolean isAttemptScoped(int step) {
        return step == AFTER_UPSTREAM_PEER || step == AFTER_UPSTREAM_REQUEST_FILTER
                || step == AFTER_REQUEST_BODY_FILTER || step == AFTER_RESPONSE_FILTER;
    }

    private void resumeOrFail(int step, int generation, Object value, Throwable failure, String phase) {
        if (released || generation != -1 && generation != attemptGeneration) {
            // A phase of an attempt that was abandoned (the request moved on to another attempt).
            return;
        }
        if (failure != null) {
            failRequestOrLog(ProxyError.from(failure, phase), step);
            return;
        }
        resume(step, value);
    }

    private void failRequestOrLog(ProxyError e, int step) {
        switch (step) {
            case AFTER_LOGGING -> {
                ProxyEngine.LOG.log(System.Logger.Level.WARNING, "logging phase failed", e);
                release();
            }
            case AFTER_FAIL_TO_PROXY -> afterFailToProxy(defaultFailure(e));
            case AFTER_REQUEST_BODY_FILTER -> {
                requestBodyFilterBusy = false;
                ByteBuf taken = chunk.take();
                if (taken != null) {
                    taken.release();
                }
                upstreamFailureNoRetry(e);
            }
            case AFTER_UPSTREAM_REQUEST_FILTER, AFTER_RESPONSE_FILTER -> upstreamFailureNoRetry(e);
            case AFTER_UPSTREAM_REFUSED_RESPONSE -> {
                keepAlive = false;
                finishAfterLastWrite();
            }
            default -> failRequest(e);
        }
    }

    private void resume(int step, Object value) {
        if (released) {
            return;
        }
        if (failing && step != AFTER_FAIL_TO_PROXY && step != AFTER_LOGGING) {
            if (step == AFTER_REQUEST_BODY_FILTER) {
                ByteBuf taken = chunk.take();
                if (taken != null) {
                    taken.release();
                }
            }
            return;
        }
        switch (step) {
            case AFTER_EARLY_REQUEST_FILTER, AFTER_MODULE_REQUEST_FILTER -> {
                if (responseHeaderWritten) {
                    afterRequestFilter(true);
                } else {
                    runModuleRequestFilters();
                }
            }
            case AFTER_REQUEST_FILTER -> afterRequestFilter(Boolean.TRUE.equals(value));
            case AFTER_PROXY_UPSTREAM_FILTER -> afterProxyUpstreamFilter(!Boolean.FALSE.equals(value));
            case AFTER_UPSTREAM_PEER -> afterUpstreamPeer((HttpPeer) value);
            case AFTER_UPSTREAM_REQUEST_FILTER -> afterUpstreamRequestFilter();
            case AFTER_REQUEST_BODY_FILTER -> afterRequestBodyFilter();
            case AFTER_RESPONSE_FILTER -> afterResponseFilter();
            case AFTER_FAIL_TO_PROXY -> afterFailToProxy((FailToProxy) value);
            case AFTER_LOGGING -> release();
            case AFTER_UPSTREAM_REFUSED_RESPONSE -> finishAfterLastWrite();
            default -> throw new IllegalStateException("step: " + step);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Writing the downstream response

    private void writeResponseHeaderInternal(HttpResponse response, boolean bodiless) {
        boolean http10Client = request.protocolVersion().equals(HttpVersion.HTTP_1_0);
        response.setProtocolVersion(HttpVersion.HTTP_1_1);
        if (engine.isDraining()) {
            keepAlive = false;
        }
        if (!bodiless && !HttpUtil.isContentLengthSet(response)) {
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
        responseHeaderWritten = true;
        responseStatus = response.status().code();
        channel.write(response, channel.voidPromise());
    }

    private CompletableFuture<Void> onLoop(Runnable action) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Runnable guarded = () -> {
            try {
                action.run();
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        };
        if (loop.inEventLoop()) {
            guarded.run();
        } else {
            loop.execute(guarded);
        }
        return done;
    }

    private static CompletableFuture<Void> whenWritten(ChannelFuture write, CompletableFuture<Void> result) {
        write.addListener(f -> {
            if (f.isSuccess()) {
                result.complete(null);
            } else {
                result.completeExceptionally(ProxyError.downstream(ErrorType.WRITE_ERROR, "writing the response",
                        f.cause()));
            }
        });
        return result;
    }

    @Override
    public CompletionStage<Void> writeResponseHeader(ResponseHeader header, boolean endOfStream) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        onLoop(() -> {
            if (responseHeaderWritten) {
                throw new IllegalStateException("a response header was already written for this request");
            }
            // Modules see (and may change) the header first; only then is it turned into Netty's.
            for (HttpModule module : modules) {
                if (module != null) {
                    module.responseHeaderFilter(this, header, endOfStream);
                }
            }
            HttpResponse response = header instanceof NettyResponseHeader n ? n.unwrap() : toNetty(header);
            int code = response.status().code();
            boolean bodiless = headRequest || code == 204 || code == 304;
            if (endOfStream && !bodiless && !HttpUtil.isContentLengthSet(response)) {
                HttpUtil.setContentLength(response, 0);
            }
            writeResponseHeaderInternal(response, bodiless);
            if (endOfStream) {
                responseComplete = true;
                lastWrite = channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                whenWritten(lastWrite, result);
                finishShortCircuitIfDone();
            } else {
                whenWritten(channel.writeAndFlush(Unpooled.EMPTY_BUFFER), result);
            }
        }).whenComplete((v, t) -> {
            if (t != null) {
                result.completeExceptionally(t);
            }
        });
        return result;
    }

    @Override
    public CompletionStage<Void> writeResponseBody(byte[] body, boolean endOfStream) {
        byte[] copy = body.clone();
        CompletableFuture<Void> result = new CompletableFuture<>();
        onLoop(() -> {
            if (!responseHeaderWritten) {
                throw new IllegalStateException("writeResponseHeader must come before writeResponseBody");
            }
            if (responseComplete) {
                throw new IllegalStateException("the response is already complete");
            }
            ByteBuf buf = Unpooled.wrappedBuffer(copy);
            responseBodyBytes += copy.length;
            if (endOfStream) {
                responseComplete = true;
                lastWrite = channel.writeAndFlush(lastPart(channel, buf, null));
                whenWritten(lastWrite, result);
                finishShortCircuitIfDone();
            } else {
                whenWritten(channel.writeAndFlush(new DefaultHttpContent(buf)), result);
            }
        }).whenComplete((v, t) -> {
            if (t != null) {
                result.completeExceptionally(t);
            }
        });
        return result;
    }

    private void finishShortCircuitIfDone() {
        if (shortCircuited && !failing) {
            finishAfterLastWrite();
        }
    }

    private static HttpResponse toNetty(ResponseHeader header) {
        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(header.status()));
        header.headers().forEach((name, value) -> response.headers().add(name, value));
        return response;
    }

    // ---------------------------------------------------------------------------------------------
    // Session

    @Override
    public RequestHeader requestHeader() {
        return requestHeader;
    }

    @Override
    public SocketAddress clientAddress() {
        return channel.remoteAddress();
    }

    @Override
    public SocketAddress serverAddress() {
        return channel.localAddress();
    }

    @Override
    public boolean isTls() {
        return channel.pipeline().get(io.netty.handler.ssl.SslHandler.class) != null;
    }

    @Override
    public boolean isConnectionReused() {
        return connectionReused;
    }

    @Override
    public boolean responseWritten() {
        return responseHeaderWritten;
    }

    @Override
    public int responseStatus() {
        return responseStatus;
    }

    @Override
    public void disableKeepAlive() {
        keepAlive = false;
    }

    @Override
    public boolean isKeepAlive() {
        return keepAlive;
    }

    @Override
    public long requestBodyBytesRead() {
        return requestBodyBytes;
    }

    @Override
    public long responseBodyBytesSent() {
        return responseBodyBytes;
    }

    @Override
    public boolean isRequestBodyReplayable() {
        return !replayTruncated;
    }

    @Override
    public int attempts() {
        return attempts;
    }

    @Override
    public long upstreamConnectNanos() {
        return upstreamConnectNanos;
    }

    @Override
    public boolean isUpstreamConnectionReused() {
        return upstreamReused;
    }

    @Override
    public long requestStartNanos() {
        return startNanos;
    }

    @Override
    public Executor eventLoop() {
        return loop;
    }

    @Override
    public String toString() {
        return "ProxyExchange{" + request.method() + ' ' + request.uri() + ", attempts=" + attempts + '}';
    }
}
