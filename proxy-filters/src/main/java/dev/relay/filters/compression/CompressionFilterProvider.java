package dev.relay.filters.compression;

import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.HttpModuleFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

import static dev.relay.filters.internal.SettingErrors.apply;
import static java.util.Objects.requireNonNull;

/**
 * The {@code compression} filter of the server's configuration ({@link CompressionFilter}). Every key
 * is optional:
 *
 * <pre>{@code
 * filters = [{
 *   name = compression
 *   encodings = [zstd, br, gzip]     # offered, in order of preference at equal q
 *   gzip-level = 6                   # 1-9
 *   br-level = 4                     # 0-11
 *   zstd-level = 3                   # 1-19
 *   min-length = 1024                # bytes; smaller responses (by Content-Length) are sent as they are
 *   types = ["text/*", "application/json", "+json", "+xml"]
 *   decompress = true                # decode gzip/deflate/br/zstd responses the client cannot
 *   request-decompress = false       # decode request bodies with a Content-Encoding
 *   max-request-size = 10MiB         # decoded bytes; more: 413
 *   max-ratio = 100                  # decoded/encoded; more: 413
 * }]
 * }</pre>
 *
 * <p>{@link #create} rejects an unknown key, a coding it cannot produce, a level out of its codec's
 * range, a malformed type, and {@code max-request-size} or {@code max-ratio} without
 * {@code request-decompress = true}, with an {@link InvalidSettingException} naming the key.
 */
public final class CompressionFilterProvider implements FilterProvider {
    static final String ENCODINGS = "encodings";
    static final String GZIP_LEVEL = "gzip-level";
    static final String BR_LEVEL = "br-level";
    static final String ZSTD_LEVEL = "zstd-level";
    static final String MIN_LENGTH = "min-length";
    static final String TYPES = "types";
    static final String DECOMPRESS = "decompress";
    static final String REQUEST_DECOMPRESS = "request-decompress";
    static final String MAX_REQUEST_SIZE = "max-request-size";
    static final String MAX_RATIO = "max-ratio";

    /** The accepted keys, in documentation order. */
    static final List<String> KEYS = List.of(ENCODINGS, GZIP_LEVEL, BR_LEVEL, ZSTD_LEVEL, MIN_LENGTH, TYPES,
            DECOMPRESS, REQUEST_DECOMPRESS, MAX_REQUEST_SIZE, MAX_RATIO);

    /** Used by {@link java.util.ServiceLoader}. */
    public CompressionFilterProvider() {}

    @Override
    public String name() {
        return CompressionFilter.NAME;
    }

    @Override
    public HttpModuleFactory create(FilterSettings settings) {
        requireNonNull(settings, "settings");
        for (String key : settings.keys()) {
            if (!KEYS.contains(key)) {
                throw new InvalidSettingException(key, "unknown setting of the " + CompressionFilter.NAME
                        + " filter (expected one of: " + String.join(", ", KEYS) + ")");
            }
        }
        CompressionFilter.Builder builder = CompressionFilter.builder();
        settings.getStringList(ENCODINGS).ifPresent(names -> apply(ENCODINGS, () -> builder.encodings(codings(names))));
        level(settings, GZIP_LEVEL, ContentCoding.GZIP, builder);
        level(settings, BR_LEVEL, ContentCoding.BR, builder);
        level(settings, ZSTD_LEVEL, ContentCoding.ZSTD, builder);
        settings.getBytes(MIN_LENGTH).ifPresent(bytes -> apply(MIN_LENGTH, () -> builder.minLength(bytes)));
        settings.getStringList(TYPES).ifPresent(types -> apply(TYPES, () -> builder.types(types)));
        settings.getBoolean(DECOMPRESS).ifPresent(builder::decompress);
        boolean requestDecompress = settings.getBoolean(REQUEST_DECOMPRESS).orElse(false);
        builder.requestDecompress(requestDecompress);
        ifRequestDecompress(settings.getBytes(MAX_REQUEST_SIZE), MAX_REQUEST_SIZE, requestDecompress,
                bytes -> apply(MAX_REQUEST_SIZE, () -> builder.maxRequestSize(bytes)));
        ifRequestDecompress(settings.getLong(MAX_RATIO), MAX_RATIO, requestDecompress,
                ratio -> apply(MAX_RATIO, () -> builder.maxRatio(ratio)));
        return builder.build();
    }

    private static void level(FilterSettings settings, String key, ContentCoding coding, CompressionFilter.Builder builder) {
        settings.getLong(key).ifPresent(level -> apply(key, () -> {
            if (level < Integer.MIN_VALUE || level > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(level + " (expected: a small integer)");
            }
            builder.level(coding, level.intValue());
        }));
    }

    private static void ifRequestDecompress(Optional<Long> value, String key, boolean requestDecompress, Consumer<Long> action) {
        if (value.isEmpty()) {
            return;
        }
        if (!requestDecompress) {
            throw new InvalidSettingException(key, "has no effect without " + REQUEST_DECOMPRESS
                    + " = true (expected: set both, or neither)");
        }
        action.accept(value.get());
    }

    private static List<ContentCoding> codings(List<String> names) {
        List<ContentCoding> codings = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            ContentCoding coding = ContentCoding.fromToken(names.get(i));
            if (coding == null) {
                throw new InvalidSettingException(ENCODINGS + "[" + i + "]", "'" + names.get(i)
                        + "' (expected: zstd, br or gzip)");
            }
            codings.add(coding);
        }
        return codings;
    }
}
