package dev.relay.core.cache;

import org.jspecify.annotations.Nullable;

/**
 * Entity-tag comparison (RFC 9110 §8.8.3.2): strong comparison needs both tags strong and equal;
 * weak comparison ignores the {@code W/} prefix of either.
 */
final class EntityTags {
    private EntityTags() {}

    /** Whether two entity-tags are the same strong validator; false when either is weak or absent. */
    static boolean strongMatch(String tag, @Nullable String other) {
        if (other == null) {
            return false;
        }
        String a = tag.trim();
        String b = other.trim();
        return !isWeak(a) && !isWeak(b) && a.equals(b);
    }

    /** Whether two entity-tags name the same representation, weak or not; false when {@code other} is absent. */
    static boolean weakMatch(String tag, @Nullable String other) {
        return other != null && opaque(tag.trim()).equals(opaque(other.trim()));
    }

    /**
     * Whether an {@code If-None-Match} list ({@code *} or comma-separated entity-tags, whose quoted part
     * may hold commas) has a tag weakly matching {@code etag}; {@code *} matches any stored response.
     */
    static boolean anyWeaklyMatches(String list, @Nullable String etag) {
        int n = list.length();
        int i = 0;
        while (i < n) {
            char c = list.charAt(i);
            if (c == ',' || c == ' ' || c == '\t') {
                i++;
                continue;
            }
            if (c == '*') {
                return true;
            }
            int start = i;
            if (list.startsWith("W/", i)) {
                i += 2;
            }
            int end;
            if (i < n && list.charAt(i) == '"') {
                int close = list.indexOf('"', i + 1);
                end = close < 0 ? n : close + 1;
            } else {
                // Not an entity-tag: skipped up to the next element.
                end = list.indexOf(',', i);
                end = end < 0 ? n : end;
                i = end;
                continue;
            }
            String tag = list.substring(start, end);
            if (weakMatch(tag, etag)) {
                return true;
            }
            i = end;
        }
        return false;
    }

    private static boolean isWeak(String tag) {
        return tag.startsWith("W/");
    }

    private static String opaque(String tag) {
        return isWeak(tag) ? tag.substring(2) : tag;
    }
}
