package dev.relay.core.cache;

import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import org.jspecify.annotations.Nullable;

import java.util.List;

/**
 * RFC 9111 as a shared cache applies it, with no I/O and no clock of its own (times are passed in, in
 * epoch milliseconds): which responses may be stored and for how long, when a stored one may answer
 * a request, how a 304 updates it, which variant a request selects, and the conditional and range
 * requests a stored response answers by itself. The default cache phases of
 * {@link dev.relay.core.ProxyHttp} call these; a proxy with its own rules may call them too.
 */
public final class CachePolicy {
    private CachePolicy() {}

    /**
     * Whether a request may be answered from the cache at all: GET or HEAD (RFC 9111 §4 leaves other
     * methods to their own definitions; none of those the proxy sees is cacheable).
     */
    public static boolean isCacheableMethod(String method) {
        throw new UnsupportedOperationException("HELPER");
    }

    /**
     * Whether a shared cache may store {@code response} to {@code request}, and with which metadata
     * (RFC 9111 §3, §4.2, §5.2; RFC 5861 for the stale windows). Stored: a GET's final response whose
     * status is understood (not 206, not 1xx), without {@code no-store} in request or response, without
     * {@code private}, without {@code Set-Cookie}, without {@code Vary: *}; when the request has
     * {@code Authorization} only with {@code public}, {@code s-maxage} or {@code must-revalidate}
     * (§3.5); and only with a freshness lifetime ({@code s-maxage}, then {@code max-age}, then
     * {@code Expires} minus {@code Date}; heuristic only when {@code defaults} allow it and the status
     * is heuristically cacheable) or, failing that, with a validator ({@code no-cache}, or a lifetime of
     * 0: stored to be revalidated every time). {@code no-cache}, {@code must-revalidate},
     * {@code proxy-revalidate} and {@code s-maxage} forbid serving it stale.
     */
    public static RespCacheable decide(RequestHeader request, ResponseHeader response, long requestTimeMillis,
                                       long responseTimeMillis, CacheDefaults defaults) {
        throw new UnsupportedOperationException("HELPER");
    }

    /**
     * The stored response after a {@code 304 Not Modified} confirmed it (RFC 9111 §4.3.4): every field
     * of the 304 replaces the stored fields of that name, except the framing ones
     * ({@code Content-Length}, {@code Transfer-Encoding}, {@code Content-Range}) and hop-by-hop ones;
     * age and freshness start over from the 304's times and directives. Null when the 304 now forbids
     * storing (for example {@code no-store}): the caller removes the object.
     */
    public static @Nullable CacheMeta revalidated(CacheMeta stored, RequestHeader request, ResponseHeader notModified,
                                                  long requestTimeMillis, long responseTimeMillis, CacheDefaults defaults) {
        throw new UnsupportedOperationException("HELPER");
    }

    /**
     * Whether the request's own directives require asking the origin even though {@code stored} is
     * fresh (RFC 9111 §5.2.1): {@code no-cache}, {@code Pragma: no-cache} without {@code Cache-Control},
     * {@code max-age} below the current age, {@code min-fresh} beyond the freshness left.
     */
    public static boolean requestRequiresValidation(RequestHeader request, CacheMeta stored, long nowMillis) {
        throw new UnsupportedOperationException("HELPER");
    }

    /**
     * Whether the request accepts {@code stored} although it is stale: {@code max-stale} covering its
     * staleness, unless the response forbids serving it stale (RFC 9111 §5.2.1.2, §4.2.4).
     */
    public static boolean requestAcceptsStale(RequestHeader request, CacheMeta stored, long nowMillis) {
        throw new UnsupportedOperationException("HELPER");
    }

    /**
     * Whether a GET or HEAD with preconditions is answered {@code 304} by {@code stored} (RFC 9110
     * §13.1.2, §13.1.3, §13.2.2): {@code If-None-Match} by weak comparison against its {@code ETag}
     * ({@code *} matches any), or, without {@code If-None-Match}, {@code If-Modified-Since} not before
     * its {@code Last-Modified} (or its {@code Date} when it has none). False without preconditions.
     */
    public static boolean isNotModified(RequestHeader request, CacheMeta stored) {
        throw new UnsupportedOperationException("HELPER");
    }

    /**
     * Makes {@code upstreamRequest} a revalidation of {@code stored} (RFC 9111 §4.3.1): the client's
     * own preconditions and {@code Range} are removed, then {@code If-None-Match} carries the stored
     * {@code ETag} and {@code If-Modified-Since} the stored {@code Last-Modified}.
     */
    public static void makeConditional(RequestHeader upstreamRequest, CacheMeta stored) {
        throw new UnsupportedOperationException("HELPER");
    }

    /**
     * The variance of {@code request} for a response that varies on {@code varyFields} (RFC 9111 §4.1):
     * each named field's values, combined and with whitespace normalised, one line per field in the
     * given order; null when {@code varyFields} is empty. Two requests select the same variant exactly
     * when their variances are equal.
     */
    public static @Nullable String variance(List<String> varyFields, RequestHeader request) {
        throw new UnsupportedOperationException("HELPER");
    }

    /**
     * The single range a request asks of a stored body of {@code length} bytes (RFC 9110 §14.2): null
     * when there is no {@code Range}, when it is not a valid {@code bytes} range, when it asks for
     * several ranges (the whole body is the permitted answer), or when {@code If-Range} does not match
     * the stored {@code ETag} (strong comparison) or {@code Last-Modified}; {@link ByteRange#UNSATISFIABLE}
     * when no byte of it lies within the body; else the range, clipped to the body.
     */
    public static @Nullable ByteRange range(RequestHeader request, CacheMeta stored, long length) {
        throw new UnsupportedOperationException("HELPER");
    }
}
