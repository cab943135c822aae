package dev.relay.transport.internal;

import dev.relay.core.AttemptOutcome;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpHeaders;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.RetryType;
import dev.relay.core.UpstreamObserver;
import io.netty.buffer.ByteBuf;
import org.jspecify.annotations.Nullable;

import java.time.Duration;

/**
 * One try at getting the response from one peer (OkHttp's {@code Exchange}): the peer, the stream,
 * the per-attempt flags and timers, the response body waiting to be written, and the pairing of the
 * observer's start and end. A retry makes a new attempt; everything the old one still hears (a late
 * connect, a late response byte, a phase that completes late) finds it is no longer the call's
 * current attempt and is dropped, so an abandoned attempt cannot touch the next one.
 *
 * <p>Listener of its stream and of the acquisition; forwards what matters to the {@link ProxyCall},
 * which alone runs the phases.
 */
final class UpstreamAttempt implements UpstreamStream.Listener, UpstreamStreams.Callback {
    final ProxyCall<?> call;
    final HttpPeer peer;
    final long startNanos;
    /** The request body chunk the filters work on during this attempt. */
    final ByteBufBodyChunk requestChunk = new ByteBufBodyChunk();
    /**
     * Response body parts waiting for the response header to be written, a filter, or the client; made
     * when the first part has to wait (most responses pass straight through: saves 24 B).
     */
    private @Nullable BodyQueue responseBody;

    @Nullable UpstreamStream stream;
    boolean reused;
    long connectNanos;
    /** The observer heard onAttemptStart and has not heard onAttemptEnd yet. */
    private boolean observed;

    @Nullable RequestHeader request;
    boolean headerSent;
    /** {@code ProxyHttp.requestBodyFilter} has not finished with the part in {@link #requestChunk}. */
    boolean requestBodyFilterBusy;
    boolean busyChunkLast;
    @Nullable HttpHeaders busyChunkTrailers;
    /**
     * The part in {@link #requestChunk} as the modules left it, kept (a reference count, not a copy)
     * while the ProxyHttp phase works on it: an abandoned attempt hands it to the next one, whose
     * ProxyHttp phase must not see what this attempt's phase made of it, and whose modules must not see
     * it again.
     */
    private @Nullable ByteBuf requestPartFromModules;

    @Nullable ResponseHeader response;
    boolean responseFilterBusy;
    boolean responsePaused;
    /** Between a read's first event and its end: what is written to the client is flushed at the end. */
    private boolean inRead;
    private boolean flushPending;
    private @Nullable LazyTimer writeTimer;

    /** Stands for "the cache" where an attempt needs a peer: a cached response has no origin. */
    private static final HttpPeer CACHE = HttpPeer.unix(java.nio.file.Path.of("/relay/cache"));

    /** The response comes from the cache ({@link CacheHitStream}): the upstream-only phases do not run. */
    final boolean fromCache;
    /** The cache answered instead of this attempt's response (a 304 that confirmed it): the rest is read and dropped, and the connection kept. */
    private boolean draining;

    UpstreamAttempt(ProxyCall<?> call, HttpPeer peer, long startNanos) {
        this(call, peer, startNanos, false);
    }

    private UpstreamAttempt(ProxyCall<?> call, HttpPeer peer, long startNanos, boolean fromCache) {
        this.call = call;
        this.peer = peer;
        this.startNanos = startNanos;
        this.fromCache = fromCache;
    }

    /** An attempt answered by {@code hit} (started by the caller); no observer hears of it. */
    static UpstreamAttempt fromCache(ProxyCall<?> call, CacheHitStream hit, long startNanos) {
        UpstreamAttempt a = new UpstreamAttempt(call, CACHE, startNanos, true);
        a.stream = hit;
        return a;
    }

    /**
     * The cache answers instead of this attempt's response: what is left of it is read and dropped, and
     * the connection goes back to the pool when it ends (a 304 has no body: in the same read).
     */
    void drainAndRelease() {
        observeEnd(AttemptOutcome.SUCCESS);
        draining = true;
        releaseResponseBody();
        UpstreamStream s = stream;
        if (s != null) {
            s.setReading(true);
        }
    }

    /**
     * Tells the observer that this attempt starts. An observer that throws is a user callback
     * failing: the error is returned for the call to end the request with, and no end is reported.
     */
    @Nullable ProxyError observeStart() {
        try {
            observer().onAttemptStart(peer);
        } catch (Throwable t) {
            return ProxyError.from(t, "UpstreamObserver.onAttemptStart");
        }
        observed = true;
        return null;
    }

    /** The attempt failed with {@code e} (now naming this attempt's peer when it named none). */
    void endWith(ProxyError e, AttemptOutcome outcome) {
        if (e.peer() == null) {
            e.setPeer(peer);
        }
        observeEnd(outcome);
    }

    /** Tells the observer how this attempt ended, once, if it heard the start. */
    void observeEnd(AttemptOutcome outcome) {
        if (observed) {
            observed = false;
            try {
                observer().onAttemptEnd(peer, outcome, call.clock().nanoTime() - startNanos);
            } catch (Throwable t) {
                // The request's fate is decided already; a broken observer must not change it.
                ProxyEngine.LOG.log(System.Logger.Level.WARNING, "upstream observer failed", t);
            }
        }
    }

    /** The engine's observer, read there rather than kept (4 B an attempt, which rounds its size down by 8). */
    private UpstreamObserver observer() {
        return fromCache ? UpstreamObserver.NONE : call.engine().options.upstreamObserver();
    }

    private boolean isCurrent() {
        return call.isCurrent(this);
    }

    // ---- acquisition ------------------------------------------------------------------------------

    @Override
    public void onStreamReady(UpstreamStream ready, boolean fromPool, long nanos) {
        if (!isCurrent()) {
            // The call moved on while connecting: the connection is sound, keep it for others.
            ready.release();
            return;
        }
        stream = ready;
        reused = fromPool;
        connectNanos = nanos;
        ready.start(this);
        call.onConnected(this);
    }

    @Override
    public void onStreamFailed(ProxyError error) {
        if (isCurrent()) {
            call.onConnectFailed(this, error);
        }
    }

    // ---- the stream --------------------------------------------------------------------------------

    @Override
    public void onResponseHeader(ResponseHeader header) {
        inRead = true;
        if (isCurrent()) {
            response = header;
            call.onResponseHeader(this);
        }
    }

    @Override
    public void onInterimResponse(ResponseHeader interim) {
        if (isCurrent()) {
            call.response().relayInterim(interim);
        }
    }

    @Override
    public void onResponseBody(ByteBuf data, boolean last, @Nullable HttpHeaders trailers) {
        if (draining) {
            data.release();
            if (last) {
                releaseStream();
            }
            return;
        }
        if (!isCurrent()) {
            data.release();
            return;
        }
        inRead = true;
        if (noResponseBodyWaiting() && canWriteResponse()) {
            // The common case: nothing waits, so the part goes straight through without queueing.
            call.onResponseBodyPart(this, data, last, trailers);
            flushAfterRead();
            updateReading();
            return;
        }
        if (responseBody == null) {
            responseBody = new BodyQueue();
        }
        responseBody.add(data, last, trailers);
        pumpResponse();
    }

    private boolean canWriteResponse() {
        return !responseFilterBusy && !responsePaused && call.acceptsResponseBody(this);
    }

    @Override
    public void onReadComplete() {
        inRead = false;
        if (flushPending) {
            flushPending = false;
            if (isCurrent()) {
                call.response().flushUnlessComplete();
            }
        }
    }

    /**
     * Flushes what was written to the client: at the end of the read in progress if there is one (so
     * a response header and the body that came with it leave in one write), else now.
     */
    void flushAfterRead() {
        if (inRead) {
            flushPending = true;
        } else if (isCurrent()) {
            call.response().flushUnlessComplete();
        }
    }

    @Override
    public void onFailure(ProxyError error) {
        if (isCurrent()) {
            call.upstreamFailure(this, retryableOnANewConnection(error));
        }
    }

    /**
     * A new connection that the origin closed or reset (or could not be written to) before any byte of
     * its response is what a backend going down looks like: an idempotent request on it is worth another
     * try (RFC 9110 §9.2.2 lets a proxy retry those; nginx's {@code proxy_next_upstream error} does, for
     * all but POST, LOCK and PATCH). Pingora's {@link RetryType#REUSED_ONLY} alone retries only a pooled
     * connection, where the same failure is the keep-alive race, whatever the method.
     */
    private ProxyError retryableOnANewConnection(ProxyError error) {
        if (error.retryType() == RetryType.REUSED_ONLY && !reused && response == null
                && Errors.isIdempotent(request != null ? request.method() : call.session().requestHeader().method())) {
            error.setRetryType(RetryType.YES);
        }
        return error;
    }

    @Override
    public void onReadTimeout() {
        if (isCurrent() && call.requestBody().isClientSending() && stream != null) {
            // The client is still sending its body, so the origin may be waiting for it: the client's
            // body read timeout judges that wait, and a trickling client gets 408, not a 504 blamed on
            // the origin (nginx arms proxy_read_timeout once the request is sent, too). With reading
            // paused the origin is not taking the body either: then the timeout is the origin's.
            stream.armReadTimeout(peer.options().readTimeout().toNanos());
            return;
        }
        if (isCurrent()) {
            call.upstreamFailure(this, ProxyError.upstream(ErrorType.READ_TIMEDOUT, "no data from upstream for "
                    + peer.options().readTimeout().toMillis() + " ms", null));
        }
    }

    @Override
    public void onWritabilityChanged(boolean writable) {
        if (!isCurrent()) {
            return;
        }
        Duration writeTimeout = peer.options().writeTimeout();
        if (writeTimeout != null) {
            if (writable) {
                if (writeTimer != null) {
                    writeTimer.disarm();
                }
            } else {
                if (writeTimer == null) {
                    writeTimer = new LazyTimer(call.clock(), call.session().loop(), this::onWriteTimeout);
                }
                writeTimer.arm(writeTimeout.toNanos());
            }
        }
        // The upstream's send buffer decides whether the client's body is read.
        call.requestBody().updateReading();
    }

    private void onWriteTimeout() {
        UpstreamStream s = stream;
        if (s != null && !s.isWritable() && isCurrent()) {
            call.upstreamFailure(this, ProxyError.upstream(ErrorType.WRITE_TIMEDOUT,
                    "upstream did not take the request for " + peer.options().writeTimeout().toMillis() + " ms", null));
        }
    }

    // ---- response body pump -----------------------------------------------------------------------

    /** Moves response body parts to the call while nothing holds them back, then sets upstream reading. */
    void pumpResponse() {
        boolean wrote = false;
        while (!noResponseBodyWaiting() && canWriteResponse()) {
            boolean last = responseBody.nextIsLast();
            ByteBuf part = responseBody.poll();
            wrote = true;
            call.onResponseBodyPart(this, part, last, last ? responseBody.takeTrailers() : null);
        }
        if (wrote) {
            flushAfterRead();
        }
        updateReading();
    }

    /**
     * Sends the filtered request header, with what is buffered of the body, and starts waiting for the
     * response; false when the stream is gone (the attempt was abandoned meanwhile).
     */
    boolean sendRequestHeader(RequestBody body) {
        UpstreamStream s = stream;
        if (s == null) {
            return false;
        }
        s.writeHeader(request);
        headerSent = true;
        Duration readTimeout = peer.options().readTimeout();
        s.armReadTimeout(readTimeout == null ? 0 : readTimeout.toNanos());
        body.afterHeaderSent(this, s);
        s.flush();
        return true;
    }

    // ---- the request body part in the ProxyHttp phase ---------------------------------------------

    /** The modules are done with the part in {@link #requestChunk}: keeps it as they left it. */
    void keepRequestPartFromModules() {
        requestPartFromModules = requestChunk.peek().retain();
    }

    /** The ProxyHttp phase finished the part: what it made is in {@link #requestChunk}. */
    void requestPartFiltered() {
        requestBodyFilterBusy = false;
        ByteBuf kept = requestPartFromModules;
        requestPartFromModules = null;
        if (kept != null) {
            kept.release();
        }
    }

    /** The ProxyHttp phase is still working on the part: nothing more moves until it is done. */
    void awaitRequestPart(boolean last, @Nullable HttpHeaders trailers) {
        requestBodyFilterBusy = true;
        busyChunkLast = last;
        busyChunkTrailers = trailers;
    }

    /** Drops the part of a ProxyHttp phase that failed, or finished too late; idempotent. */
    void releaseRequestPart() {
        busyChunkTrailers = null;
        requestChunk.releaseHeld();
        requestPartFiltered();
    }

    /**
     * This attempt was abandoned while its ProxyHttp phase worked on a part: puts the part back at the
     * head of {@code pending} as the modules left it (what the phase made of it is dropped) and returns
     * true; false when there was none.
     */
    boolean takeBackRequestPart(BodyQueue pending) {
        ByteBuf kept = requestPartFromModules;
        if (!requestBodyFilterBusy || kept == null) {
            return false;
        }
        requestPartFromModules = null;
        pending.addFirst(kept, busyChunkLast, busyChunkTrailers);
        releaseRequestPart();
        return true;
    }

    /** A body filter asked for a pause: no response part moves, and nothing is read, for {@code nanos}. */
    void pauseResponse(long nanos) {
        responsePaused = true;
        call.clock().schedule(call.session().loop(), () -> {
            responsePaused = false;
            if (isCurrent()) {
                pumpResponse();
            }
        }, nanos);
    }

    /** Reads from the origin only while the client takes what comes, so memory stays bounded. */
    void updateReading() {
        UpstreamStream s = stream;
        if (s != null) {
            s.setReading(noResponseBodyWaiting() && !responsePaused && call.downstreamWritable());
        }
    }

    private boolean noResponseBodyWaiting() {
        return responseBody == null || responseBody.isEmpty();
    }

    private void releaseResponseBody() {
        if (responseBody != null) {
            responseBody.releaseAll();
        }
    }

    /** Ends the exchange normally: the stream decides whether its connection can be reused. */
    void releaseStream() {
        UpstreamStream s = stream;
        if (s != null) {
            stream = null;
            s.release();
        }
    }

    /** Abandons the attempt: closes the stream, drops what it was holding, stops its timers. */
    void abandon() {
        if (draining) {
            // The cache answered in its place: the stream releases itself at the end of this response.
            return;
        }
        UpstreamStream s = stream;
        if (s != null) {
            stream = null;
            s.abort();
        }
        releaseResponseBody();
        if (writeTimer != null) {
            writeTimer.cancel();
        }
    }

    @Override
    public String toString() {
        return "UpstreamAttempt{" + peer + ", stream=" + stream + '}';
    }
}
