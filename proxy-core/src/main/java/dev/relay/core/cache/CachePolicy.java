package dev.relay.core.cache;

import dev.relay.core.HttpHeaders;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import org.jspecify.annotations.Nullable;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * RFC 9111 as a shared cache applies it, with no I/O and no clock of its own (times are passed in, in
 * epoch milliseconds): which responses may be stored and for how long, when a stored one may answer
 * a request, how a 304 updates it, which variant a request selects, and the conditional and range
 * requests a stored response answers by itself. The default cache phases of
 * {@link dev.relay.core.ProxyHttp} call these; a proxy with its own rules may call them too.
 */
public final class CachePolicy {
    /** Statuses a shared cache stores with explicit freshness or a validator (RFC 9110 §15). */
    private static final Set<Integer> STORABLE_STATUSES =
            Set.of(200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 451, 501);
    /** Statuses that may get heuristic freshness (RFC 9110 §15.1): the storable ones but 302, 303, 307. */
    private static final Set<Integer> HEURISTIC_STATUSES =
            Set.of(200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 451, 501);
    /** Fields of a 304 that describe its own framing or connection, never the stored response (§3.2, §4.3.4). */
    private static final Set<String> NOT_FROM_304 = Set.of("content-length", "transfer-encoding", "content-range",
            "connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade");
    /** The client's preconditions and range, which a revalidation of the whole stored response replaces. */
    private static final List<String> CLIENT_PRECONDITIONS =
            List.of("If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range", "Range");

    private CachePolicy() {}

    /**
     * Whether a request may be answered from the cache at all: GET or HEAD (RFC 9111 §4 leaves other
     * methods to their own definitions; none of those the proxy sees is cacheable).
     */
    public static boolean isCacheableMethod(String method) {
        return "GET".equals(method) || "HEAD".equals(method);
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
        if (!"GET".equals(request.method())) {
            return RespCacheable.uncacheable(NoCacheReason.METHOD);
        }
        return evaluate(request, response.status(), response, requestTimeMillis, responseTimeMillis, defaults);
    }

    /**
     * The stored response after a {@code 304 Not Modified} confirmed it (RFC 9111 §4.3.4): every field
     * of the 304 replaces the stored fields of that name, except the framing ones
     * ({@code Content-Length}, {@code Transfer-Encoding}, {@code Content-Range}) and hop-by-hop ones;
     * age and freshness start over from the 304's times and directives (a 304 without {@code Date} is
     * dated by its arrival, RFC 9110 §6.6.1). Null when the 304 now forbids
     * storing (for example {@code no-store}): the caller removes the object.
     */
    public static @Nullable CacheMeta revalidated(CacheMeta stored, RequestHeader request, ResponseHeader notModified,
                                                  long requestTimeMillis, long responseTimeMillis, CacheDefaults defaults) {
        ResponseHeader merged = stored.toResponseHeader();
        Set<String> replaced = new HashSet<>();
        notModified.headers().forEach((name, value) -> {
            String lower = name.toLowerCase(Locale.ROOT);
            if (NOT_FROM_304.contains(lower)) {
                return;
            }
            // The first line of a name drops every stored line of it; the 304's own lines all stay.
            if (replaced.add(lower)) {
                merged.headers().remove(name);
            }
            merged.headers().add(name, value);
        });
        // RFC 9110 §6.6.1: a 304 without Date gets its arrival time, or the stored Date would age the
        // confirmed response from its first fetch.
        if (!notModified.headers().contains("Date")) {
            merged.headers().set("Date", HttpDates.format(responseTimeMillis));
        }
        // The method is not asked again: the stored response answered a GET, and a HEAD's 304 may refresh it (§4.3.5).
        RespCacheable verdict = evaluate(request, stored.status(), merged, requestTimeMillis, responseTimeMillis, defaults);
        return verdict instanceof RespCacheable.Cacheable cacheable ? cacheable.meta() : null;
    }

    /**
     * Whether the request's own directives require asking the origin even though {@code stored} is
     * fresh (RFC 9111 §5.2.1): {@code no-cache}, {@code Pragma: no-cache} without {@code Cache-Control},
     * {@code max-age} below the current age (and {@code max-age=0} always), {@code min-fresh} beyond the
     * freshness left.
     */
    public static boolean requestRequiresValidation(RequestHeader request, CacheMeta stored, long nowMillis) {
        CacheControl directives = CacheControl.parse(request.headers());
        if (directives.noCache()) {
            return true;
        }
        // RFC 9111 §5.4: Pragma counts only when the request has no Cache-Control at all.
        if (!request.headers().contains("Cache-Control") && hasPragmaNoCache(request.headers())) {
            return true;
        }
        // max-age=0 is how a client asks for a check (a browser's reload does): ages are whole seconds,
        // so a response stored within the last second would otherwise count as young enough.
        if (directives.maxAge() == 0 || directives.maxAge() > 0 && stored.ageSeconds(nowMillis) > directives.maxAge()) {
            return true;
        }
        return directives.minFresh() >= 0 && stored.ttlSeconds(nowMillis) < directives.minFresh();
    }

    /**
     * Whether the request accepts {@code stored} although it is stale: {@code max-stale} covering its
     * staleness, unless the response forbids serving it stale (RFC 9111 §5.2.1.2, §4.2.4).
     */
    public static boolean requestAcceptsStale(RequestHeader request, CacheMeta stored, long nowMillis) {
        if (stored.mustRevalidate()) {
            return false;
        }
        long maxStale = CacheControl.parse(request.headers()).maxStale();
        return maxStale >= 0 && -stored.ttlSeconds(nowMillis) <= maxStale;
    }

    /**
     * Whether a GET or HEAD with preconditions is answered {@code 304} by {@code stored} (RFC 9110
     * §13.1.2, §13.1.3, §13.2.2): {@code If-None-Match} by weak comparison against its {@code ETag}
     * ({@code *} matches any), or, without {@code If-None-Match}, {@code If-Modified-Since} not before
     * its {@code Last-Modified} (or its {@code Date} when it has none). False without preconditions.
     */
    public static boolean isNotModified(RequestHeader request, CacheMeta stored) {
        if (!isCacheableMethod(request.method())) {
            return false;
        }
        List<String> ifNoneMatch = request.headers().getAll("If-None-Match");
        if (!ifNoneMatch.isEmpty()) {
            String etag = stored.header("ETag");
            for (String line : ifNoneMatch) {
                if (EntityTags.anyWeaklyMatches(line, etag)) {
                    return true;
                }
            }
            return false;
        }
        long since = HttpDates.parse(request.headers().get("If-Modified-Since"));
        if (since == HttpDates.INVALID) {
            return false;
        }
        long modified = HttpDates.parse(stored.header("Last-Modified"));
        if (modified == HttpDates.INVALID) {
            modified = HttpDates.parse(stored.header("Date"));
        }
        return modified != HttpDates.INVALID && modified <= since;
    }

    /**
     * Makes {@code upstreamRequest} a revalidation of {@code stored} (RFC 9111 §4.3.1): the client's
     * own preconditions and {@code Range} are removed, then {@code If-None-Match} carries the stored
     * {@code ETag} and {@code If-Modified-Since} the stored {@code Last-Modified}.
     */
    public static void makeConditional(RequestHeader upstreamRequest, CacheMeta stored) {
        HttpHeaders headers = upstreamRequest.headers();
        for (String name : CLIENT_PRECONDITIONS) {
            headers.remove(name);
        }
        String etag = stored.header("ETag");
        if (etag != null) {
            headers.set("If-None-Match", etag);
        }
        String lastModified = stored.header("Last-Modified");
        if (lastModified != null) {
            headers.set("If-Modified-Since", lastModified);
        }
    }

    /**
     * The variance of {@code request} for a response that varies on {@code varyFields} (RFC 9111 §4.1):
     * each named field's values, combined and with whitespace normalised, one line per field in the
     * given order; null when {@code varyFields} is empty. Two requests select the same variant exactly
     * when their variances are equal.
     */
    public static @Nullable String variance(List<String> varyFields, RequestHeader request) {
        if (varyFields.isEmpty()) {
            return null;
        }
        StringBuilder sb = new StringBuilder(64);
        for (String field : varyFields) {
            if (!sb.isEmpty()) {
                sb.append('\n');
            }
            String name = field.trim().toLowerCase(Locale.ROOT);
            sb.append(name).append(':');
            List<String> values = request.headers().getAll(name);
            if (!values.isEmpty()) {
                sb.append(' ');
                appendNormalised(sb, values);
            }
        }
        return sb.toString();
    }

    /**
     * The single range a request asks of a stored body of {@code length} bytes (RFC 9110 §14.2): null
     * when there is no {@code Range}, when it is not a valid {@code bytes} range, when it asks for
     * several ranges (the whole body is the permitted answer), or when {@code If-Range} does not match
     * the stored {@code ETag} (strong comparison) or {@code Last-Modified}; {@link ByteRange#UNSATISFIABLE}
     * when no byte of it lies within the body; else the range, clipped to the body.
     */
    public static @Nullable ByteRange range(RequestHeader request, CacheMeta stored, long length) {
        List<String> ranges = request.headers().getAll("Range");
        if (ranges.size() != 1 || !ifRangeHolds(request.headers().get("If-Range"), stored)) {
            return null;
        }
        return parseRange(ranges.get(0), length);
    }

    /**
     * The storing rules of {@link #decide} after its method check, for a response with {@code status}
     * (a 304's merged fields carry the stored status): the first reason not to store, else the metadata.
     */
    private static RespCacheable evaluate(RequestHeader request, int status, ResponseHeader response,
                                          long requestTimeMillis, long responseTimeMillis, CacheDefaults defaults) {
        HttpHeaders fields = response.headers();
        CacheControl directives = CacheControl.parse(fields);
        if (directives.noStore() || CacheControl.parse(request.headers()).noStore()) {
            return RespCacheable.uncacheable(NoCacheReason.NO_STORE);
        }
        if (directives.isPrivate()) {
            return RespCacheable.uncacheable(NoCacheReason.PRIVATE);
        }
        // §3.5: a response to an authenticated request is one user's unless the origin says it is shared.
        if (request.headers().contains("Authorization") && !directives.isPublic() && directives.sMaxAge() < 0
                && !directives.mustRevalidate()) {
            return RespCacheable.uncacheable(NoCacheReason.AUTHORIZATION);
        }
        List<String> vary = varyFields(fields);
        if (vary.contains("*")) {
            return RespCacheable.uncacheable(NoCacheReason.VARY_STAR);
        }
        if (fields.contains("Set-Cookie")) {
            return RespCacheable.uncacheable(NoCacheReason.SET_COOKIE);
        }
        if (!STORABLE_STATUSES.contains(status)) {
            return RespCacheable.uncacheable(NoCacheReason.STATUS);
        }
        long lifetime = freshnessLifetime(status, fields, directives, responseTimeMillis, defaults);
        if (lifetime < 0) {
            return RespCacheable.uncacheable(NoCacheReason.NO_FRESHNESS);
        }
        long staleWhileRevalidate = directives.staleWhileRevalidate() >= 0 ? directives.staleWhileRevalidate()
                : defaults.staleWhileRevalidate().toSeconds();
        long staleIfError = directives.staleIfError() >= 0 ? directives.staleIfError()
                : defaults.staleIfError().toSeconds();
        boolean mustRevalidate = directives.mustRevalidate() || directives.proxyRevalidate()
                || directives.sMaxAge() >= 0 || directives.noCache();
        return new RespCacheable.Cacheable(new CacheMeta(status, response, requestTimeMillis, responseTimeMillis,
                correctedInitialAge(fields, requestTimeMillis, responseTimeMillis), lifetime, staleWhileRevalidate,
                staleIfError, mustRevalidate, vary));
    }

    /**
     * The freshness lifetime in seconds (RFC 9111 §4.2.1, §4.2.2): 0 for {@code no-cache}; else
     * {@code s-maxage}, {@code max-age}, {@code Expires} minus {@code Date}, the heuristic; else 0 with a
     * validator (stored to be revalidated), -1 without one (nothing to store).
     */
    private static long freshnessLifetime(int status, HttpHeaders fields, CacheControl directives,
                                          long responseTimeMillis, CacheDefaults defaults) {
        if (directives.noCache()) {
            return 0;
        }
        if (directives.sMaxAge() >= 0) {
            return directives.sMaxAge();
        }
        if (directives.maxAge() >= 0) {
            return directives.maxAge();
        }
        List<String> expires = fields.getAll("Expires");
        if (!expires.isEmpty()) {
            // §5.3: an invalid Expires ("0", "-1") means already expired; §4.2.1: so may a repeated one.
            long expiresAt = expires.size() == 1 ? HttpDates.parse(expires.get(0)) : HttpDates.INVALID;
            if (expiresAt == HttpDates.INVALID) {
                return 0;
            }
            long seconds = (expiresAt - dateOr(fields, responseTimeMillis)) / 1000;
            return Math.min(CacheControl.MAX_DELTA_SECONDS, Math.max(0, seconds));
        }
        long lastModified = HttpDates.parse(fields.get("Last-Modified"));
        if (defaults.heuristicFreshness() && HEURISTIC_STATUSES.contains(status) && lastModified != HttpDates.INVALID) {
            long tenthOfAge = (dateOr(fields, responseTimeMillis) - lastModified) / 10_000;
            return Math.min(defaults.maxHeuristic().toSeconds(), Math.max(0, tenthOfAge));
        }
        return fields.contains("ETag") || fields.contains("Last-Modified") ? 0 : -1;
    }

    /** RFC 9111 §4.2.3's {@code corrected_initial_age}, in seconds. */
    private static long correctedInitialAge(HttpHeaders fields, long requestTimeMillis, long responseTimeMillis) {
        long date = HttpDates.parse(fields.get("Date"));
        long apparentAge = date == HttpDates.INVALID ? 0 : Math.max(0, responseTimeMillis - date) / 1000;
        String age = fields.get("Age");
        // An Age that is not a delta-seconds is ignored, as if absent.
        long ageValue = age == null ? 0 : Math.max(0, CacheControl.digits(age.trim(), CacheControl.MAX_DELTA_SECONDS));
        long responseDelay = Math.max(0, responseTimeMillis - requestTimeMillis) / 1000;
        return Math.max(apparentAge, ageValue + responseDelay);
    }

    /** {@code Date}'s instant, or {@code otherwise} when it is absent or invalid (§4.2.1 then uses the response time). */
    private static long dateOr(HttpHeaders fields, long otherwise) {
        long date = HttpDates.parse(fields.get("Date"));
        return date == HttpDates.INVALID ? otherwise : date;
    }

    /** The field names of every {@code Vary} line, lower case. */
    private static List<String> varyFields(HttpHeaders fields) {
        List<String> names = listElements(fields, "Vary");
        names.replaceAll(name -> name.toLowerCase(Locale.ROOT));
        return names;
    }

    private static boolean hasPragmaNoCache(HttpHeaders fields) {
        for (String element : listElements(fields, "Pragma")) {
            if (element.equalsIgnoreCase("no-cache")) {
                return true;
            }
        }
        return false;
    }

    /** The non-empty, trimmed elements of every line of the comma-separated list field {@code name}. */
    private static List<String> listElements(HttpHeaders fields, String name) {
        List<String> elements = new ArrayList<>(4);
        for (String line : fields.getAll(name)) {
            int start = 0;
            while (start <= line.length()) {
                int comma = line.indexOf(',', start);
                int end = comma < 0 ? line.length() : comma;
                String element = line.substring(start, end).trim();
                if (!element.isEmpty()) {
                    elements.add(element);
                }
                start = end + 1;
            }
        }
        return elements;
    }

    /** The values joined by {@code ", "}, each run of spaces and tabs one space, trimmed. */
    private static void appendNormalised(StringBuilder sb, List<String> values) {
        String joined = values.size() == 1 ? values.get(0) : String.join(", ", values);
        boolean pendingSpace = false;
        boolean started = false;
        for (int i = 0; i < joined.length(); i++) {
            char c = joined.charAt(i);
            if (c == ' ' || c == '\t') {
                pendingSpace = started;
                continue;
            }
            if (pendingSpace) {
                sb.append(' ');
                pendingSpace = false;
            }
            sb.append(c);
            started = true;
        }
    }

    /**
     * Whether a range request's {@code If-Range} lets the range apply (RFC 9110 §13.1.5): absent, or an
     * entity-tag strongly equal to the stored {@code ETag}, or a date equal to the stored {@code Last-Modified}.
     */
    private static boolean ifRangeHolds(@Nullable String ifRange, CacheMeta stored) {
        if (ifRange == null) {
            return true;
        }
        String validator = ifRange.trim();
        if (validator.startsWith("\"") || validator.startsWith("W/")) {
            return EntityTags.strongMatch(validator, stored.header("ETag"));
        }
        long date = HttpDates.parse(validator);
        return date != HttpDates.INVALID && date == HttpDates.parse(stored.header("Last-Modified"));
    }

    /** One {@code bytes} range of a body of {@code length} bytes (RFC 9110 §14.1.2); see {@link #range}. */
    private static @Nullable ByteRange parseRange(String value, long length) {
        String v = value.trim();
        if (!v.regionMatches(true, 0, "bytes=", 0, 6)) {
            return null;
        }
        String spec = v.substring(6).trim();
        int dash = spec.indexOf('-');
        if (dash < 0 || spec.indexOf(',') >= 0) {
            return null;
        }
        String firstText = spec.substring(0, dash).trim();
        String lastText = spec.substring(dash + 1).trim();
        if (firstText.isEmpty()) {
            long suffixLength = CacheControl.digits(lastText, Long.MAX_VALUE);
            if (suffixLength < 0) {
                return null;
            }
            // A suffix of zero bytes selects nothing, whatever the length.
            return suffixLength == 0 || length <= 0 ? ByteRange.UNSATISFIABLE
                    : new ByteRange(Math.max(0, length - suffixLength), length - 1);
        }
        long first = CacheControl.digits(firstText, Long.MAX_VALUE);
        long last = lastText.isEmpty() ? Long.MAX_VALUE : CacheControl.digits(lastText, Long.MAX_VALUE);
        if (first < 0 || last < first) {
            return null;
        }
        return first >= length ? ByteRange.UNSATISFIABLE : new ByteRange(first, Math.min(last, length - 1));
    }
}
