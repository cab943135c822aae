package dev.relay.filters.compression;

import dev.relay.filters.internal.HttpSyntax;
import org.jspecify.annotations.Nullable;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The media types worth compressing, as patterns: {@code type/subtype} exactly, {@code type/*} for a
 * whole top-level type, or {@code +suffix} for every type with that structured-syntax suffix
 * ({@code +json} matches {@code application/ld+json}). Parameters ({@code ; charset=utf-8}) and case
 * are ignored.
 */
final class CompressibleTypes {
    private final List<String> patterns;
    private final Set<String> exact = new HashSet<>();
    private final Set<String> topLevel = new HashSet<>();
    private final Set<String> suffixes = new HashSet<>();

    /** @throws IllegalArgumentException naming a pattern of none of the three forms */
    CompressibleTypes(List<String> patterns) {
        this.patterns = List.copyOf(patterns);
        for (String raw : this.patterns) {
            String pattern = raw.trim().toLowerCase(Locale.ROOT);
            // '*' is a token character, but a wildcard anywhere other than the whole subtype would match
            // nothing ("*/*" names no type): refused, as before the shared token check.
            if (pattern.startsWith("+") && HttpSyntax.isToken(pattern.substring(1)) && pattern.indexOf('*') < 0) {
                suffixes.add(pattern.substring(1));
                continue;
            }
            int slash = pattern.indexOf('/');
            if (slash <= 0 || !HttpSyntax.isToken(pattern.substring(0, slash)) || pattern.substring(0, slash).indexOf('*') >= 0) {
                throw new IllegalArgumentException("'" + raw + "' (expected: type/subtype, type/* or +suffix)");
            }
            String subtype = pattern.substring(slash + 1);
            if (subtype.equals("*")) {
                topLevel.add(pattern.substring(0, slash));
            } else if (HttpSyntax.isToken(subtype) && subtype.indexOf('*') < 0) {
                exact.add(pattern);
            } else {
                throw new IllegalArgumentException("'" + raw + "' (expected: type/subtype, type/* or +suffix)");
            }
        }
    }

    /** Whether a {@code Content-Type} value (null: absent) names a type of the list. */
    boolean matches(@Nullable String contentType) {
        if (contentType == null) {
            return false;
        }
        int end = contentType.indexOf(';');
        String type = (end < 0 ? contentType : contentType.substring(0, end)).trim().toLowerCase(Locale.ROOT);
        int slash = type.indexOf('/');
        if (slash <= 0) {
            return false;
        }
        if (exact.contains(type) || topLevel.contains(type.substring(0, slash))) {
            return true;
        }
        int plus = type.lastIndexOf('+');
        return plus > slash && suffixes.contains(type.substring(plus + 1));
    }

    List<String> patterns() {
        return patterns;
    }

    @Override
    public String toString() {
        return String.join(", ", patterns);
    }
}
