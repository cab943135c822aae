package dev.relay.transport.internal;

import dev.relay.core.FailToProxy;
import dev.relay.core.ProxyError;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import io.netty.channel.EventLoop;

import java.net.SocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * The {@link Session} the phases of one {@link ProxyCall} see: the request, its connection, the
 * counters and flags the call keeps up to date, and the short-circuit writes, which go through the
 * call (modules see a self-written response header first). Protocol-neutral: the connection facts
 * come from the {@link DownstreamStream}.
 */
final class CallSession implements Session {
    // The stream and the event loop are the call's, read through it rather than copied: 8 B a request.
    private final ProxyCall<?> call;
    private final long startNanos;

    boolean keepAlive;
    boolean responseWritten;
    int responseStatus;
    long requestBodyBytes;
    long responseBodyBytes;
    int attempts;
    long upstreamConnectNanos;
    boolean upstreamReused;

    private @org.jspecify.annotations.Nullable CallCache cache;

    CallSession(ProxyCall<?> call, long startNanos) {
        this.call = call;
        this.startNanos = startNanos;
    }

    @Override
    public CallCache cache() {
        CallCache c = cache;
        if (c == null) {
            cache = c = new CallCache(this, call.clock());
        }
        return c;
    }

    /** The request's cache state when a phase or module enabled a cache, else null (without making one). */
    @org.jspecify.annotations.Nullable CallCache enabledCache() {
        CallCache c = cache;
        return c != null && c.isEnabled() ? c : null;
    }

    @Override
    public RequestHeader requestHeader() {
        return call.downstream().requestHeader();
    }

    @Override
    public SocketAddress clientAddress() {
        return call.downstream().clientAddress();
    }

    @Override
    public SocketAddress serverAddress() {
        return call.downstream().serverAddress();
    }

    @Override
    public boolean isTls() {
        return call.downstream().isTls();
    }

    @Override
    public dev.relay.core.@org.jspecify.annotations.Nullable TlsInfo downstreamTls() {
        return call.downstream().tls();
    }

    @Override
    public boolean isConnectionReused() {
        return call.downstream().isConnectionReused();
    }

    @Override
    public CompletionStage<Void> writeResponseHeader(ResponseHeader header, boolean endOfStream) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        onLoop(result, () -> call.writeResponseHeaderFromPhase(header, endOfStream, result));
        return result;
    }

    @Override
    public CompletionStage<Void> writeResponseBody(byte[] body, boolean endOfStream) {
        byte[] copy = body.clone();
        CompletableFuture<Void> result = new CompletableFuture<>();
        onLoop(result, () -> call.writeResponseBodyFromPhase(copy, endOfStream, result));
        return result;
    }

    @Override
    public CompletionStage<byte[]> readRequestBody(int maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: >= 0)");
        }
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        onLoop(result, () -> call.requestBody().bufferWhole(maxBytes, result));
        return result;
    }

    /**
     * What {@code ProxyHttp.failToProxy} does by default, without waiting for the write: the answer
     * when a user's {@code failToProxy} throws or fails (the error's status as a short error page
     * unless the response has started; the client connection not reused).
     */
    FailToProxy defaultFailure(ProxyError e) {
        int status = e.defaultStatus();
        if (status > 0 && !responseWritten) {
            respondError(status);
            return new FailToProxy(status, false);
        }
        return new FailToProxy(0, false);
    }

    /**
     * The answer to a request shed for overload: 503 with {@code Retry-After: 1}, fixed, not
     * configured: an excess of requests in flight is a matter of moments, and a longer value would be
     * a guess about the load to come.
     */
    CompletionStage<Void> respondOverloaded() {
        ResponseHeader header = ResponseHeader.of(503);
        header.headers().set("Retry-After", "1");
        header.headers().set("Content-Type", "text/plain; charset=utf-8");
        return respond(header, "503 Service Unavailable\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    /** Runs {@code action} on the event loop; if it throws, {@code result} fails with the exception. */
    private void onLoop(CompletableFuture<?> result, Runnable action) {
        Runnable guarded = () -> {
            try {
                action.run();
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        };
        EventLoop loop = call.loop();
        if (loop.inEventLoop()) {
            guarded.run();
        } else {
            loop.execute(guarded);
        }
    }

    @Override
    public boolean responseWritten() {
        return responseWritten;
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
        return call.requestBody().isReplayable();
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
        return call.loop();
    }

    EventLoop loop() {
        return call.loop();
    }

    @Override
    public String toString() {
        return "Session{" + call.downstream().requestHeader() + ", attempts=" + attempts + '}';
    }
}
