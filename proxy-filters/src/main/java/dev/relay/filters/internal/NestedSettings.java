package dev.relay.filters.internal;

import dev.relay.core.FilterSettings.InvalidSettingException;

import java.util.function.Supplier;

/**
 * Errors of a nested block named by their whole key. A block's own reads and checks throw
 * {@link InvalidSettingException} naming a key of the block ({@code path}, {@code match}); the
 * provider that reads the block passes it on under the block's prefix ({@code disk.path},
 * {@code rules[2].match}), so that the message names what the user wrote.
 *
 * <pre>{@code
 * String path = NestedSettings.underPrefix("disk.", () -> diskBlock.getString("path")).orElseThrow(...);
 * }</pre>
 */
public final class NestedSettings {
    private NestedSettings() {}

    /**
     * Runs {@code read}; an {@link InvalidSettingException} it throws is thrown again naming its key under
     * {@code prefix}, with the same message. An empty prefix (a top-level key) leaves it as it is.
     */
    public static <T> T underPrefix(String prefix, Supplier<T> read) {
        try {
            return read.get();
        } catch (InvalidSettingException e) {
            if (prefix.isEmpty()) {
                throw e;
            }
            String message = e.getMessage();
            String own = e.key() + ": ";
            throw new InvalidSettingException(prefix + e.key(),
                    message.startsWith(own) ? message.substring(own.length()) : message);
        }
    }
}
