package dev.relay.filters.internal;

import dev.relay.core.FilterSettings.InvalidSettingException;

/**
 * Turns a builder's refusal into the error of the setting it came from, the way every filter provider
 * reports it: {@code key: value (expected: ...)}, naming the key of the configuration rather than the
 * builder's parameter.
 *
 * <pre>{@code
 * settings.getLong(MAX_IN_FLIGHT).ifPresent(max -> SettingErrors.apply(MAX_IN_FLIGHT, () -> builder.maxInFlight(max)));
 * }</pre>
 */
public final class SettingErrors {
    private SettingErrors() {}

    /**
     * Runs {@code builderCall}; an {@link IllegalArgumentException} or {@link IllegalStateException} it throws
     * becomes an {@link InvalidSettingException} naming {@code key} ({@link #naming}). An
     * {@link InvalidSettingException} (a provider's own check inside the call) already names its key and
     * passes as it is.
     */
    public static void apply(String key, Runnable builderCall) {
        try {
            builderCall.run();
        } catch (InvalidSettingException e) {
            throw e;
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw naming(key, e);
        }
    }

    /**
     * {@code refusal} as the error of {@code key}. Builders word their messages {@code name: value (expected:
     * ...)}, with their parameter's name (which is not always the key: {@code rule} for {@code rules[2]},
     * {@code zstd level} for {@code zstd-level}); that name gives way to the key. A message that starts with
     * anything else (a quoted value, or a value and what was expected) is kept whole.
     */
    public static InvalidSettingException naming(String key, RuntimeException refusal) {
        String message = String.valueOf(refusal.getMessage());
        int colon = message.indexOf(": ");
        String before = colon > 0 ? message.substring(0, colon) : "";
        boolean named = !before.isEmpty() && before.indexOf('\'') < 0 && before.indexOf('(') < 0;
        return new InvalidSettingException(key, named ? message.substring(colon + 2) : message);
    }
}
