package dev.relay.transport.internal;

import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpHeaders;
import dev.relay.core.ProxyError;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.jspecify.annotations.Nullable;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The request body of one call on its way upstream: the parts read from the client and not yet
 * sent, the flow control that reads from the client only while those parts have somewhere to go,
 * the client's body read timeout, the replay buffer for retries, and whole-body buffering for
 * {@code Session.readRequestBody}. The filters themselves run in {@link ProxyCall}; this class decides
 * when a part moves.
 */
final class RequestBody {
    // The stream and the clock are the call's, read through it rather than copied: 8 B a request.
    private final ProxyCall<?> call;
    /** Made on the first part that has to wait: a request without a body never needs one (saves 24 B). */
    private @Nullable BodyQueue pending;
    /**
     * The head of {@link #pending} was taken back from an abandoned attempt: it passed the modules
     * (per request) already, and goes only through the ProxyHttp phase (per attempt) again.
     */
    private boolean headPassedModules;
    /** Made when the first body byte goes upstream: a request without a body has nothing to replay. */
    private @Nullable ReplayBuffer replay;
    private final int replayLimit;
    /** No Content-Length above 0 and no chunked coding: the request has no body at all (RFC 9112 §6.3). */
    private final boolean bodiless;
    private @Nullable LazyTimer readTimer;

    /** The whole request body has been read from the client. */
    boolean complete;
    /** The end of the request body went upstream (on some attempt). */
    private boolean forwarded;

    private @Nullable CompletableFuture<byte[]> wholeBody;
    private int wholeBodyLimit;
    private boolean buffered;
    private long bufferedLength;

    RequestBody(ProxyCall<?> call, boolean requestHasBody, int replayLimit) {
        this.call = call;
        this.replayLimit = replayLimit;
        this.bodiless = !requestHasBody;
    }

    /** Starts the client's body read timeout when a body is to come. */
    void startReadTimer() {
        if (!complete && !bodiless) {
            readTimer = new LazyTimer(call.clock(), call.loop(), this::onReadTimer);
            readTimer.arm(call.downstream().bodyReadTimeoutNanos());
        }
    }

    private void onReadTimer() {
        if (complete) {
            return;
        }
        if (call.downstream().isReadingPaused()) {
            // The proxy itself stopped reading (backpressure): the client is not late.
            readTimer.arm(call.downstream().bodyReadTimeoutNanos());
            return;
        }
        if (call.isActive()) {
            call.session().keepAlive = false;
            call.failRequest(ProxyError.downstream(ErrorType.READ_TIMEDOUT, "client sent no request body for "
                    + TimeUnit.NANOSECONDS.toMillis(call.downstream().bodyReadTimeoutNanos()) + " ms", null));
        }
    }

    /** Whether the body is still coming from the client and the proxy is reading it (no backpressure). */
    boolean isClientSending() {
        return !complete && !bodiless && !call.downstream().isReadingPaused();
    }

    /** A part arrived from the client (ownership passes here). */
    void onPart(ByteBuf data, boolean last, @Nullable HttpHeaders trailers) {
        if (bodiless && last && !data.isReadable()) {
            // The end marker of a request without a body: the body phases already ran with an empty
            // end-of-stream chunk when the header went upstream (one write, one flush).
            data.release();
            complete = true;
            if (wholeBody != null && !buffered && call.isActive()) {
                // readRequestBody ran before the end marker came: it waits for this.
                checkWholeBody();
            }
            updateReading();
            return;
        }
        call.session().requestBodyBytes += data.readableBytes();
        if (last) {
            complete = true;
            if (readTimer != null) {
                readTimer.cancel();
            }
        } else if (readTimer != null) {
            readTimer.arm(call.downstream().bodyReadTimeoutNanos());
        }
        if (!call.isActive()) {
            data.release();
            return;
        }
        pending().add(data, last, trailers);
        if (wholeBody != null && !buffered) {
            checkWholeBody();
            updateReading();
            return;
        }
        pump();
    }

    /** The client's body could not be parsed: nothing more comes, and the request fails. */
    void onMalformed(ProxyError e) {
        complete = true;
        call.session().keepAlive = false;
        // Once the attempt has its stream, the failure is the attempt's (no retry: the body is broken).
        UpstreamAttempt a = call.attempt();
        if (a != null && (a.stream != null || a.headerSent)) {
            call.upstreamFailure(a, Errors.noRetry(e));
        } else {
            call.failRequest(e);
        }
    }

    /** Reads the whole body into memory (Session.readRequestBody): completes {@code result} once it is all here. */
    void bufferWhole(int maxBytes, CompletableFuture<byte[]> result) {
        if (wholeBody != null || call.session().attempts > 0) {
            throw new IllegalStateException("readRequestBody: call it once, before upstreamPeer");
        }
        call.response().sendContinueIfAwaited(complete);
        wholeBodyLimit = maxBytes;
        wholeBody = result;
        checkWholeBody();
        updateReading();
    }

    /** Completes the whole-body read once the body is all here, or fails it with 413 once it is too long. */
    private void checkWholeBody() {
        BodyQueue pending = pending();
        long held = pending.readableBytes();
        if (held > wholeBodyLimit) {
            call.session().keepAlive = false;
            wholeBody.completeExceptionally(ProxyError.httpStatus(413, ErrorSource.DOWNSTREAM)
                    .setContext("request body longer than " + wholeBodyLimit + " bytes"));
            return;
        }
        if (!complete) {
            return;
        }
        byte[] body = pending.copyBytes();
        buffered = true;
        bufferedLength = held;
        wholeBody.complete(body);
    }

    /**
     * The exact body length when the whole body was read before going upstream, else -1 (also for a
     * request without a body: a GET whose empty body was read gets no {@code Content-Length: 0}).
     */
    long bufferedLength() {
        return buffered && !bodiless ? bufferedLength : -1;
    }

    boolean isReplayable() {
        return replay == null || replay.isReplayable();
    }

    /** The request header went out on {@code a}: what an earlier attempt already sent goes again. */
    void afterHeaderSent(UpstreamAttempt a, UpstreamStream stream) {
        if (replay != null) {
            replay.replayTo(stream);
        }
        if (forwarded) {
            stream.writeBody(Unpooled.EMPTY_BUFFER, true, null);
        } else if (bodiless && nothingPending()) {
            // The body phases run once, with the empty end-of-stream chunk, and the end of the request
            // goes out with its header (one write, one flush). A chunk taken back from an abandoned
            // attempt already passed the modules: the pump sends it.
            call.filterRequestPart(a, Unpooled.EMPTY_BUFFER, true, null, false);
        }
    }

    /** Moves held parts to the filters while the current attempt can take them. */
    void pump() {
        UpstreamAttempt a;
        while ((a = call.attempt()) != null && a.headerSent && a.stream != null && !a.requestBodyFilterBusy
                && call.isActive() && !nothingPending()) {
            boolean last = pending.nextIsLast();
            ByteBuf part = pending.poll();
            boolean passedModules = headPassedModules;
            headPassedModules = false;
            call.filterRequestPart(a, part, last, last ? pending.takeTrailers() : null, passedModules);
        }
        updateReading();
    }

    /** The ProxyHttp phase finished the part {@code a} held: it goes upstream, and the next may follow. */
    void afterFilter(UpstreamAttempt a) {
        a.requestPartFiltered();
        send(a, a.busyChunkLast, a.busyChunkTrailers);
        a.busyChunkTrailers = null;
        pump();
    }

    /** Sends the filtered part held in {@code a}'s chunk upstream. */
    void send(UpstreamAttempt a, boolean last, @Nullable HttpHeaders trailers) {
        UpstreamStream stream = a.stream;
        ByteBuf out = a.requestChunk.take();
        if (stream == null) {
            out.release();
            return;
        }
        stream.progress();
        if (out.isReadable()) {
            if (replay == null) {
                replay = new ReplayBuffer(replayLimit);
            }
            replay.keep(out, buffered);
        }
        if (last) {
            forwarded = true;
            stream.writeBody(out, true, trailers);
            stream.flush();
        } else if (out.isReadable()) {
            stream.writeBody(out, false, null);
            stream.flush();
        } else {
            out.release();
        }
    }

    /** Reads from the client only while its body has somewhere to go, so memory stays bounded. */
    void updateReading() {
        if (complete) {
            // Nothing more of this request to read. Reading stays on (toggling it costs a syscall on
            // io_uring and epoll); a pipelined request that arrives meanwhile is held by the
            // connection handler, which stops reading then.
            call.downstream().setReading(true);
            return;
        }
        boolean read;
        if (wholeBody != null && !buffered && !wholeBody.isDone()) {
            read = true;
        } else {
            // Before an upstream is ready at most one part is held back; after, its writability decides.
            UpstreamAttempt a = call.attempt();
            UpstreamStream stream = a == null ? null : a.stream;
            read = nothingPending() && (a == null || !a.requestBodyFilterBusy)
                    && (stream == null || stream.isWritable());
        }
        call.downstream().setReading(read);
    }

    /**
     * Takes back the part abandoned attempt {@code a} was filtering: it goes first on the next attempt,
     * as the modules left it (they see each part once per request; the ProxyHttp phase, once per
     * attempt, sees it again). What {@code a} sent is not here: the replay buffer sends it, unfiltered.
     */
    void takeBackFrom(UpstreamAttempt a) {
        headPassedModules |= a.takeBackRequestPart(pending());
    }

    private BodyQueue pending() {
        BodyQueue q = pending;
        if (q == null) {
            pending = q = new BodyQueue();
        }
        return q;
    }

    private boolean nothingPending() {
        return pending == null || pending.isEmpty();
    }

    /** Drops what the client sent and nobody will read. */
    void releasePending() {
        if (pending != null) {
            pending.releaseAll();
        }
        headPassedModules = false;
    }

    /** The call is over: releases everything held and stops the timer. */
    void release() {
        if (readTimer != null) {
            readTimer.cancel();
        }
        if (replay != null) {
            replay.release();
        }
        releasePending();
    }
}
