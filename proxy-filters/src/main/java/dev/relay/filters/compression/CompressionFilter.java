package dev.relay.filters.compression;

import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * The {@code compression} filter as a module factory: responses compressed with zstd, br or gzip as
 * the client's {@code Accept-Encoding} allows, encoded responses the client cannot decode decoded, and
 * optionally compressed request bodies decoded on their way upstream. Everything streams: each body
 * part is transformed as it passes and flushed, so a server-sent-events stream stays live and no body is
 * held whole.
 *
 * <pre>{@code
 * public void initDownstreamModules(HttpModules modules) {
 *     modules.add(CompressionFilter.builder()
 *             .level(ContentCoding.GZIP, 5)
 *             .minLength(512)
 *             .build());
 * }
 * }</pre>
 *
 * <p>A response is compressed when its status is not 204, 206 or 304, the request is not {@code HEAD},
 * it has no {@code Content-Encoding}, no {@code Content-Range} and no {@code Cache-Control: no-transform},
 * its {@code Content-Type} is one of {@link Builder#types} and its {@code Content-Length}, when it has one,
 * is at least {@link Builder#minLength}; it then loses {@code Content-Length} (the proxy frames it) and
 * {@code Accept-Ranges}, its strong {@code ETag} becomes weak, and it gets {@code Vary: Accept-Encoding}
 * (every response of such a type does, compressed or not, so that caches keep the variants apart).
 * Negotiation follows RFC 9110: {@code q} values, {@code *}, {@code identity;q=0}; at equal quality the
 * order of {@link Builder#encodings} decides.
 */
public final class CompressionFilter implements HttpModuleFactory {
    /** The name of the filter in the server's configuration. */
    public static final String NAME = "compression";
    /** The codings offered, in order of preference at equal quality. */
    public static final List<ContentCoding> DEFAULT_ENCODINGS = List.of(ContentCoding.ZSTD, ContentCoding.BR, ContentCoding.GZIP);
    /**
     * Below this many bytes a response is sent as it is: it fits one TCP segment either way, so
     * compressing saves no round trip, and gzip's own 18 bytes of framing eat into what little it saves
     * (nginx and Pingora use 20 bytes, which compresses nearly everything; CloudFront 1,000).
     */
    public static final long DEFAULT_MIN_LENGTH = 1024;
    /**
     * The types compressed by default: text, the structured-data and script types, and the few image
     * and font types that are not already compressed (SVG, icons, bitmaps, TrueType and OpenType).
     */
    public static final List<String> DEFAULT_TYPES = List.of("text/*", "application/json", "application/javascript",
            "application/x-javascript", "application/ecmascript", "application/xml", "application/wasm",
            "application/x-ndjson", "application/ndjson", "application/yaml", "application/x-yaml",
            "application/vnd.ms-fontobject", "application/x-font-ttf", "font/ttf", "font/otf", "image/svg+xml",
            "image/x-icon", "image/vnd.microsoft.icon", "image/bmp", "+json", "+xml");
    /** The largest request body decoding allowed by default (decoded bytes). */
    public static final long DEFAULT_MAX_REQUEST_SIZE = 10L * 1024 * 1024;
    /** The decoded-to-encoded ratio a request body may reach by default (text rarely passes 20). */
    public static final long DEFAULT_MAX_RATIO = 100;

    private final Settings settings;

    private CompressionFilter(Settings settings) {
        this.settings = settings;
    }

    /** A builder with the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The filter with every default. */
    public static CompressionFilter withDefaults() {
        return builder().build();
    }

    /**
     * The codecs of this filter's requests, in the whole JVM, that still hold native memory (zlib, brotli
     * or zstd state): 0 whenever no body is being transformed. For monitoring and tests.
     */
    public static long openCodecs() {
        return BodyCodec.openCodecs();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public HttpModule newModule() {
        return new CompressionModule(settings);
    }

    @Override
    public String toString() {
        return NAME + "(encodings " + settings.encodings + ", levels " + settings.levels + ", min-length "
                + settings.minLength + ", types [" + settings.types + "], decompress " + settings.decompress
                + (settings.requestDecompress ? ", request-decompress up to " + settings.maxRequestSize
                + " bytes, ratio " + settings.maxRatio : "") + ")";
    }

    /** The validated settings every module of one filter shares; {@code encodings} holds only codings this JVM can produce. */
    record Settings(List<ContentCoding> encodings, Map<ContentCoding, Integer> levels, long minLength,
                    CompressibleTypes types, boolean decompress, boolean requestDecompress, long maxRequestSize,
                    long maxRatio) {
        int level(ContentCoding coding) {
            return levels.get(coding);
        }
    }

    /** Builds a {@link CompressionFilter}; every setting has a default. Not thread-safe. */
    public static final class Builder {
        private List<ContentCoding> encodings = DEFAULT_ENCODINGS;
        private final Map<ContentCoding, Integer> levels = new EnumMap<>(ContentCoding.class);
        private long minLength = DEFAULT_MIN_LENGTH;
        private List<String> types = DEFAULT_TYPES;
        private boolean decompress = true;
        private boolean requestDecompress;
        private long maxRequestSize = DEFAULT_MAX_REQUEST_SIZE;
        private long maxRatio = DEFAULT_MAX_RATIO;

        private Builder() {
            // gzip 6: zlib's default, where the ratio stops paying for the CPU (nginx uses 1, Pingora
            // leaves it to the caller). br 4: about gzip 6's speed with a better ratio; 11 is for files
            // compressed once, not per response. zstd 3: the library's default, faster than gzip 6 and smaller.
            levels.put(ContentCoding.GZIP, 6);
            levels.put(ContentCoding.BR, 4);
            levels.put(ContentCoding.ZSTD, 3);
        }

        /**
         * The codings to compress into, in order of preference when the client rates several equally
         * (default zstd, br, gzip); empty to only decode. {@link ContentCoding#DEFLATE} cannot be produced.
         */
        public Builder encodings(List<ContentCoding> encodings) {
            List<ContentCoding> copy = new ArrayList<>();
            for (ContentCoding coding : requireNonNull(encodings, "encodings")) {
                requireNonNull(coding, "encodings");
                if (!coding.isEncodable()) {
                    throw new IllegalArgumentException("encodings: " + coding + " (expected: zstd, br or gzip; deflate is only decoded)");
                }
                if (copy.contains(coding)) {
                    throw new IllegalArgumentException("encodings: " + coding + " is listed twice");
                }
                copy.add(coding);
            }
            this.encodings = List.copyOf(copy);
            return this;
        }

        /** The compression level of {@code coding}: gzip 1–9 (default 6), br 0–11 (4), zstd 1–19 (3). */
        public Builder level(ContentCoding coding, int level) {
            requireNonNull(coding, "coding");
            int max = switch (coding) {
                case GZIP -> 9;
                case BR -> 11;
                // Above 19 zstd's window passes the 8 MiB that RFC 9659 lets clients refuse.
                case ZSTD -> 19;
                case DEFLATE -> throw new IllegalArgumentException("level: deflate (expected: zstd, br or gzip)");
            };
            int min = coding == ContentCoding.BR ? 0 : 1;
            if (level < min || level > max) {
                throw new IllegalArgumentException(coding + " level: " + level + " (expected: " + min + " to " + max + ")");
            }
            levels.put(coding, level);
            return this;
        }

        /** Responses announcing fewer bytes than this are not compressed (default 1024; 0 compresses all). */
        public Builder minLength(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("min-length: " + bytes + " (expected: 0 or more bytes)");
            }
            this.minLength = bytes;
            return this;
        }

        /**
         * The media types to compress, as {@code type/subtype}, {@code type/*} or {@code +suffix}
         * (default {@link #DEFAULT_TYPES}).
         */
        public Builder types(List<String> types) {
            this.types = List.copyOf(requireNonNull(types, "types"));
            new CompressibleTypes(this.types);
            return this;
        }

        /** Whether responses in a coding the client does not accept are decoded for it (default true). */
        public Builder decompress(boolean decompress) {
            this.decompress = decompress;
            return this;
        }

        /**
         * Whether request bodies with a {@code Content-Encoding} the filter knows are decoded before they
         * go upstream (default false), within {@link #maxRequestSize} and {@link #maxRatio}.
         */
        public Builder requestDecompress(boolean requestDecompress) {
            this.requestDecompress = requestDecompress;
            return this;
        }

        /** The most bytes a request body may decode to; more is answered 413 (default 10 MiB). */
        public Builder maxRequestSize(long bytes) {
            if (bytes <= 0) {
                throw new IllegalArgumentException("max-request-size: " + bytes + " (expected: more than 0 bytes)");
            }
            this.maxRequestSize = bytes;
            return this;
        }

        /**
         * How many times its encoded size a request body may decode to, checked once it passes 64 KiB
         * decoded; more is answered 413 (default 100).
         */
        public Builder maxRatio(long ratio) {
            if (ratio < 1) {
                throw new IllegalArgumentException("max-ratio: " + ratio + " (expected: 1 or more)");
            }
            this.maxRatio = ratio;
            return this;
        }

        /** The filter. */
        public CompressionFilter build() {
            // Without brotli's native library br cannot be produced: it is left out here, once, rather
            // than passed over for every response.
            List<ContentCoding> offered = BrotliCodecs.available() ? encodings
                    : encodings.stream().filter(coding -> coding != ContentCoding.BR).toList();
            return new CompressionFilter(new Settings(offered, java.util.Collections.unmodifiableMap(new EnumMap<>(levels)), minLength,
                    new CompressibleTypes(types), decompress, requestDecompress, maxRequestSize, maxRatio));
        }
    }
}
