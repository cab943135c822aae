package dev.relay.core.cache;

import dev.relay.core.HttpHeaders;

/**
 * The directives of the {@code Cache-Control} fields of one message (RFC 9111 §5.2), parsed once.
 * Every field line and every comma-separated element counts; names are case-insensitive; a value may
 * be a token or a quoted string; a malformed or repeated delta-seconds keeps the most restrictive
 * reading (RFC 9111 §4.2.1: a cache treats an invalid {@code max-age} as stale). Unknown directives
 * are ignored. {@code no-cache="field"} and {@code private="field"} count as their unqualified form
 * (the stricter reading, which RFC 9111 §5.2.2.4 and §5.2.2.7 allow).
 *
 * <p>Seconds are -1 when the directive is absent; {@code max-stale} without a value is
 * {@link Long#MAX_VALUE}. Values beyond 2^31 are kept as 2^31 (RFC 9111 §1.2.2).
 */
public final class CacheControl {
    /** No directive at all. */
    public static final CacheControl EMPTY = null; // HELPER: implement

    /** The directives of every {@code Cache-Control} field in {@code headers}. */
    public static CacheControl parse(HttpHeaders headers) {
        throw new UnsupportedOperationException("HELPER");
    }

    /** The directives of one field value. */
    public static CacheControl parse(String value) {
        throw new UnsupportedOperationException("HELPER");
    }

    public long maxAge() { throw new UnsupportedOperationException("HELPER"); }
    public long sMaxAge() { throw new UnsupportedOperationException("HELPER"); }
    public long maxStale() { throw new UnsupportedOperationException("HELPER"); }
    public long minFresh() { throw new UnsupportedOperationException("HELPER"); }
    public long staleWhileRevalidate() { throw new UnsupportedOperationException("HELPER"); }
    public long staleIfError() { throw new UnsupportedOperationException("HELPER"); }
    public boolean noStore() { throw new UnsupportedOperationException("HELPER"); }
    public boolean noCache() { throw new UnsupportedOperationException("HELPER"); }
    public boolean isPrivate() { throw new UnsupportedOperationException("HELPER"); }
    public boolean isPublic() { throw new UnsupportedOperationException("HELPER"); }
    public boolean mustRevalidate() { throw new UnsupportedOperationException("HELPER"); }
    public boolean proxyRevalidate() { throw new UnsupportedOperationException("HELPER"); }
    public boolean onlyIfCached() { throw new UnsupportedOperationException("HELPER"); }
    public boolean immutable() { throw new UnsupportedOperationException("HELPER"); }
    public boolean noTransform() { throw new UnsupportedOperationException("HELPER"); }
}
