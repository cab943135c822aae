package dev.relay.core.cache;

import dev.relay.core.HttpHeaders;
import org.jspecify.annotations.Nullable;

import java.util.List;

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
    /** The largest delta-seconds kept: RFC 9111 §1.2.2 has a cache treat any greater value as this. */
    static final long MAX_DELTA_SECONDS = 1L << 31;
    private static final long ABSENT = -1;

    private static final int NO_STORE = 1;
    private static final int NO_CACHE = 1 << 1;
    private static final int PRIVATE = 1 << 2;
    private static final int PUBLIC = 1 << 3;
    private static final int MUST_REVALIDATE = 1 << 4;
    private static final int PROXY_REVALIDATE = 1 << 5;
    private static final int ONLY_IF_CACHED = 1 << 6;
    private static final int IMMUTABLE = 1 << 7;
    private static final int NO_TRANSFORM = 1 << 8;

    /** No directive at all. */
    public static final CacheControl EMPTY = new CacheControl(new Accumulator());

    private final long maxAge;
    private final long sMaxAge;
    private final long maxStale;
    private final long minFresh;
    private final long staleWhileRevalidate;
    private final long staleIfError;
    private final int flags;

    private CacheControl(Accumulator a) {
        this.maxAge = a.maxAge;
        this.sMaxAge = a.sMaxAge;
        this.maxStale = a.maxStale;
        this.minFresh = a.minFresh;
        this.staleWhileRevalidate = a.staleWhileRevalidate;
        this.staleIfError = a.staleIfError;
        this.flags = a.flags;
    }

    /** The directives of every {@code Cache-Control} field in {@code headers}. */
    public static CacheControl parse(HttpHeaders headers) {
        List<String> lines = headers.getAll("Cache-Control");
        if (lines.isEmpty()) {
            return EMPTY;
        }
        Accumulator a = new Accumulator();
        for (String line : lines) {
            a.parse(line);
        }
        return a.build();
    }

    /** The directives of one field value. */
    public static CacheControl parse(String value) {
        Accumulator a = new Accumulator();
        a.parse(value);
        return a.build();
    }

    /** {@code max-age} in seconds, or -1. */
    public long maxAge() {
        return maxAge;
    }

    /** {@code s-maxage} in seconds, or -1. */
    public long sMaxAge() {
        return sMaxAge;
    }

    /** {@code max-stale} in seconds; {@link Long#MAX_VALUE} without a value (any staleness); -1 when absent. */
    public long maxStale() {
        return maxStale;
    }

    /** {@code min-fresh} in seconds, or -1. */
    public long minFresh() {
        return minFresh;
    }

    /** {@code stale-while-revalidate} in seconds (RFC 5861), or -1. */
    public long staleWhileRevalidate() {
        return staleWhileRevalidate;
    }

    /** {@code stale-if-error} in seconds (RFC 5861), or -1. */
    public long staleIfError() {
        return staleIfError;
    }

    /** {@code no-store}: nothing of the exchange may be stored. */
    public boolean noStore() {
        return (flags & NO_STORE) != 0;
    }

    /** {@code no-cache}, with or without a field list. */
    public boolean noCache() {
        return (flags & NO_CACHE) != 0;
    }

    /** {@code private}, with or without a field list. */
    public boolean isPrivate() {
        return (flags & PRIVATE) != 0;
    }

    /** {@code public}: a shared cache may store it, even for an authenticated request. */
    public boolean isPublic() {
        return (flags & PUBLIC) != 0;
    }

    /** {@code must-revalidate}: never served stale. */
    public boolean mustRevalidate() {
        return (flags & MUST_REVALIDATE) != 0;
    }

    /** {@code proxy-revalidate}: a shared cache never serves it stale. */
    public boolean proxyRevalidate() {
        return (flags & PROXY_REVALIDATE) != 0;
    }

    /** {@code only-if-cached} (a request's): answer from the cache or with 504. */
    public boolean onlyIfCached() {
        return (flags & ONLY_IF_CACHED) != 0;
    }

    /** {@code immutable} (RFC 8246): the response will not change while fresh. */
    public boolean immutable() {
        return (flags & IMMUTABLE) != 0;
    }

    /** {@code no-transform}: intermediaries must not change the content. */
    public boolean noTransform() {
        return (flags & NO_TRANSFORM) != 0;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof CacheControl c && c.maxAge == maxAge && c.sMaxAge == sMaxAge && c.maxStale == maxStale
                && c.minFresh == minFresh && c.staleWhileRevalidate == staleWhileRevalidate
                && c.staleIfError == staleIfError && c.flags == flags;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(maxAge) * 31 + Long.hashCode(sMaxAge) * 17 + flags;
    }

    /** The directives in a canonical order, as a {@code Cache-Control} value (for logs). */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        flag(sb, NO_STORE, "no-store");
        flag(sb, NO_CACHE, "no-cache");
        flag(sb, PRIVATE, "private");
        flag(sb, PUBLIC, "public");
        flag(sb, MUST_REVALIDATE, "must-revalidate");
        flag(sb, PROXY_REVALIDATE, "proxy-revalidate");
        flag(sb, ONLY_IF_CACHED, "only-if-cached");
        flag(sb, IMMUTABLE, "immutable");
        flag(sb, NO_TRANSFORM, "no-transform");
        seconds(sb, maxAge, "max-age");
        seconds(sb, sMaxAge, "s-maxage");
        if (maxStale == Long.MAX_VALUE) {
            separate(sb).append("max-stale");
        } else {
            seconds(sb, maxStale, "max-stale");
        }
        seconds(sb, minFresh, "min-fresh");
        seconds(sb, staleWhileRevalidate, "stale-while-revalidate");
        seconds(sb, staleIfError, "stale-if-error");
        return sb.toString();
    }

    private void flag(StringBuilder sb, int bit, String name) {
        if ((flags & bit) != 0) {
            separate(sb).append(name);
        }
    }

    private static void seconds(StringBuilder sb, long value, String name) {
        if (value != ABSENT) {
            separate(sb).append(name).append('=').append(value);
        }
    }

    private static StringBuilder separate(StringBuilder sb) {
        return sb.isEmpty() ? sb : sb.append(", ");
    }

    /** The directives seen so far; one per parse, discarded once built. */
    private static final class Accumulator {
        long maxAge = ABSENT;
        long sMaxAge = ABSENT;
        long maxStale = ABSENT;
        long minFresh = ABSENT;
        long staleWhileRevalidate = ABSENT;
        long staleIfError = ABSENT;
        int flags;
        boolean any;

        CacheControl build() {
            return any ? new CacheControl(this) : EMPTY;
        }

        /** One pass over {@code s}: directive name, optional {@code =} token or quoted string, up to the next comma. */
        void parse(String s) {
            int n = s.length();
            int i = 0;
            while (i < n) {
                char c = s.charAt(i);
                if (c == ',' || isSpace(c)) {
                    i++;
                    continue;
                }
                int nameStart = i;
                while (i < n && (c = s.charAt(i)) != ',' && c != '=' && !isSpace(c)) {
                    i++;
                }
                int nameEnd = i;
                i = skipSpaces(s, i);
                int valueStart = -1;
                int valueEnd = -1;
                if (i < n && s.charAt(i) == '=') {
                    i = skipSpaces(s, i + 1);
                    if (i < n && s.charAt(i) == '"') {
                        valueStart = i + 1;
                        i = closingQuote(s, valueStart);
                        valueEnd = i;
                        i = Math.min(n, i + 1);
                    } else {
                        valueStart = i;
                        while (i < n && s.charAt(i) != ',') {
                            i++;
                        }
                        valueEnd = i;
                        while (valueEnd > valueStart && isSpace(s.charAt(valueEnd - 1))) {
                            valueEnd--;
                        }
                    }
                }
                // Anything between the value and the next comma is garbage: it spoils a number (an
                // empty value reads as invalid, the stricter reading) and is otherwise ignored.
                int rest = skipSpaces(s, i);
                if (rest < n && s.charAt(rest) != ',') {
                    valueStart = rest;
                    valueEnd = rest;
                }
                while (i < n && s.charAt(i) != ',') {
                    i++;
                }
                apply(s, nameStart, nameEnd, valueStart, valueEnd);
            }
        }

        private void apply(String s, int nameStart, int nameEnd, int valueStart, int valueEnd) {
            int len = nameEnd - nameStart;
            if (is(s, nameStart, len, "max-age")) {
                maxAge = smaller(maxAge, delta(s, valueStart, valueEnd, 0));
            } else if (is(s, nameStart, len, "s-maxage")) {
                sMaxAge = smaller(sMaxAge, delta(s, valueStart, valueEnd, 0));
            } else if (is(s, nameStart, len, "max-stale")) {
                long value = valueStart < 0 ? Long.MAX_VALUE : delta(s, valueStart, valueEnd, 0);
                maxStale = smaller(maxStale, value);
            } else if (is(s, nameStart, len, "min-fresh")) {
                // For min-fresh the stricter reading is the larger one: it asks for more freshness.
                long value = delta(s, valueStart, valueEnd, MAX_DELTA_SECONDS);
                minFresh = Math.max(minFresh, value);
            } else if (is(s, nameStart, len, "stale-while-revalidate")) {
                staleWhileRevalidate = smaller(staleWhileRevalidate, delta(s, valueStart, valueEnd, 0));
            } else if (is(s, nameStart, len, "stale-if-error")) {
                staleIfError = smaller(staleIfError, delta(s, valueStart, valueEnd, 0));
            } else if (is(s, nameStart, len, "no-store")) {
                flags |= NO_STORE;
            } else if (is(s, nameStart, len, "no-cache")) {
                flags |= NO_CACHE;
            } else if (is(s, nameStart, len, "private")) {
                flags |= PRIVATE;
            } else if (is(s, nameStart, len, "public")) {
                flags |= PUBLIC;
            } else if (is(s, nameStart, len, "must-revalidate")) {
                flags |= MUST_REVALIDATE;
            } else if (is(s, nameStart, len, "proxy-revalidate")) {
                flags |= PROXY_REVALIDATE;
            } else if (is(s, nameStart, len, "only-if-cached")) {
                flags |= ONLY_IF_CACHED;
            } else if (is(s, nameStart, len, "immutable")) {
                flags |= IMMUTABLE;
            } else if (is(s, nameStart, len, "no-transform")) {
                flags |= NO_TRANSFORM;
            } else {
                return;
            }
            any = true;
        }

        private static boolean is(String s, int start, int len, String name) {
            return len == name.length() && s.regionMatches(true, start, name, 0, len);
        }

        private static long smaller(long current, long value) {
            return current == ABSENT ? value : Math.min(current, value);
        }

        /**
         * The delta-seconds in {@code s[start, end)}, capped at 2^31; {@code invalid} when there is no
         * value or it is not all digits (-1 for start marks a directive written without a value).
         */
        private static long delta(String s, int start, int end, long invalid) {
            long value = start < 0 ? -1 : digits(s, start, end, MAX_DELTA_SECONDS);
            return value < 0 ? invalid : value;
        }
    }

    /** The number {@code s} spells in decimal digits, saturated at {@code cap}; -1 when it is empty or not all digits. */
    static long digits(String s, long cap) {
        return digits(s, 0, s.length(), cap);
    }

    private static long digits(String s, int start, int end, long cap) {
        if (end <= start) {
            return -1;
        }
        long value = 0;
        for (int i = start; i < end; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            int digit = c - '0';
            value = value > (cap - digit) / 10 ? cap : value * 10 + digit;
        }
        return value;
    }

    /** The index of the quote that closes a quoted string whose content starts at {@code from}; the end when none does. */
    private static int closingQuote(String s, int from) {
        int n = s.length();
        for (int i = from; i < n; i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                return i;
            }
        }
        return n;
    }

    private static int skipSpaces(String s, int i) {
        while (i < s.length() && isSpace(s.charAt(i))) {
            i++;
        }
        return i;
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t';
    }
}
