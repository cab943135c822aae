package dev.relay.core.cache;

import dev.relay.core.RequestHeader;
import dev.relay.core.Session;
import org.jspecify.annotations.Nullable;

import java.util.Locale;
import java.util.Objects;

/**
 * What a response is stored under. The {@link #primary()} part names the resource; the
 * {@link #variance()} part, when the stored response has a {@code Vary}, names the variant
 * (RFC 9111 §4.1). The default key, {@link #of(Session)}, always holds the scheme, the host and the
 * full request target: a key without the host would let one virtual host's response answer another's
 * requests (cache poisoning, Pingora CVE-2026-2836).
 *
 * @param primary  the resource: by default {@code scheme://host/target?query}
 * @param variance the variant, or null for a response without {@code Vary}
 */
public record CacheKey(String primary, @Nullable String variance) {
    /** Separates the primary key from the variance in {@link #storageKey()}; never in a request target. */
    public static final char VARIANCE_SEPARATOR = '\u0000';

    public CacheKey {
        Objects.requireNonNull(primary, "primary");
    }

    /** A key for a resource without variance. */
    public static CacheKey of(String primary) {
        return new CacheKey(primary, null);
    }

    /**
     * The default key of a request: scheme, host (lower case, from {@code Host}; HTTP/2's
     * {@code :authority} arrives as {@code Host}) and the full target, query included. An
     * absolute-form target ({@code GET http://host/path}) is taken as it is.
     */
    public static CacheKey of(Session session) {
        RequestHeader request = session.requestHeader();
        String target = request.uri();
        if (isAbsolute(target)) {
            return ofAbsoluteUri(target);
        }
        String host = request.headers().get("Host");
        return of((session.isTls() ? "https://" : "http://")
                + (host == null ? "" : host.toLowerCase(Locale.ROOT)) + target);
    }

    /**
     * The key of an absolute URI ({@code http://host/path?query}), as {@link #of(Session)} makes it for
     * an absolute-form target: scheme and host in lower case, {@code /} after a bare host, the rest as it
     * is. A string that is not an {@code http} or {@code https} URI is taken as it is.
     */
    public static CacheKey ofAbsoluteUri(String uri) {
        if (!isAbsolute(uri)) {
            return of(uri);
        }
        int authorityEnd = uri.indexOf('/', uri.indexOf("//") + 2);
        return of(authorityEnd < 0 ? uri.toLowerCase(Locale.ROOT) + "/"
                : uri.substring(0, authorityEnd).toLowerCase(Locale.ROOT) + uri.substring(authorityEnd));
    }

    private static boolean isAbsolute(String target) {
        return target.regionMatches(true, 0, "http://", 0, 7) || target.regionMatches(true, 0, "https://", 0, 8);
    }

    /** This key for the variant {@code variance} (null: no variance). */
    public CacheKey withVariance(@Nullable String variance) {
        return new CacheKey(primary, variance);
    }

    /**
     * The one string a storage keys the object by: the primary key, then the separator and the variance
     * when there is one. Every variant of a resource starts with {@link #variantPrefix()}.
     */
    public String storageKey() {
        return variance == null ? primary : primary + VARIANCE_SEPARATOR + variance;
    }

    /** The prefix of the storage keys of every variant of this resource. */
    public String variantPrefix() {
        return primary + VARIANCE_SEPARATOR;
    }

    @Override
    public String toString() {
        return variance == null ? primary : primary + " (variant " + variance.replace('\n', ';') + ")";
    }
}
