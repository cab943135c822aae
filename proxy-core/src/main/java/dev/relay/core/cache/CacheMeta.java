package dev.relay.core.cache;

import dev.relay.core.ResponseHeader;
import org.jspecify.annotations.Nullable;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The stored part of a response besides its body (Pingora's {@code CacheMeta}): status, header
 * fields, and the clock readings RFC 9111 computes age and freshness from. Immutable; every header
 * handed out is a copy. Times are epoch milliseconds; durations are whole seconds, as HTTP counts them.
 *
 * <p>Age follows RFC 9111 §4.2.3: the corrected initial age (from {@code Date}, {@code Age} and the
 * round trip) plus the time since the response arrived. A response is fresh while its age is below
 * its freshness lifetime; after that it may still be served for {@link #staleWhileRevalidateSeconds()}
 * while it is revalidated, or for {@link #staleIfErrorSeconds()} when the origin fails (RFC 5861),
 * unless {@link #mustRevalidate()}.
 */
public final class CacheMeta {
    private final int status;
    /** Field names and values, alternating, in the order the origin sent them. */
    private final String[] fields;
    private final long requestTimeMillis;
    private final long responseTimeMillis;
    private final long correctedInitialAgeSeconds;
    private final long freshnessLifetimeSeconds;
    private final long staleWhileRevalidateSeconds;
    private final long staleIfErrorSeconds;
    private final boolean mustRevalidate;
    private final List<String> vary;

    /**
     * @param status                      the response status
     * @param header                      the response header (copied; hop-by-hop fields should be gone already)
     * @param requestTimeMillis           when the request that brought the response was sent (RFC 9111 {@code request_time})
     * @param responseTimeMillis          when the response arrived ({@code response_time})
     * @param correctedInitialAgeSeconds  the response's age on arrival ({@code corrected_initial_age})
     * @param freshnessLifetimeSeconds    how long it is fresh, counted in age (0: stale at once, always revalidated)
     * @param staleWhileRevalidateSeconds how long past freshness it may be served while revalidated in the background
     * @param staleIfErrorSeconds         how long past freshness it may be served when the origin fails
     * @param mustRevalidate              never served stale ({@code must-revalidate}, {@code proxy-revalidate},
     *                                    {@code s-maxage}, {@code no-cache}): the stale windows do not apply
     * @param vary                        the field names of its {@code Vary}, lower case; empty without one
     */
    public CacheMeta(int status, ResponseHeader header, long requestTimeMillis, long responseTimeMillis,
                     long correctedInitialAgeSeconds, long freshnessLifetimeSeconds, long staleWhileRevalidateSeconds,
                     long staleIfErrorSeconds, boolean mustRevalidate, List<String> vary) {
        this(status, flatten(header), requestTimeMillis, responseTimeMillis, correctedInitialAgeSeconds,
                freshnessLifetimeSeconds, staleWhileRevalidateSeconds, staleIfErrorSeconds, mustRevalidate, vary);
    }

    /** The same, with the fields as alternating names and values (not copied). For decoding. */
    CacheMeta(int status, String[] fields, long requestTimeMillis, long responseTimeMillis,
              long correctedInitialAgeSeconds, long freshnessLifetimeSeconds, long staleWhileRevalidateSeconds,
              long staleIfErrorSeconds, boolean mustRevalidate, List<String> vary) {
        if (status < 100 || status > 999) {
            throw new IllegalArgumentException("status: " + status);
        }
        this.status = status;
        this.fields = fields;
        this.requestTimeMillis = requestTimeMillis;
        this.responseTimeMillis = responseTimeMillis;
        this.correctedInitialAgeSeconds = Math.max(0, correctedInitialAgeSeconds);
        this.freshnessLifetimeSeconds = Math.max(0, freshnessLifetimeSeconds);
        this.staleWhileRevalidateSeconds = Math.max(0, staleWhileRevalidateSeconds);
        this.staleIfErrorSeconds = Math.max(0, staleIfErrorSeconds);
        this.mustRevalidate = mustRevalidate;
        List<String> lower = new ArrayList<>(vary.size());
        for (String name : vary) {
            lower.add(name.trim().toLowerCase(Locale.ROOT));
        }
        this.vary = List.copyOf(lower);
    }

    private static String[] flatten(ResponseHeader header) {
        Objects.requireNonNull(header, "header");
        String[] out = new String[header.headers().size() * 2];
        int[] i = {0};
        header.headers().forEach((name, value) -> {
            out[i[0]++] = name;
            out[i[0]++] = value;
        });
        return i[0] == out.length ? out : java.util.Arrays.copyOf(out, i[0]);
    }

    public int status() {
        return status;
    }

    /** A new, mutable copy of the stored response header. */
    public ResponseHeader toResponseHeader() {
        ResponseHeader header = ResponseHeader.of(status);
        for (int i = 0; i < fields.length; i += 2) {
            header.headers().add(fields[i], fields[i + 1]);
        }
        return header;
    }

    /** The first value of the stored field {@code name} (case-insensitive), or null. */
    public @Nullable String header(String name) {
        for (int i = 0; i < fields.length; i += 2) {
            if (fields[i].equalsIgnoreCase(name)) {
                return fields[i + 1];
            }
        }
        return null;
    }

    /** Every value of the stored field {@code name} (case-insensitive), in order. */
    public List<String> headers(String name) {
        List<String> values = new ArrayList<>(2);
        for (int i = 0; i < fields.length; i += 2) {
            if (fields[i].equalsIgnoreCase(name)) {
                values.add(fields[i + 1]);
            }
        }
        return values;
    }

    /** The stored fields as alternating names and values; a copy. */
    public String[] fields() {
        return fields.clone();
    }

    public long requestTimeMillis() {
        return requestTimeMillis;
    }

    public long responseTimeMillis() {
        return responseTimeMillis;
    }

    public long correctedInitialAgeSeconds() {
        return correctedInitialAgeSeconds;
    }

    public long freshnessLifetimeSeconds() {
        return freshnessLifetimeSeconds;
    }

    public long staleWhileRevalidateSeconds() {
        return staleWhileRevalidateSeconds;
    }

    public long staleIfErrorSeconds() {
        return staleIfErrorSeconds;
    }

    public boolean mustRevalidate() {
        return mustRevalidate;
    }

    /** The field names the response varies on, lower case; {@code ["*"]} never matches. */
    public List<String> vary() {
        return vary;
    }

    /** The response's current age in seconds (RFC 9111 §4.2.3 {@code current_age}). */
    public long ageSeconds(long nowMillis) {
        long resident = Math.max(0, nowMillis - responseTimeMillis) / 1000;
        return correctedInitialAgeSeconds + resident;
    }

    /** Freshness left, in seconds: positive while fresh, zero or negative (how stale) after. */
    public long ttlSeconds(long nowMillis) {
        return freshnessLifetimeSeconds - ageSeconds(nowMillis);
    }

    /** Whether the response is fresh ({@code freshness_lifetime > current_age}). */
    public boolean isFresh(long nowMillis) {
        return ttlSeconds(nowMillis) > 0;
    }

    /** Whether a stale response may still be served while it is revalidated (stale-while-revalidate). */
    public boolean withinStaleWhileRevalidate(long nowMillis) {
        return !mustRevalidate && -ttlSeconds(nowMillis) < staleWhileRevalidateSeconds;
    }

    /** Whether a stale response may be served because the origin failed (stale-if-error). */
    public boolean withinStaleIfError(long nowMillis) {
        return !mustRevalidate && -ttlSeconds(nowMillis) < staleIfErrorSeconds;
    }

    /**
     * The epoch millisecond from which the response can be served in no way: neither fresh nor within
     * a stale window ({@link #isFresh}, {@link #withinStaleWhileRevalidate}, {@link #withinStaleIfError}
     * all false from then on). Saturated at {@code Long.MIN_VALUE} and {@code Long.MAX_VALUE}. A response
     * with a validator can still be revalidated after it.
     */
    public long servableUntilMillis() {
        long staleWindow = mustRevalidate ? 0 : Math.max(staleWhileRevalidateSeconds, staleIfErrorSeconds);
        // Ages count whole seconds of residence: the response is servable while
        // (now - responseTime) / 1000 < lifetime - initialAge + staleWindow.
        long servableSeconds = freshnessLifetimeSeconds - correctedInitialAgeSeconds + staleWindow;
        return saturatedAdd(responseTimeMillis, saturatedMultiply(servableSeconds, 1000));
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        // Overflow only when both have the same sign and the sum's sign differs.
        if (((a ^ sum) & (b ^ sum)) < 0) {
            return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        return sum;
    }

    private static long saturatedMultiply(long a, long factor) {
        if (a > Long.MAX_VALUE / factor) {
            return Long.MAX_VALUE;
        }
        return a < Long.MIN_VALUE / factor ? Long.MIN_VALUE : a * factor;
    }

    /** Whether the response carries a validator ({@code ETag} or {@code Last-Modified}) to revalidate with. */
    public boolean hasValidator() {
        return header("ETag") != null || header("Last-Modified") != null;
    }

    /** The same response, made stale now: it is revalidated (or refetched) before it is served again. */
    public CacheMeta expired() {
        return new CacheMeta(status, fields, requestTimeMillis, responseTimeMillis, correctedInitialAgeSeconds,
                0, staleWhileRevalidateSeconds, staleIfErrorSeconds, mustRevalidate, vary);
    }

    /**
     * The metadata as bytes, for a storage that writes to disk; {@link #decode} reads it back.
     * The format starts with a version, so a later release can tell an older file and skip it.
     */
    public byte[] encode() {
        return CacheMetaCodec.encode(this);
    }

    /**
     * Reads metadata that {@link #encode} wrote.
     *
     * @throws IllegalArgumentException when the bytes are not such metadata (a corrupt or foreign file)
     */
    public static CacheMeta decode(byte[] bytes) {
        return CacheMetaCodec.decode(bytes);
    }

    String[] fieldsUnsafe() {
        return fields;
    }

    @Override
    public String toString() {
        return "CacheMeta{" + status + ", lifetime=" + freshnessLifetimeSeconds + "s, initialAge="
                + correctedInitialAgeSeconds + "s, swr=" + staleWhileRevalidateSeconds + "s, sie=" + staleIfErrorSeconds
                + "s" + (mustRevalidate ? ", must-revalidate" : "") + (vary.isEmpty() ? "" : ", vary=" + vary) + '}';
    }
}
