package dev.relay.filters.shaping;

import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.HttpModuleFactory;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * The {@code request-id} filter of configurations ({@link RequestIdFilter}); every key is optional:
 *
 * <pre>{@code
 * filters = [ { name = request-id, header = X-Request-ID, trust-incoming = true, format = uuid, max-length = 128 } ]
 * }</pre>
 */
public final class RequestIdFilterProvider implements FilterProvider {
    static final List<String> KEYS = List.of("header", "trust-incoming", "format", "max-length");

    /** Used by {@link java.util.ServiceLoader}. */
    public RequestIdFilterProvider() {}

    @Override
    public String name() {
        return RequestIdFilter.NAME;
    }

    @Override
    public HttpModuleFactory create(FilterSettings settings) {
        requireNonNull(settings, "settings");
        FilterSettings.requireKnownKeys(settings, RequestIdFilter.NAME, KEYS);
        RequestIdFilter.Builder b = RequestIdFilter.builder();
        settings.getString("header").ifPresent(b::header);
        settings.getBoolean("trust-incoming").ifPresent(b::trustIncoming);
        settings.getString("format").ifPresent(text -> b.format(RequestIdFilter.Format.parse("format", text)));
        settings.getLong("max-length").ifPresent(n -> b.maxLength((int) Math.max(-1, Math.min(n, Integer.MAX_VALUE))));
        return b.build();
    }
}
