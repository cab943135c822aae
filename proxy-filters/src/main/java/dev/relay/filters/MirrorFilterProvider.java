package dev.relay.filters;

import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.HttpModuleFactory;
import dev.relay.filters.internal.SettingErrors;

import java.util.List;

import static dev.relay.filters.internal.SettingErrors.apply;
import static java.util.Objects.requireNonNull;

/**
 * The {@code mirror} filter ({@link MirrorFilter}): copies a sample of requests to a backend of another
 * upstream group of the same server, fire-and-forget.
 *
 * <pre>{@code
 * filters = [{ name = mirror, upstream = shadow, sample = 0.1, max-body = 64KiB, max-in-flight = 100, timeout = 30s }]
 * }</pre>
 *
 * <p>{@code upstream} is required and must name a group of the configuration ({@code proxy.upstreams}):
 * a file, or a reload, without it fails naming the key. {@code sample} (0 to 1, default 1),
 * {@code max-body} (a size, default 64KiB, at most 64MiB), {@code max-in-flight} (default 100) and
 * {@code timeout} (a duration, default 30s: a copy unanswered by then is aborted) are optional.
 */
public final class MirrorFilterProvider implements FilterProvider {
    /** The name configurations use. */
    public static final String NAME = "mirror";

    static final String UPSTREAM = "upstream";
    static final String SAMPLE = "sample";
    static final String MAX_BODY = "max-body";
    static final String MAX_IN_FLIGHT = "max-in-flight";
    static final String TIMEOUT = "timeout";
    static final List<String> KEYS = List.of(UPSTREAM, SAMPLE, MAX_BODY, MAX_IN_FLIGHT, TIMEOUT);

    /** Used by {@link java.util.ServiceLoader}. */
    public MirrorFilterProvider() {}

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public HttpModuleFactory create(FilterSettings settings) {
        requireNonNull(settings, "settings");
        FilterSettings.requireKnownKeys(settings, NAME, KEYS);
        String upstream = settings.getString(UPSTREAM).map(String::trim)
                .orElseThrow(() -> new InvalidSettingException(UPSTREAM, "missing (expected: the name of an upstream "
                        + "group that receives the copies)"));
        MirrorFilter.Builder b = MirrorFilter.builder(settings.upstreamGroups(), upstream);
        settings.getString(SAMPLE).ifPresent(text -> apply(SAMPLE, () -> b.sample(share(text))));
        settings.getBytes(MAX_BODY).ifPresent(bytes -> apply(MAX_BODY, () -> b.maxBody(bytes)));
        settings.getLong(MAX_IN_FLIGHT).ifPresent(copies -> apply(MAX_IN_FLIGHT, () -> b.maxInFlight(copies)));
        settings.getDuration(TIMEOUT).ifPresent(timeout -> apply(TIMEOUT, () -> b.timeout(timeout)));
        try {
            return b.build();
        } catch (IllegalStateException e) {
            throw SettingErrors.naming(UPSTREAM, e);
        }
    }

    private static double share(String text) {
        try {
            return Double.parseDouble(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(SAMPLE + ": '" + text + "' (expected: a number from 0 to 1)");
        }
    }
}
