package dev.relay.core;

import dev.relay.core.cache.CacheKey;
import dev.relay.core.cache.CacheMeta;
import dev.relay.core.cache.CachePolicy;
import dev.relay.core.cache.ForcedFreshness;
import dev.relay.core.cache.RespCacheable;
import org.jspecify.annotations.Nullable;

import java.time.Duration;
import java.util.concurrent.CompletionStage;

/**
 * The user's proxy logic: a set of phase callbacks around each request, with a per-request context
 * {@code C} created by {@link #newCtx()}. Only {@link #newCtx()} and {@link #upstreamPeer} are
 * required; every other phase has a default that does what a plain reverse proxy does.
 *
 * <h2>Phase order (Pingora's)</h2>
 * <ol>
 *   <li>{@link #earlyRequestFilter}, before the downstream {@link HttpModule}s</li>
 *   <li>the modules' {@link HttpModule#requestHeaderFilter}</li>
 *   <li>{@link #requestFilter}: {@code true} means a response was sent; the engine only logs</li>
 *   <li>when {@link #requestCacheFilter} (or a module) enabled the cache: {@link #cacheKeyCallback},
 *     {@link #isPurge}, the lookup, {@link #cacheVaryFilter} for a stored variant,
 *     {@link #cacheHitFilter}; a fresh hit is answered from the cache through {@link #responseFilter}
 *     and {@link #responseBodyFilter} and ends there; otherwise {@link #cacheMissFilter} (a miss) and on
 *     to the origin, where {@link #responseCacheFilter} decides on storing the answer and
 *     {@link #shouldServeStale} on serving a stale copy instead of an error</li>
 *   <li>{@link #proxyUpstreamFilter}: {@code false} means 502 unless a response was written</li>
 *   <li>the attempt loop, up to the configured maximum:
 *     {@link #upstreamPeer} → connect → {@link #connectedToUpstream} or {@link #failToConnect}
 *     → {@link #upstreamRequestFilter} → {@link #requestBodyFilter} (per chunk)
 *     → {@link #upstreamResponseFilter} → {@link #responseFilter}
 *     → {@link #upstreamResponseBodyFilter} → {@link #responseBodyFilter} (per chunk)
 *     → trailer filters; any failure after connect goes to {@link #errorWhileProxy}; the loop goes
 *     round again when the error says retry</li>
 *   <li>on failure: {@link #failToProxy}, then {@link #suppressErrorLog} / {@link #requestSummary}
 *     for the one error-log line</li>
 *   <li>{@link #logging}: always, exactly once per request, with the error if any</li>
 * </ol>
 *
 * <h2>Threads</h2>
 * Every phase runs on the session's event loop, so a context needs no locking. Phases that may wait
 * return a {@link CompletionStage}; complete it on any thread and the engine resumes on the event
 * loop. The usual synchronous answer is one of the shared {@link Stages}, which costs nothing.
 * A phase that throws, or whose stage fails, fails the request with a {@link ProxyError} (other
 * exceptions become {@link ErrorType#INTERNAL}).
 *
 * <h2>Pingora's shape, on purpose</h2>
 * The method signatures deliberately keep the shape of Pingora's {@code ProxyHttp} trait, so that
 * Pingora users can port their code phase by phase, each method next to its Rust original: the
 * same phases under the same names (in camelCase: {@code upstream_peer} is {@link #upstreamPeer}),
 * the same arguments in Pingora's order, irregularities included ({@link #errorWhileProxy} takes the
 * peer first, {@link #failToConnect} the error last, {@link #suppressErrorLog} the context before
 * the error), the same meaning of results ({@code true} from {@link #requestFilter} means
 * "answered", a {@link Duration} from a body filter means "pause"), and a {@link CompletionStage}
 * where Pingora's method is {@code async}. The differences are few: {@link #connectedToUpstream}
 * and {@link #responseTrailerFilter}, {@code async} in Pingora, are synchronous here; a body is a
 * {@link BodyChunk} rather than an {@code Option<Bytes>}; the context is a value the phases share
 * rather than a {@code &mut} borrow. Names that would read more like Java were not worth losing
 * that correspondence; what Relay adds (such as {@link Session#readRequestBody}) lives outside these
 * signatures.
 *
 * @param <C> the per-request context type; may be a nullable type ({@code ProxyHttp<@Nullable Void>}
 *            for a proxy without context, whose {@link #newCtx()} returns null)
 */
public interface ProxyHttp<C extends @Nullable Object> {

    /** Creates the context of a new request. Called on the event loop, once per request. */
    C newCtx();

    /**
     * Registers the downstream {@link HttpModule}s that run for every request of this proxy.
     * Called once, when the service starts.
     */
    default void initDownstreamModules(HttpModules modules) {}

    /** Runs first, before any module: configure modules or the session for this request. */
    default CompletionStage<Void> earlyRequestFilter(Session session, C ctx) {
        return Stages.done();
    }

    /**
     * Validation, authentication, rate limiting, context set-up. Complete with {@code true} after
     * writing a response yourself (for example {@code session.respondError(403)}): the request ends
     * there and only {@link #logging} follows. {@code false} continues to the upstream.
     */
    default CompletionStage<Boolean> requestFilter(Session session, C ctx) {
        return Stages.completedFalse();
    }

    // ---------------------------------------------------------------------------------------------
    // The cache phases (Pingora's, in its order; they run only for a request whose cache is enabled)

    /**
     * Turns the cache on for this request and picks it: {@code session.cache().enable(httpCache)}.
     * Runs after {@link #requestFilter}; the default leaves the cache as the modules set it (off
     * unless a module, such as the server's {@code cache} filter, enabled it).
     */
    default void requestCacheFilter(Session session, C ctx) {}

    /**
     * The key the response is stored under. The default, {@link CacheKey#of(Session)}, holds scheme,
     * host and the full target; a key that leaves out the host lets one site's response answer
     * another's requests.
     */
    default CacheKey cacheKeyCallback(Session session, C ctx) {
        return CacheKey.of(session);
    }

    /**
     * Whether this request is a purge of its key; the default: the {@code PURGE} method. A purge is
     * answered by the engine (200 when something was removed, 404 when nothing was stored, 403 from a
     * client the cache does not accept purges from); a target ending in {@code *} purges every key
     * that starts with the rest.
     */
    default boolean isPurge(Session session, C ctx) {
        return "PURGE".equals(session.requestHeader().method());
    }

    /**
     * The variance of this request for a stored response that has a {@code Vary}: requests with equal
     * variances share a stored variant. Null means no variance. The default follows the response's
     * {@code Vary} ({@link CachePolicy#variance}).
     */
    default @Nullable String cacheVaryFilter(CacheMeta meta, C ctx, RequestHeader request) {
        return CachePolicy.variance(meta.vary(), request);
    }

    /**
     * Sees a stored response found for this request, fresh or not, before it is used; may overrule its
     * freshness. Null (the default) keeps what RFC 9111 says. Synchronous, unlike Pingora's.
     */
    default @Nullable ForcedFreshness cacheHitFilter(Session session, CacheMeta meta, boolean isFresh, C ctx) {
        return null;
    }

    /** Called when the cache has no usable response and the request goes to the origin to fill it. */
    default void cacheMissFilter(Session session, C ctx) {}

    /**
     * Decides whether the origin's response is stored, and with which freshness; runs after
     * {@link #upstreamResponseFilter}, so what that phase changed is what is stored. The default is
     * RFC 9111's shared-cache rule ({@link dev.relay.core.cache.SessionCache#rfc9111}).
     */
    default RespCacheable responseCacheFilter(Session session, ResponseHeader upstreamResponse, C ctx) {
        return session.cache().rfc9111(upstreamResponse);
    }

    /**
     * Whether a stale stored response may be served: with {@code error} null, while it is revalidated
     * in the background (stale-while-revalidate); with the error that failed the request, instead of
     * that error (stale-if-error). Asked only within the windows the response (or the cache's defaults)
     * allow. The default, as Pingora's: always for revalidation, and for an error the origin caused.
     */
    default boolean shouldServeStale(Session session, C ctx, @Nullable ProxyError error) {
        return error == null || error.source() == ErrorSource.UPSTREAM;
    }

    // ---------------------------------------------------------------------------------------------
    // To the origin

    /**
     * The last gate before going upstream. {@code false} stops the request: the client gets 502 unless
     * this phase wrote a response itself.
     */
    default CompletionStage<Boolean> proxyUpstreamFilter(Session session, C ctx) {
        return Stages.completedTrue();
    }

    /**
     * Where to send this attempt. Called once per attempt, so after a failure it may pick another
     * backend (remember the failed one in {@code ctx}). Required.
     */
    CompletionStage<HttpPeer> upstreamPeer(Session session, C ctx);

    /** Called once the upstream connection is ready; {@code reused} tells whether it came from the pool. */
    default void connectedToUpstream(Session session, boolean reused, HttpPeer peer, C ctx) {}

    /**
     * Called when connecting to {@code peer} failed; nothing was sent upstream. Return the error to
     * report, typically {@code error} itself; call {@link ProxyError#setRetry} to decide whether the
     * attempt loop goes round again (connect errors are retryable by default).
     */
    default ProxyError failToConnect(Session session, HttpPeer peer, C ctx, ProxyError error) {
        return error;
    }

    /**
     * Changes the request header about to be sent upstream (a copy of the downstream one, without its
     * hop-by-hop fields): rewrite {@code Host}, add {@code X-Forwarded-For}, sign.
     */
    default CompletionStage<Void> upstreamRequestFilter(Session session, RequestHeader upstreamRequest, C ctx) {
        return Stages.done();
    }

    /**
     * Sees, and may change, each chunk of the request body on its way upstream. The header has been
     * sent already, so a filter that changes the length must make sure the request is chunked. The
     * chunk is valid until the returned stage completes; delaying completion throttles the upload.
     * Called per attempt, on the chunks that attempt sends: a retry sends again what earlier attempts
     * sent without calling it, and a chunk this filter had not finished when its attempt was abandoned
     * comes again on the next attempt, as the modules left it.
     */
    default CompletionStage<Void> requestBodyFilter(Session session, BodyChunk body, boolean endOfStream, C ctx) {
        return Stages.done();
    }

    /** Changes the upstream response header before anything else sees it (Pingora: pre-cache). */
    default void upstreamResponseFilter(Session session, ResponseHeader upstreamResponse, C ctx) {}

    /** Changes the response header about to be sent to the client. */
    default CompletionStage<Void> responseFilter(Session session, ResponseHeader upstreamResponse, C ctx) {
        return Stages.done();
    }

    /**
     * Sees, and may change, each chunk of the upstream's response body (before caching, in Pingora's
     * terms). Return a duration to pause before the chunk goes on (download throttling), or null.
     */
    default @Nullable Duration upstreamResponseBodyFilter(Session session, BodyChunk body, boolean endOfStream, C ctx) {
        return null;
    }

    /**
     * Sees, and may change, each chunk of the response body about to be written to the client.
     * Return a duration to pause before it is written, or null.
     */
    default @Nullable Duration responseBodyFilter(Session session, BodyChunk body, boolean endOfStream, C ctx) {
        return null;
    }

    /** Sees the upstream's trailer fields, when it sends any (chunked HTTP/1.1 trailers). */
    default void upstreamResponseTrailerFilter(Session session, HttpHeaders trailers, C ctx) {}

    /** Sees the trailer fields about to be written to the client. */
    default void responseTrailerFilter(Session session, HttpHeaders trailers, C ctx) {}

    /**
     * Called when the request failed after the upstream connection was made. Return the error to
     * report. The default, like Pingora's, records the peer and turns
     * {@link RetryType#REUSED_ONLY} into a retry only when the connection came from the pool and the
     * request body can still be replayed. The engine has already made a new connection that closed
     * before any response byte {@link RetryType#YES} when the request is idempotent (GET, HEAD,
     * OPTIONS, TRACE, PUT, DELETE), as nginx retries it; return {@code error.setRetry(false)} to keep
     * Pingora's stricter rule.
     *
     * @param upstreamReused whether the upstream connection came from the pool
     */
    default ProxyError errorWhileProxy(HttpPeer peer, Session session, ProxyError error, C ctx,
                                       boolean upstreamReused) {
        if (error.peer() == null) {
            error.setPeer(peer);
        }
        if (error.retryType() == RetryType.REUSED_ONLY) {
            error.setRetry(upstreamReused && session.isRequestBodyReplayable());
        }
        return error;
    }

    /**
     * Answers the client for a request that failed. The default sends
     * {@link ProxyError#defaultStatus()} as a short error page (unless a response has already started
     * or the status is 0, when the client is gone) and does not reuse the connection.
     */
    default CompletionStage<FailToProxy> failToProxy(Session session, ProxyError error, C ctx) {
        int status = error.defaultStatus();
        if (status > 0 && !session.responseWritten()) {
            return session.respondError(status).handle((ignored, writeError) -> new FailToProxy(status, false));
        }
        return java.util.concurrent.CompletableFuture.completedFuture(new FailToProxy(0, false));
    }

    /**
     * Whether to skip the automatic error-log line for this failed request. The line's level follows
     * who must act: a client's error ({@link ErrorSource#DOWNSTREAM}) is INFO or DEBUG and rate-limited,
     * the origin's is WARNING, a filter that threw or a bug is ERROR.
     */
    default boolean suppressErrorLog(Session session, C ctx, ProxyError error) {
        return false;
    }

    /**
     * Runs last for every request, exactly once, whether it succeeded or not: access logs and
     * metrics. {@code error} is null on success.
     */
    default CompletionStage<Void> logging(Session session, @Nullable ProxyError error, C ctx) {
        return Stages.done();
    }

    /** The text of the error-log line that describes the request (method, URI, host). */
    default String requestSummary(Session session, C ctx) {
        RequestHeader request = session.requestHeader();
        String host = request.headers().get("Host");
        return request.method() + " " + request.uri() + ", Host: " + (host == null ? "" : host);
    }
}
