package dev.relay.filters.shaping;

import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;

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
}
