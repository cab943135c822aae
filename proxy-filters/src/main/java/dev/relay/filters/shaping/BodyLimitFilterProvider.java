package dev.relay.filters.shaping;

import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.HttpModuleFactory;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * The {@code body-limit} filter of configurations ({@link BodyLimitFilter}):
 *
 * <pre>{@code
 * filters = [ { name = body-limit, max-size = 1MiB } ]
 * }</pre>
 */
public final class BodyLimitFilterProvider implements FilterProvider {
    static final List<String> KEYS = List.of("max-size");

    /** Used by {@link java.util.ServiceLoader}. */
    public BodyLimitFilterProvider() {}

    @Override
    public String name() {
        return BodyLimitFilter.NAME;
    }

    @Override
    public HttpModuleFactory create(FilterSettings settings) {
        requireNonNull(settings, "settings");
        FilterSettings.requireKnownKeys(settings, BodyLimitFilter.NAME, KEYS);
        long maxSize = settings.getBytes("max-size").orElseThrow(() -> new InvalidSettingException("max-size",
                "missing (expected: a size such as 1MiB, 64k or a number of bytes)"));
        return BodyLimitFilter.of(maxSize);
    }
}
