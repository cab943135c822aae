package dev.relay.filters.compression;

import org.jspecify.annotations.Nullable;

import java.util.Locale;

/** The content codings the {@code compression} filter knows (RFC 9110 §8.4.1, RFC 7932, RFC 8878). */
public enum ContentCoding {
    /** Zstandard (RFC 8878, as a content coding RFC 9659): the best ratio for its speed; modern browsers. */
    ZSTD("zstd", true),
    /** Brotli (RFC 7932): better ratios than gzip on text; every current browser, over HTTPS. */
    BR("br", true),
    /** gzip (RFC 1952): what every client decodes. */
    GZIP("gzip", true),
    /**
     * The zlib format (RFC 1950), which servers sometimes send raw (RFC 1951): only decoded, never
     * produced (gzip is the same compression with a clearer definition).
     */
    DEFLATE("deflate", false);

    private final String token;
    private final boolean encodable;

    ContentCoding(String token, boolean encodable) {
        this.token = token;
        this.encodable = encodable;
    }

    /** The name in {@code Accept-Encoding} and {@code Content-Encoding}. */
    public String token() {
        return token;
    }

    /** Whether the filter can compress into this coding (all but {@link #DEFLATE}). */
    public boolean isEncodable() {
        return encodable;
    }

    /**
     * The coding named {@code token} in any case ({@code x-gzip} is gzip, RFC 9110 §8.4.1.3), or null
     * for one the filter does not know.
     */
    public static @Nullable ContentCoding fromToken(String token) {
        String lower = token.trim().toLowerCase(Locale.ROOT);
        return switch (lower) {
            case "zstd" -> ZSTD;
            case "br" -> BR;
            case "gzip", "x-gzip" -> GZIP;
            case "deflate" -> DEFLATE;
            default -> null;
        };
    }

    @Override
    public String toString() {
        return token;
    }
}
