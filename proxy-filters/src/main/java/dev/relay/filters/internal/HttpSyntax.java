package dev.relay.filters.internal;

import dev.relay.core.FilterSettings.InvalidSettingException;
import org.jspecify.annotations.Nullable;

import java.util.List;
import java.util.Locale;

/** RFC 9110 tokens, field names and plain field values, and RFC 6265 cookies, as every filter reads them. */
public final class HttpSyntax {
    private static final String TOKEN_SYMBOLS = "!#$%&'*+-.^_`|~";

    private HttpSyntax() {}

    /** Whether {@code text} is a non-empty RFC 9110 token: letters, digits and {@code !#$%&'*+-.^_`|~}. */
    public static boolean isToken(CharSequence text) {
        if (text.length() == 0) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean token = c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
                    || TOKEN_SYMBOLS.indexOf(c) >= 0;
            if (!token) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether {@code value} may be written as a header value as it is: printable ASCII, spaces and tabs
     * (a CR or LF would split the header; other characters have no portable encoding on the wire).
     */
    public static boolean isPlainFieldValue(CharSequence value) {
        return firstNonPlainIndex(value) < 0;
    }

    /** The index of the first character of {@code value} that {@link #isPlainFieldValue} refuses, or -1. */
    public static int firstNonPlainIndex(CharSequence value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 && c != '\t' || c >= 0x7f) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Checks a header field name that a filter writes or reads, set by {@code key}: a token, and not one
     * of the fields that frame the message or route it ({@code Host}, {@code Connection},
     * {@code Content-Length}, {@code Transfer-Encoding}), which the proxy owns.
     *
     * @return {@code name}
     * @throws InvalidSettingException naming {@code key}
     */
    public static String headerName(String key, String name) {
        if (!isToken(name)) {
            throw new InvalidSettingException(key, "'" + name + "' (expected: a header field name, letters, digits "
                    + "and " + TOKEN_SYMBOLS + " only)");
        }
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.equals("content-length") || lower.equals("transfer-encoding") || lower.equals("host")
                || lower.equals("connection")) {
            throw new InvalidSettingException(key, "'" + name + "' (expected: a field other than Host, Connection, "
                    + "Content-Length and Transfer-Encoding)");
        }
        return name;
    }

    /**
     * The value of the cookie {@code name} in {@code Cookie} fields ({@code a=1; b="2"}, RFC 6265 section
     * 4.2.1): the first pair of that name, spaces and tabs around names and values tolerated, a
     * cookie-value in double quotes given without them; null when there is none or it is empty. Only the
     * value found is copied.
     */
    public static @Nullable String cookieValue(List<String> cookieFields, String name) {
        for (int i = 0; i < cookieFields.size(); i++) {
            String field = cookieFields.get(i);
            int at = 0;
            int length = field.length();
            while (at < length) {
                int pairEnd = field.indexOf(';', at);
                if (pairEnd < 0) {
                    pairEnd = length;
                }
                int nameStart = skipBlanks(field, at, pairEnd);
                int equals = field.indexOf('=', nameStart);
                if (equals > 0 && equals < pairEnd && trimEnd(field, nameStart, equals) - nameStart == name.length()
                        && field.regionMatches(nameStart, name, 0, name.length())) {
                    int valueStart = skipBlanks(field, equals + 1, pairEnd);
                    int valueEnd = trimEnd(field, valueStart, pairEnd);
                    if (valueEnd - valueStart >= 2 && field.charAt(valueStart) == '"' && field.charAt(valueEnd - 1) == '"') {
                        valueStart++;
                        valueEnd--;
                    }
                    return valueEnd > valueStart ? field.substring(valueStart, valueEnd) : null;
                }
                at = pairEnd + 1;
            }
        }
        return null;
    }

    private static int skipBlanks(String text, int from, int end) {
        while (from < end && (text.charAt(from) == ' ' || text.charAt(from) == '\t')) {
            from++;
        }
        return from;
    }

    private static int trimEnd(String text, int start, int end) {
        while (end > start && (text.charAt(end - 1) == ' ' || text.charAt(end - 1) == '\t')) {
            end--;
        }
        return end;
    }
}
