package dev.relay.filters;

import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;

import java.util.List;

/** The check every filter of this package makes first: its block holds only keys it knows. */
final class SettingKeys {
    private SettingKeys() {}

    /**
     * Refuses the first key of {@code settings} that is not in {@code known}, naming it and listing
     * those of filter {@code filter} (a typo must fail the load, not be ignored).
     */
    static void requireKnown(FilterSettings settings, String filter, List<String> known) {
        for (String key : settings.keys()) {
            if (!known.contains(key)) {
                throw new InvalidSettingException(key, "unknown setting of the " + filter + " filter (expected one of: "
                        + String.join(", ", known) + ")");
            }
        }
    }
}
