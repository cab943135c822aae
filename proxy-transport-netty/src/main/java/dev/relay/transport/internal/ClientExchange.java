package dev.relay.transport.internal;

import dev.relay.core.ErrorType;
import dev.relay.core.HttpHeaders;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.RetryType;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import org.jspecify.annotations.Nullable;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

/**
 * One request of a {@link ClientEngine}: a stream from the pools (or a new connection), the whole
 * request written at once, the response collected up to a limit or read and dropped. The proxy's
 * {@link UpstreamAttempt} with none of the phases: the same streams, the same timeouts of the peer's
 * {@code PeerOptions} (connect and TLS in the connector; read and write here). Runs on its event
 * loop only.
 *
 * <p>A request that fails on a pooled connection before any response arrived, when the stream says
 * the failure is the keep-alive race ({@link RetryType#REUSED_ONLY} or {@link RetryType#YES}), is sent
 * once more on another connection, if the engine allows it: the origin never processed it.
 */
final class ClientExchange implements UpstreamStreams.Callback, UpstreamStream.Listener {
    private static final byte[] NO_BYTES = new byte[0];

    final CompletableFuture<ClientEngine.Response> result = new CompletableFuture<>();
    private final ClientEngine engine;
    private final UpstreamStreams streams;
    private final EngineClock clock;
    private final EventLoop loop;
    private final HttpPeer peer;
    private final RequestHeader request;
    private final byte[] body;
    /** The most body bytes collected; -1: the body is read and dropped. */
    private final long maxBody;
    /** The whole exchange's deadline from start, retry included; 0: none. */
    private final long timeoutNanos;
    private boolean mayRetry;

    private @Nullable UpstreamStream stream;
    private boolean reused;
    private @Nullable ResponseHeader response;
    private byte[] collected = NO_BYTES;
    private int collectedLength;
    private @Nullable LazyTimer writeTimer;
    private @Nullable LazyTimer deadline;

    ClientExchange(ClientEngine engine, EventLoop loop, HttpPeer peer, RequestHeader request, byte[] body,
                   long maxBody, long timeoutNanos, boolean mayRetry) {
        this.timeoutNanos = timeoutNanos;
        this.engine = engine;
        this.streams = engine.streams();
        this.clock = engine.clock();
        this.loop = loop;
        this.peer = peer;
        this.request = request;
        this.body = body;
        this.maxBody = maxBody;
        this.mayRetry = mayRetry;
    }

    /** Asks for a stream; a client request speaks for no client connection, so it sends no PROXY header. */
    void start() {
        if (engine.isClosed()) {
            // The client closed between send and this task: a connection opened now would outlive it.
            fail(ClientEngine.closedError());
            return;
        }
        if (timeoutNanos > 0) {
            // The read timeout bounds each silence only: an origin that trickles, or streams without end,
            // would hold the exchange (and whatever counts it in flight) for ever without this one.
            deadline = new LazyTimer(clock, loop, this::onDeadline);
            deadline.arm(timeoutNanos);
        }
        streams.acquire(peer, null, loop, UpstreamStreams.ConnectionChoice.ANY, this);
    }

    // ---- acquisition ------------------------------------------------------------------------------

    @Override
    public void onStreamReady(UpstreamStream ready, boolean fromPool, long connectNanos) {
        if (result.isDone()) {
            ready.release();
            return;
        }
        if (engine.isClosed()) {
            // A request that waited for a busy connection (PeerLimits) while the client closed.
            ready.abort();
            fail(ClientEngine.closedError());
            return;
        }
        stream = ready;
        reused = fromPool;
        ready.start(this);
        boolean hasBody = body.length > 0;
        // An empty body is announced (Content-Length: 0) only where a body is expected (a GET goes without),
        // or where the caller's header announces one: its Content-Length would otherwise go out as given with
        // no byte after it, and the origin would read the next request on the connection as the body.
        long length = hasBody || expectsBody(request.method()) || announcesBody(request) ? body.length : -1;
        // Each write may fail the stream inline (a write to a closed channel reports at once): the exchange
        // has then moved on (failed, or retrying on another stream), and this one must not be touched again.
        ready.writeHeader(ready.newRequestHeader(request, peer, hasBody, length, false));
        if (stream != ready) {
            return;
        }
        Duration readTimeout = peer.options().readTimeout();
        ready.armReadTimeout(readTimeout == null ? 0 : readTimeout.toNanos());
        // The caller's array is wrapped, not copied: the caller gave it up with the request.
        ready.writeBody(hasBody ? Unpooled.wrappedBuffer(body) : Unpooled.EMPTY_BUFFER, true, null);
        if (stream != ready) {
            return;
        }
        ready.flush();
        if (stream == ready && !ready.isWritable()) {
            onWritabilityChanged(false);
        }
    }

    private static boolean announcesBody(RequestHeader request) {
        return request.headers().contains("Content-Length") || request.headers().contains("Transfer-Encoding");
    }

    private static boolean expectsBody(String method) {
        return method.equals("POST") || method.equals("PUT") || method.equals("PATCH");
    }

    @Override
    public void onStreamFailed(ProxyError error) {
        fail(error);
    }

    @Override
    public boolean isAbandoned() {
        return result.isDone();
    }

    // ---- the stream --------------------------------------------------------------------------------

    @Override
    public void onResponseHeader(ResponseHeader header) {
        response = header;
    }

    @Override
    public void onInterimResponse(ResponseHeader interim) {
        // 1xx: the final response follows.
    }

    @Override
    public void onResponseBody(ByteBuf data, boolean last, @Nullable HttpHeaders trailers) {
        try {
            if (maxBody >= 0 && data.isReadable()) {
                int n = data.readableBytes();
                if (collectedLength + (long) n > maxBody) {
                    abortWith(ProxyError.upstream(ErrorType.READ_ERROR, "response body of " + peer
                            + " over " + maxBody + " bytes", null).setRetry(false));
                    return;
                }
                if (collectedLength + n > collected.length) {
                    collected = Arrays.copyOf(collected, (int) Math.min(maxBody,
                            Math.max(collectedLength + (long) n, 2L * collected.length)));
                }
                data.readBytes(collected, collectedLength, n);
                collectedLength += n;
            }
        } finally {
            data.release();
        }
        if (last) {
            complete(trailers);
        }
    }

    private void complete(@Nullable HttpHeaders trailers) {
        ResponseHeader header = response;
        UpstreamStream s = stream;
        stream = null;
        disarmWriteTimer();
        if (s != null) {
            // Back to the pool before the caller hears of it: its next request can reuse the connection.
            s.release();
        }
        if (header == null) {
            fail(ProxyError.upstream(ErrorType.H1_ERROR, "no response header from " + peer, null));
            return;
        }
        cancelDeadline();
        byte[] bytes = collectedLength == collected.length ? collected : Arrays.copyOf(collected, collectedLength);
        result.complete(new ClientEngine.Response(header, bytes, trailers, reused));
    }

    @Override
    public void onReadComplete() {
        // Nothing is written anywhere while reading: nothing to flush.
    }

    @Override
    public void onFailure(ProxyError error) {
        if (mayRetry && reused && response == null && error.retryType() != RetryType.NO && !engine.isClosed()) {
            // The keep-alive race: the origin closed the pooled connection as the request went out.
            mayRetry = false;
            dropStream();
            // Never another pooled HTTP/1.1 connection: it may be as stale (an h2-or-h1 peer that chose
            // HTTP/1.1 included). An HTTP/2 pool dropped the stale connection and opens one when it has none.
            streams.acquire(peer, null, loop, UpstreamStreams.ConnectionChoice.NEW, this);
            return;
        }
        abortWith(error.setRetry(false));
    }

    @Override
    public void onReadTimeout() {
        abortWith(ProxyError.upstream(ErrorType.READ_TIMEDOUT, "no data from " + peer + " for "
                + peer.options().readTimeout().toMillis() + " ms", null));
    }

    @Override
    public void onWritabilityChanged(boolean writable) {
        Duration writeTimeout = peer.options().writeTimeout();
        if (writeTimeout == null) {
            return;
        }
        if (writable) {
            disarmWriteTimer();
            return;
        }
        if (writeTimer == null) {
            writeTimer = new LazyTimer(clock, loop, this::onWriteTimeout);
        }
        writeTimer.arm(writeTimeout.toNanos());
    }

    private void onWriteTimeout() {
        UpstreamStream s = stream;
        if (s != null && !s.isWritable()) {
            abortWith(ProxyError.upstream(ErrorType.WRITE_TIMEDOUT, peer + " did not take the request for "
                    + peer.options().writeTimeout().toMillis() + " ms", null));
        }
    }

    private void onDeadline() {
        if (!result.isDone()) {
            abortWith(ProxyError.upstream(ErrorType.DEADLINE_EXCEEDED, "no whole response from " + peer
                    + " within " + java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms", null)
                    .setRetry(false));
        }
    }

    // ---- ending ------------------------------------------------------------------------------------

    private void abortWith(ProxyError error) {
        dropStream();
        fail(error);
    }

    /** Closes the stream (its connection is not reused) and stops the write timer. */
    private void dropStream() {
        UpstreamStream s = stream;
        stream = null;
        response = null;
        collected = NO_BYTES;
        collectedLength = 0;
        disarmWriteTimer();
        if (s != null) {
            s.abort();
        }
    }

    private void disarmWriteTimer() {
        if (writeTimer != null) {
            writeTimer.cancel();
            writeTimer = null;
        }
    }

    private void cancelDeadline() {
        if (deadline != null) {
            deadline.cancel();
            deadline = null;
        }
    }

    /** Fails the exchange; on its loop, or from the caller's thread before it started. */
    void fail(ProxyError error) {
        cancelDeadline();
        if (error.peer() == null) {
            error.setPeer(peer);
        }
        result.completeExceptionally(error);
    }

    @Override
    public String toString() {
        return "ClientExchange{" + request.method() + ' ' + request.uri() + " to " + peer + '}';
    }
}
