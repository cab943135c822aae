package dev.relay.filters.shaping;

import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;

import java.util.Locale;
import java.util.function.Supplier;

/**
 * Helpers shared by the shaping filters. Their builders throw {@link InvalidSettingException} named
 * after the configuration key a value comes from ({@code max-size}, {@code match}), so that a provider
 * passes a builder's error on as it is, or under a prefix for a nested block ({@code rules[2].match}).
 */
final class ShapingSettings {
    private ShapingSettings() {}

    /** Runs {@code read}; an {@link InvalidSettingException} it throws names its key under {@code prefix}. */
    static <T> T prefixed(String prefix, Supplier<T> read) {
        try {
            return read.get();
        } catch (InvalidSettingException e) {
            String prefix0 = e.key() + ": ";
            String message = e.getMessage();
            throw new InvalidSettingException(prefix + e.key(),
                    message.startsWith(prefix0) ? message.substring(prefix0.length()) : message);
        }
    }

    /** RFC 9110 token (a field name): letters, digits and {@code !#$%&'*+-.^_`|~}. */
    static boolean isToken(CharSequence s) {
        if (s.length() == 0) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (!isTokenChar(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    static boolean isTokenChar(char c) {
        return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }

    /** Checks a header field name given as {@code key}: a token, and not one of the framing fields the proxy owns. */
    static String fieldName(String key, String name) {
        if (!isToken(name)) {
            throw new InvalidSettingException(key, "'" + name + "' (expected: a header field name, letters, digits "
                    + "and !#$%&'*+-.^_`|~ only)");
        }
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.equals("content-length") || lower.equals("transfer-encoding") || lower.equals("host")
                || lower.equals("connection")) {
            throw new InvalidSettingException(key, "'" + name + "' (expected: a field other than Host, Connection, "
                    + "Content-Length and Transfer-Encoding)");
        }
        return name;
    }
}
