package dev.relay.transport.internal;

import dev.relay.core.AttemptOutcome;
import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.FailToProxy;
import dev.relay.core.HttpHeaders;
import dev.relay.core.HttpModule;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.ProxyHttp;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.RetryType;
import io.netty.buffer.ByteBuf;
import org.jspecify.annotations.Nullable;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;

/**
 * The phase engine of one request (Pingora's {@code proxy_request} driver, OkHttp's {@code RealCall}):
 * the one place that knows the phase order, and the only caller of {@link ProxyHttp} and
 * {@link HttpModule} methods (a module rule test holds it to that). It knows no protocol: it reads
 * and answers the client through a {@link DownstreamStream}, and talks to the origin through one
 * {@link UpstreamAttempt} at a time, each over an {@link UpstreamStream} from {@link UpstreamStreams}.
 *
 * <p>Every user callback is contained: one that throws, or whose stage fails, ends the request with
 * its error (a 500 for anything but a {@link ProxyError}), or with nothing when the response has
 * started; {@link ProxyHttp#logging} still runs exactly once.
 *
 * <p>Everything runs on the downstream event loop. Buffer ownership: a body part read from either
 * side belongs to the call until it is written to the other side (the write releases it) or released
 * here; the replay buffer holds retained duplicates of what went upstream.
 */
final class ProxyCall<C> extends CallModules {
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

    /** Where the call is in its life; anything but ACTIVE means no new work starts. */
    private enum State { ACTIVE, FAILING, FINISHING, RELEASED }

    // The engine's proxy and clock, and the event loop (PhaseSteps'), are read there, not copied: 12 B a call.
    private final ProxyEngine<C> engine;
    private final DownstreamStream downstream;
    private final CallSession session;
    private final ByteBufBodyChunk responseChunk = new ByteBufBodyChunk();
    private final RequestBody requestBody;
    private @Nullable C ctx;
    private int moduleIndex;
    private State state = State.ACTIVE;

    private @Nullable UpstreamAttempt attempt;
    /** The cache phases, when a phase or module enabled the cache for this request. */
    private @Nullable CachePhases<C> cache;

    private final ClientResponse response;
    private boolean shortCircuited;
    /** A pooled HTTP/1.1 connection failed unanswered: the others may be stale too; retries open new ones. */
    private boolean freshConnections;
    private @Nullable Future<?> deadlineTimer;
    private @Nullable ProxyError error;
    private final @Nullable TunnelStart tunnel;

    ProxyCall(ProxyEngine<C> engine, DownstreamStream downstream) {
        super(downstream.eventLoop());
        this.engine = engine;
        this.downstream = downstream;
        this.session = new CallSession(this, engine.clock.nanoTime());
        this.session.keepAlive = downstream.requestsKeepAlive() && !engine.isDraining();
        this.requestBody = new RequestBody(this, downstream.requestHasBody(), engine.options.retryBufferBytes());
        this.response = new ClientResponse(this, downstream);
        this.tunnel = TunnelStart.forCall(this, downstream, engine);
    }

    CallSession session() {
        return session;
    }

    // ---------------------------------------------------------------------------------------------
    // Request phases

    /** Starts the phases for a well-formed request. */
    void start() {
        if (!engine.admitRequest()) {
            shed(engine.options.maxRequestsInFlight());
            return;
        }
        Duration deadline = engine.options.requestDeadline();
        if (deadline != null) {
            deadlineTimer = engine.clock.schedule(loop(), this::onDeadline, deadline.toNanos());
        }
        requestBody.startReadTimer();
        try {
            prepareModules(engine.moduleFactories.length);
            for (int i = 0; i < engine.moduleFactories.length; i++) {
                setModule(i, java.util.Objects.requireNonNull(engine.moduleFactories[i].newModule(), "newModule"));
            }
            ctx = engine.proxy.newCtx();
            await(engine.proxy.earlyRequestFilter(session, ctx), AFTER_EARLY_REQUEST_FILTER, "earlyRequestFilter", null);
        } catch (Throwable t) {
            failRequest(ProxyError.from(t, "newCtx/earlyRequestFilter"));
        }
    }

    /**
     * Answers 503 at once, before any phase: queueing past the limit would only make every request
     * late ({@link CallSession#respondOverloaded}). Only the logging phase runs, with an internal
     * {@link ErrorType#OVERLOADED} error; no error-log line, as the metric counts these.
     */
    private void shed(int most) {
        engine.requestsShed.increment();
        shortCircuited = true;
        error = ProxyError.of(ErrorType.OVERLOADED, ErrorSource.INTERNAL,
                "more than " + most + " requests in flight", null);
        if (downstream.requestHasBody()) {
            // Nothing reads the body: draining it to keep the connection would be work the proxy has no room for.
            session.keepAlive = false;
        }
        newCtxForLogging();
        await(session.respondOverloaded(), AFTER_UPSTREAM_REFUSED_RESPONSE, "overload response", null);
    }

    /** A context for a request no phase will see but logging: a failing newCtx leaves it null. */
    private void newCtxForLogging() {
        try {
            ctx = engine.proxy.newCtx();
        } catch (Throwable t) {
            ctx = null;
        }
    }

    /** Answers a request the protocol layer could not parse: {@code error}'s status, connection closed, logged once. */
    void rejectMalformed(ProxyError malformed) {
        engine.countRequest();
        session.keepAlive = false;
        // The body of a malformed request cannot be framed: nothing more is read from this connection.
        requestBody.complete = true;
        newCtxForLogging();
        failRequest(malformed);
    }

    private void runModuleRequestFilters() {
        while (moduleIndex < moduleCount()) {
            HttpModule module = module(moduleIndex++);
            CompletionStage<Void> stage;
            try {
                stage = module.requestHeaderFilter(session);
            } catch (Throwable t) {
                failRequest(ProxyError.from(t, "module requestHeaderFilter"));
                return;
            }
            if (!isDoneNormally(stage)) {
                await(stage, AFTER_MODULE_REQUEST_FILTER, "module requestHeaderFilter", null);
                return;
            }
            if (session.responseWritten) {
                afterRequestFilter(true);
                return;
            }
        }
        try {
            await(engine.proxy.requestFilter(session, ctx), AFTER_REQUEST_FILTER, "requestFilter", null);
        } catch (Throwable t) {
            failRequest(ProxyError.from(t, "requestFilter"));
        }
    }

    /** Answers from the cache: the response phases run on {@code hit} as on an origin's response. */
    void serveFromCache(CacheHitStream hit) {
        if (attempt != null) {
            attempt.abandon();
        }
        attempt = UpstreamAttempt.fromCache(this, hit, engine.clock.nanoTime());
        hit.start(attempt);
    }

    /** After the request filters; also where the cache phases go when they answered by themselves (a purge). */
    void afterRequestFilter(boolean responded) {
        if (responded) {
            shortCircuited = true;
            if (!session.responseWritten) {
                failRequest(ProxyError.internal("requestFilter returned true without writing a response", null));
            } else if (response.isComplete()) {
                finishAfterLastWrite();
            }
            // Otherwise the filter is still writing: the write of the last part finishes the request.
            return;
        }
        try {
            engine.proxy.requestCacheFilter(session, ctx);
            CallCache enabled = session.enabledCache();
            if (enabled != null) {
                cache = new CachePhases<>(this, engine, downstream, enabled, ctx);
                cache.start();
            } else {
                proceedToUpstream();
            }
        } catch (Throwable t) {
            failRequest(ProxyError.from(t, "requestCacheFilter"));
        }
    }

    /** After the cache phases, or without them: the last gate before the origin. */
    void proceedToUpstream() {
        try {
            await(engine.proxy.proxyUpstreamFilter(session, ctx), AFTER_PROXY_UPSTREAM_FILTER, "proxyUpstreamFilter", null);
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
        if (!session.responseWritten) {
            await(session.respondError(502), AFTER_UPSTREAM_REFUSED_RESPONSE, "proxyUpstreamFilter response", null);
        } else if (response.isComplete()) {
            finishAfterLastWrite();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Upstream attempts

    private void beginAttempt() {
        session.attempts++;
        try {
            await(engine.proxy.upstreamPeer(session, ctx), AFTER_UPSTREAM_PEER, "upstreamPeer", null);
        } catch (Throwable t) {
            failRequest(ProxyError.from(t, "upstreamPeer"));
        }
    }

    private void afterUpstreamPeer(@Nullable HttpPeer peer) {
        if (peer == null && (tunnel == null || (peer = tunnel.defaultPeer()) == null)) {
            failRequest(ProxyError.of(ErrorType.NO_PEER, ErrorSource.INTERNAL, "upstreamPeer gave no peer", null));
            return;
        }
        UpstreamAttempt next = new UpstreamAttempt(this, peer, engine.clock.nanoTime());
        attempt = next;
        ProxyError observerFailure = next.observeStart();
        if (observerFailure != null) {
            failRequest(observerFailure);
            return;
        }
        engine.streams.acquire(peer, Http1Streams.clientAddresses(peer, downstream), loop(),
                tunnel != null && tunnel.needsFreshConnection() ? UpstreamStreams.ConnectionChoice.NEW_HTTP1
                        : freshConnections ? UpstreamStreams.ConnectionChoice.NEW : UpstreamStreams.ConnectionChoice.ANY,
                next);
    }

    /** Whether {@code a} is the attempt in progress of a call still going on. */
    boolean isCurrent(UpstreamAttempt a) {
        return attempt == a && state == State.ACTIVE;
    }

    void onConnectFailed(UpstreamAttempt a, ProxyError e) {
        a.endWith(e, AttemptOutcome.CONNECT_FAILURE);
        ProxyError decided;
        try {
            decided = engine.proxy.failToConnect(session, a.peer, ctx, e);
        } catch (Throwable t) {
            failRequest(ProxyError.from(t, "failToConnect"));
            return;
        }
        retryOrFail(a, decided, true);
    }

    void onConnected(UpstreamAttempt a) {
        UpstreamStream stream = a.stream;
        session.upstreamReused = a.reused;
        session.upstreamConnectNanos = a.connectNanos;
        try {
            engine.proxy.connectedToUpstream(session, a.reused, a.peer, ctx);
        } catch (Throwable t) {
            failRequest(ProxyError.from(t, "connectedToUpstream"));
            return;
        }
        if (tunnel != null && tunnel.onConnected(a)) {
            return;
        }
        RequestHeader upstreamRequest = stream.newRequestHeader(downstream.requestHeader(), a.peer,
                downstream.requestHasBody(), requestBody.bufferedLength(), tunnel != null);
        a.request = upstreamRequest;
        if (cache != null) {
            cache.beforeUpstreamRequest(upstreamRequest);
        }
        try {
            await(engine.proxy.upstreamRequestFilter(session, upstreamRequest, ctx), AFTER_UPSTREAM_REQUEST_FILTER,
                    "upstreamRequestFilter", a);
        } catch (Throwable t) {
            upstreamFailure(a, ProxyError.from(t, "upstreamRequestFilter"));
        }
    }

    private void afterUpstreamRequestFilter(UpstreamAttempt a) {
        if (a.sendRequestHeader(requestBody)) {
            response.sendContinueIfAwaited(requestBody.complete);
            requestBody.pump();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Request body (downstream → upstream); the queueing and flow control live in RequestBody

    /** Where the client's body parts go (the downstream stream delivers them there). */
    RequestBody requestBody() {
        return requestBody;
    }

    /**
     * Runs the request body filters on one part, then sends it, unless a filter is still busy with it.
     * The modules run once per request: not on a part {@code passedModules} on an abandoned attempt.
     */
    void filterRequestPart(UpstreamAttempt a, ByteBuf data, boolean last, @Nullable HttpHeaders trailers,
                           boolean passedModules) {
        ByteBufBodyChunk chunk = a.requestChunk.reset(data);
        try {
            for (int i = passedModules ? moduleCount() : 0; i < moduleCount(); i++) {
                module(i).requestBodyFilter(session, chunk, last);
            }
            a.keepRequestPartFromModules();
            CompletionStage<Void> stage = engine.proxy.requestBodyFilter(session, chunk, last, ctx);
            if (isDoneNormally(stage)) {
                a.requestPartFiltered();
                requestBody.send(a, last, trailers);
            } else {
                a.awaitRequestPart(last, trailers);
                await(stage, AFTER_REQUEST_BODY_FILTER, "requestBodyFilter", a);
            }
        } catch (Throwable t) {
            a.releaseRequestPart();
            upstreamFailure(a, Errors.noRetry(ProxyError.from(t, "requestBodyFilter")));
        }
    }

    @Nullable UpstreamAttempt attempt() {
        return attempt;
    }

    boolean isActive() {
        return state == State.ACTIVE;
    }

    ClientResponse response() {
        return response;
    }

    // ---------------------------------------------------------------------------------------------
    // Response (upstream → downstream)

    void onResponseHeader(UpstreamAttempt a) {
        ResponseHeader upstreamResponse = a.response;
        try {
            if (!a.fromCache) {
                engine.proxy.upstreamResponseFilter(session, upstreamResponse, ctx);
                if (cache != null && cache.onUpstreamResponse(a)) {
                    return;
                }
            }
            a.responseFilterBusy = true;
            await(engine.proxy.responseFilter(session, upstreamResponse, ctx), AFTER_RESPONSE_FILTER, "responseFilter", a);
        } catch (Throwable t) {
            upstreamFailure(a, Errors.noRetry(ProxyError.from(t, "upstreamResponseFilter/responseFilter")));
        }
    }

    private void afterResponseFilter(UpstreamAttempt a) {
        a.responseFilterBusy = false;
        ResponseHeader upstreamResponse = a.response;
        try {
            for (int i = 0; i < moduleCount(); i++) {
                module(i).responseHeaderFilter(session, upstreamResponse, false);
            }
        } catch (Throwable t) {
            upstreamFailure(a, Errors.noRetry(ProxyError.from(t, "module responseHeaderFilter")));
            return;
        }
        if (tunnel != null && tunnel.afterResponsePhases(a)) {
            return;
        }
        response.writeHeader(upstreamResponse, false);
        a.pumpResponse();
        // The header must not wait in the outbound buffer for a body that may be slow to come; but
        // when the body is in the same read, it goes out with it, in one write.
        a.flushAfterRead();
    }

    /** Whether response body parts of {@code a} may be written now. */
    boolean acceptsResponseBody(UpstreamAttempt a) {
        return session.responseWritten && isCurrent(a);
    }

    boolean downstreamWritable() {
        return downstream.isWritable() || response.isDetached();
    }

    /** Runs the response body filters on one part and writes it to the client. */
    void onResponseBodyPart(UpstreamAttempt a, ByteBuf data, boolean last, @Nullable HttpHeaders trailers) {
        ByteBufBodyChunk chunk = responseChunk.reset(data);
        Duration pause;
        byte @Nullable [] trailersAsBody = null;
        try {
            Duration upstreamPause = a.fromCache ? null : engine.proxy.upstreamResponseBodyFilter(session, chunk, last, ctx);
            if (cache != null && !a.fromCache) {
                cache.onBodyPart(chunk.peek(), last);
            }
            Duration downstreamPause = engine.proxy.responseBodyFilter(session, chunk, last, ctx);
            for (int i = 0; i < moduleCount(); i++) {
                module(i).responseBodyFilter(session, chunk, last);
            }
            if (trailers != null) {
                engine.proxy.upstreamResponseTrailerFilter(session, trailers, ctx);
                engine.proxy.responseTrailerFilter(session, trailers, ctx);
                for (int i = 0; i < moduleCount() && trailersAsBody == null; i++) {
                    trailersAsBody = module(i).responseTrailerFilter(session, trailers);
                }
            }
            pause = upstreamPause == null || downstreamPause != null && downstreamPause.compareTo(upstreamPause) > 0
                    ? downstreamPause : upstreamPause;
        } catch (Throwable t) {
            chunk.releaseHeld();
            upstreamFailure(a, Errors.noRetry(ProxyError.from(t, "responseBodyFilter")));
            return;
        }
        response.writePart(chunk.take(), last, trailers, trailersAsBody);
        if (last) {
            a.observeEnd(a.response.status() >= 500 ? AttemptOutcome.SERVER_ERROR : AttemptOutcome.SUCCESS);
            a.releaseStream();
            finishAfterLastWrite();
            return;
        }
        if (pause != null && !pause.isNegative() && !pause.isZero()) {
            a.pauseResponse(pause.toNanos());
        }
    }

    /** The client connection's writability changed: pause or resume reading the upstream. */
    void onDownstreamWritabilityChanged() {
        UpstreamAttempt a = attempt;
        if (a != null && state == State.ACTIVE) {
            a.updateReading();
        }
    }

    EngineClock clock() {
        return engine.clock;
    }

    ProxyEngine<C> engine() {
        return engine;
    }

    DownstreamStream downstream() {
        return downstream;
    }

    /** The exchange became a tunnel: the request deadline no longer applies (the tunnel's idle timeout does). */
    void tunnelStarted() {
        if (deadlineTimer != null) {
            deadlineTimer.cancel(false);
        }
    }

    /** The tunnel (or the refused upgrade's answer) is over: the call ends with {@code e}, logged once. */
    void tunnelEnded(@Nullable ProxyError e) {
        error = error == null ? e : error;
        finishAfterLastWrite();
    }

    private void onDeadline() {
        deadlineTimer = null;
        if (state != State.ACTIVE) {
            return;
        }
        UpstreamAttempt a = attempt;
        if (a != null) {
            a.observeEnd(AttemptOutcome.TIMEOUT);
        }
        failRequest(ProxyError.of(ErrorType.DEADLINE_EXCEEDED, ErrorSource.INTERNAL, "request deadline of "
                + engine.options.requestDeadline().toMillis() + " ms passed", null));
    }

    // ---------------------------------------------------------------------------------------------
    // Failure, retry and end

    /** A failure after the upstream connection was made: errorWhileProxy decides on a retry. */
    void upstreamFailure(UpstreamAttempt a, ProxyError e) {
        if (!isCurrent(a)) {
            return;
        }
        a.abandon();
        a.endWith(e, e.source() != ErrorSource.UPSTREAM ? AttemptOutcome.CANCELLED
                : e.type().isTimeout() ? AttemptOutcome.TIMEOUT : AttemptOutcome.FAILURE);
        freshConnections |= a.reused && e.retryType() == RetryType.REUSED_ONLY;
        ProxyError decided;
        try {
            decided = engine.proxy.errorWhileProxy(a.peer, session, e, ctx, a.reused);
        } catch (Throwable t) {
            failRequest(ProxyError.from(t, "errorWhileProxy"));
            return;
        }
        retryOrFail(a, decided, !session.responseWritten && requestBody.isReplayable());
    }

    /**
     * After attempt {@code a} failed with {@code e}: leaves it behind and starts the next, at once or
     * after the configured back-off, when {@code e} is worth a retry, attempts are left and the request
     * {@code canResend}; else the request fails.
     */
    private void retryOrFail(UpstreamAttempt a, ProxyError e, boolean canResend) {
        if (!e.isRetry() || !canResend || session.attempts >= engine.options.maxAttempts()) {
            failRequest(e);
            return;
        }
        engine.errorLog.warn(() -> "retrying after attempt " + session.attempts + ": " + e.getMessage() + " ("
                + requestSummary() + ")");
        a.abandon();
        requestBody.takeBackFrom(a);
        attempt = null;
        Duration backoff = engine.options.retryBackoff();
        if (backoff == null) {
            beginAttempt();
            return;
        }
        long nanos = backoff.toNanos() << Math.min(5, session.attempts - 1);
        engine.clock.schedule(loop(), () -> {
            if (state == State.ACTIVE) {
                beginAttempt();
            }
        }, nanos);
    }

    /**
     * The client read nothing of the response for {@code timeout}: the call ends with a downstream
     * write timeout (its upstream attempt cancelled, that connection not pooled). When the whole
     * response was already queued the call is only waiting for its last write, and this is the error
     * it logs rather than the closed connection that follows (and, as no failure path runs, records
     * here as a client error).
     */
    void onSendTimeout(Duration timeout) {
        session.keepAlive = false;
        ProxyError e = ProxyError.downstream(ErrorType.WRITE_TIMEDOUT, "client read nothing of the response for "
                + timeout.toMillis() + " ms", null);
        if (state == State.ACTIVE) {
            failRequest(e);
        } else if (error == null && state == State.FINISHING) {
            error = e;
            logError(e, session.responseStatus());
        }
    }

    /** The client went away, or its connection failed. */
    void onDownstreamFailure(@Nullable Throwable cause) {
        if (state != State.ACTIVE) {
            return;
        }
        session.keepAlive = false;
        ProxyError e = cause == null
                ? ProxyError.downstream(ErrorType.CONNECTION_CLOSED, "client closed the connection", null)
                : Errors.io(cause, ErrorSource.DOWNSTREAM, "client connection");
        if (cache != null && cache.continueWithoutClient()) {
            error = e;
        } else {
            failRequest(e);
        }
    }

    @Override
    void failRequest(ProxyError e) {
        if (state != State.ACTIVE || cache != null && cache.serveStaleInsteadOf(e)) {
            return;
        }
        state = State.FAILING;
        error = e;
        // What was written of a response that cannot be finished still goes out before the close.
        response.flushUnlessComplete();
        UpstreamAttempt a = attempt;
        if (a != null) {
            a.observeEnd(AttemptOutcome.CANCELLED);
            a.abandon();
        }
        if (!requestBody.complete) {
            // What is left of the request body is not wanted; the connection cannot be reused safely
            // unless the body is drained, which the connection handler does when keep-alive stays on.
            requestBody.releasePending();
        }
        CompletionStage<FailToProxy> stage;
        try {
            stage = engine.proxy.failToProxy(session, e, ctx);
        } catch (Throwable t) {
            stage = CompletableFuture.completedFuture(session.defaultFailure(e));
        }
        await(stage, AFTER_FAIL_TO_PROXY, "failToProxy", null);
    }

    private void afterFailToProxy(@Nullable FailToProxy result) {
        if (result == null || !result.canReuseDownstream()) {
            session.keepAlive = false;
        }
        if (session.responseWritten && !response.isComplete()) {
            // A response that started cannot be finished: the client must see the connection end.
            session.keepAlive = false;
        }
        logError(error, result == null ? 0 : result.errorCode());
        finishAfterLastWrite();
    }

    private void logError(ProxyError e, int status) {
        engine.errorLog.logRequestError(engine.proxy, session, ctx, e, status);
    }

    private String requestSummary() {
        return engine.errorLog.requestSummary(engine.proxy, session, ctx);
    }

    private void finishAfterLastWrite() {
        if (state == State.FINISHING || state == State.RELEASED) {
            return;
        }
        state = State.FINISHING;
        response.finishCallAfterLastWrite();
    }

    /** The last write of the response is done: the modules and the logging phase hear of the end. */
    void finish() {
        for (int i = 0; i < moduleCount(); i++) {
            HttpModule module = module(i);
            if (module == null) {
                continue;
            }
            try {
                module.responseDone(session);
            } catch (Throwable t) {
                ProxyEngine.LOG.log(System.Logger.Level.WARNING, "module responseDone failed", t);
            }
        }
        Throwable writeFailure = response.lastWriteFailure();
        if (writeFailure != null && error == null) {
            session.keepAlive = false;
            error = Errors.responseWriteFailure(writeFailure);
            logError(error, session.responseStatus());
        }
        CompletionStage<Void> stage;
        try {
            stage = engine.proxy.logging(session, error, ctx);
        } catch (Throwable t) {
            ProxyEngine.LOG.log(System.Logger.Level.WARNING, "logging phase failed", t);
            stage = null;
        }
        if (stage == null) {
            release();
        } else {
            await(stage, AFTER_LOGGING, "logging", null);
        }
    }

    private void release() {
        if (state == State.RELEASED) {
            return;
        }
        state = State.RELEASED;
        if (deadlineTimer != null) {
            deadlineTimer.cancel(false);
            deadlineTimer = null;
        }
        UpstreamAttempt a = attempt;
        if (a != null) {
            a.abandon();
        }
        requestBody.release();
        if (cache != null) {
            cache.release();
        }
        engine.requestEnded(tunnel != null && tunnel.opened());
        boolean reusable = session.keepAlive && response.isComplete() && downstream.isOpen()
                && !response.clientAwaitsContinue(requestBody.complete);
        downstream.finished(reusable, requestBody.complete);
    }

    // ---------------------------------------------------------------------------------------------
    // Asynchronous phases

    @Override
    boolean dropIfStale(int step, @Nullable UpstreamAttempt scope) {
        if (state != State.RELEASED && (scope == null || scope == attempt)) {
            return false;
        }
        if (scope != null && step == AFTER_REQUEST_BODY_FILTER) {
            scope.releaseRequestPart();
        }
        return true;
    }

    @Override
    void failStep(ProxyError e, int step, @Nullable UpstreamAttempt scope) {
        switch (step) {
            case AFTER_LOGGING -> {
                ProxyEngine.LOG.log(System.Logger.Level.WARNING, "logging phase failed", e);
                release();
            }
            case AFTER_FAIL_TO_PROXY -> afterFailToProxy(session.defaultFailure(e));
            case AFTER_REQUEST_BODY_FILTER -> {
                scope.releaseRequestPart();
                upstreamFailure(scope, Errors.noRetry(e));
            }
            case AFTER_UPSTREAM_REQUEST_FILTER, AFTER_RESPONSE_FILTER -> upstreamFailure(scope, Errors.noRetry(e));
            case AFTER_UPSTREAM_REFUSED_RESPONSE -> {
                session.keepAlive = false;
                finishAfterLastWrite();
            }
            default -> failRequest(e);
        }
    }

    @Override
    void resume(int step, @Nullable Object value, @Nullable UpstreamAttempt scope) {
        if (state == State.RELEASED) {
            return;
        }
        if (state == State.FAILING && step != AFTER_FAIL_TO_PROXY && step != AFTER_LOGGING) {
            if (step == AFTER_REQUEST_BODY_FILTER) {
                scope.releaseRequestPart();
            }
            return;
        }
        switch (step) {
            case AFTER_EARLY_REQUEST_FILTER, AFTER_MODULE_REQUEST_FILTER -> {
                if (session.responseWritten) {
                    afterRequestFilter(true);
                } else {
                    runModuleRequestFilters();
                }
            }
            case AFTER_REQUEST_FILTER -> afterRequestFilter(Boolean.TRUE.equals(value));
            case AFTER_PROXY_UPSTREAM_FILTER -> afterProxyUpstreamFilter(!Boolean.FALSE.equals(value));
            case AFTER_UPSTREAM_PEER -> afterUpstreamPeer((HttpPeer) value);
            case AFTER_UPSTREAM_REQUEST_FILTER -> afterUpstreamRequestFilter(scope);
            case AFTER_REQUEST_BODY_FILTER -> requestBody.afterFilter(scope);
            case AFTER_RESPONSE_FILTER -> afterResponseFilter(scope);
            case AFTER_FAIL_TO_PROXY -> afterFailToProxy((FailToProxy) value);
            case AFTER_LOGGING -> release();
            case AFTER_UPSTREAM_REFUSED_RESPONSE -> finishAfterLastWrite();
            default -> throw new IllegalStateException("step: " + step);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Responses written by phases (Session.writeResponseHeader / writeResponseBody)

    /** On the event loop: modules see (and may change) a self-written header before it goes out. */
    void writeResponseHeaderFromPhase(ResponseHeader header, boolean endOfStream, CompletableFuture<Void> result) {
        if (session.responseWritten) {
            throw new IllegalStateException("a response header was already written for this request");
        }
        for (int i = 0; i < moduleCount(); i++) {
            HttpModule module = module(i);
            if (module != null) {
                module.responseHeaderFilter(session, header, endOfStream);
            }
        }
        response.writeHeaderFromPhase(header, endOfStream, result);
        finishShortCircuitIfDone();
    }

    /** On the event loop. */
    void writeResponseBodyFromPhase(byte[] body, boolean endOfStream, CompletableFuture<Void> result) {
        response.writeBodyFromPhase(body, endOfStream, result);
        finishShortCircuitIfDone();
    }

    private void finishShortCircuitIfDone() {
        if (shortCircuited && response.isComplete() && state == State.ACTIVE) {
            finishAfterLastWrite();
        }
    }

    @Override
    public String toString() {
        RequestHeader request = downstream.requestHeader();
        return "ProxyCall{" + request.method() + ' ' + request.uri() + ", attempts=" + session.attempts + '}';
    }
}
