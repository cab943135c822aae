package dev.relay.filters.shaping;

import dev.relay.core.BodyChunk;
import dev.relay.core.ErrorSource;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.ProxyError;
import dev.relay.core.Session;
import dev.relay.core.Stages;

import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The {@code body-limit} filter: a request body longer than {@code maxSize} gets 413 Content Too
 * Large (nginx's {@code client_max_body_size}).
 *
 * <pre>{@code
 * BodyLimitFilter limit = BodyLimitFilter.of(1L << 20);   // 1 MiB
 * }</pre>
 *
 * <p>A request that declares a longer {@code Content-Length} is answered at once, in the request hook:
 * nothing goes upstream and nothing of the body is read (a client that sent {@code Expect:
 * 100-continue} never sends it). A body without a length (chunked, or an HTTP/2 stream) is counted
 * as it goes upstream: once it passes the limit the request fails with 413, the upstream request is
 * abandoned (that connection closed, not pooled: the origin saw a body that never ended) and the
 * client gets the 413 unless a response had started (then the connection is cut, as for any failure
 * mid-response). Either way the rest of the body is not read: the HTTP/1.1 connection closes after
 * the 413, which says {@code Connection: close} (RFC 9112 §9.6), rather than draining a body of any
 * length to keep it.
 *
 * <p>The limit counts the bytes as the client sent them, before any later body filter changes them.
 * {@code Session.readRequestBody(max)} has a limit of its own, for the filter that calls it.
 */
public final class BodyLimitFilter implements HttpModuleFactory {
    /** The name configurations use. */
    public static final String NAME = "body-limit";

    private final long maxSize;

    private BodyLimitFilter(long maxSize) {
        this.maxSize = maxSize;
    }

    /** A limit of {@code maxSize} bytes (0 allows no body at all). */
    public static BodyLimitFilter of(long maxSize) {
        if (maxSize < 0) {
            throw new InvalidSettingException("max-size", maxSize + " (expected: a size of 0 or more bytes)");
        }
        return new BodyLimitFilter(maxSize);
    }

    @Override
    public String name() {
        return NAME;
    }

    /** The limit in bytes. */
    public long maxSize() {
        return maxSize;
    }

    @Override
    public HttpModule newModule() {
        return new BodyLimitModule();
    }

    private ProxyError tooLarge(Session session, String what) {
        // The rest of the body stays unread: the connection cannot carry another request.
        session.disableKeepAlive();
        return ProxyError.httpStatus(413, ErrorSource.DOWNSTREAM)
                .setContext(what + " over the body-limit filter's max-size of " + maxSize + " bytes");
    }

    /** The declared length, -1 without one; a malformed one is the transport's to reject, so it counts as none. */
    static long declaredLength(List<String> contentLength) {
        if (contentLength.size() != 1) {
            return -1;
        }
        String value = contentLength.get(0).trim();
        if (value.isEmpty() || value.length() > 18) {
            return value.isEmpty() ? -1 : Long.MAX_VALUE;
        }
        for (int i = 0; i < value.length(); i++) {
            if (value.charAt(i) < '0' || value.charAt(i) > '9') {
                return -1;
            }
        }
        return Long.parseLong(value);
    }

    @Override
    public String toString() {
        return NAME + "(max-size: " + maxSize + ")";
    }

    /** One request's: the bytes counted so far. */
    private final class BodyLimitModule implements HttpModule {
        private long seen;

        @Override
        public CompletionStage<Void> requestHeaderFilter(Session session) {
            long declared = declaredLength(session.requestHeader().headers().getAll("Content-Length"));
            if (declared > maxSize) {
                return Stages.failed(tooLarge(session, "Content-Length " + declared));
            }
            return Stages.done();
        }

        @Override
        public void requestBodyFilter(Session session, BodyChunk body, boolean endOfStream) {
            seen += body.length();
            if (seen > maxSize) {
                // The engine turns this into the attempt's failure: the upstream request is abandoned, the
                // chunk released, and the client answered 413 unless a response already started.
                throw tooLarge(session, "request body of at least " + seen + " bytes");
            }
        }
    }
}
