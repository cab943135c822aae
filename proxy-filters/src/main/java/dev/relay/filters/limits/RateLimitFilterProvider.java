package dev.relay.filters.limits;

import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * The {@code rate-limit} filter's provider: a {@link RateLimitFilter} from a configuration block.
 *
 * <pre>{@code
 * filters = [{
 *   name = rate-limit
 *   key = client-ip          # client-ip, header:NAME, host, cookie:NAME or route
 *   limit = 10               # requests per period (a sliding window) ...
 *   period = 1s              # ... at least 1ms
 *   burst = 20               # optional: a token bucket of 20, refilled at limit per period
 *   max-in-flight = 4        # optional: requests of one key at a time (503 beyond)
 *   headers = true           # RateLimit / RateLimit-Policy on admitted responses (a 429 always has them)
 * }]
 * }</pre>
 *
 * <p>{@code key} is required, and {@code limit} with {@code period}, or {@code max-in-flight}, or both.
 * {@link #create} rejects an unknown key of the block, a key kind it does not know, a limit below 1, a
 * period under 1 ms, a burst without a limit, with an {@link InvalidSettingException} naming the setting.
 */
public final class RateLimitFilterProvider implements FilterProvider {
    static final String KEY = "key";
    static final String LIMIT = "limit";
    static final String PERIOD = "period";
    static final String BURST = "burst";
    static final String MAX_IN_FLIGHT = "max-in-flight";
    static final String HEADERS = "headers";

    /** The accepted settings, in documentation order. */
    static final List<String> SETTINGS = List.of(KEY, LIMIT, PERIOD, BURST, MAX_IN_FLIGHT, HEADERS);

    /** Used by {@link java.util.ServiceLoader}. */
    public RateLimitFilterProvider() {}

    @Override
    public String name() {
        return RateLimitFilter.NAME;
    }

    @Override
    public RateLimitFilter create(FilterSettings settings) {
        requireNonNull(settings, "settings");
        for (String name : settings.keys()) {
            if (!SETTINGS.contains(name)) {
                throw new InvalidSettingException(name, "unknown setting of the " + RateLimitFilter.NAME
                        + " filter (expected one of: " + String.join(", ", SETTINGS) + ")");
            }
        }
        RateLimitFilter.Builder builder = RateLimitFilter.builder(key(settings));
        Optional<Long> limit = settings.getLong(LIMIT);
        Optional<Duration> period = settings.getDuration(PERIOD);
        if (limit.isPresent() != period.isPresent()) {
            String missing = limit.isPresent() ? PERIOD : LIMIT;
            throw new InvalidSettingException(missing, "missing (expected: " + LIMIT + " and " + PERIOD
                    + " together, such as limit = 10, period = 1s)");
        }
        if (limit.isPresent()) {
            if (limit.get() < 1) {
                throw new InvalidSettingException(LIMIT, limit.get() + " (expected: at least 1)");
            }
            if (period.get().compareTo(Duration.ofMillis(1)) < 0) {
                throw new InvalidSettingException(PERIOD, period.get() + " (expected: at least 1ms)");
            }
            apply(LIMIT, () -> builder.limit(limit.get(), period.get()));
        }
        settings.getLong(BURST).ifPresent(burst -> {
            if (limit.isEmpty()) {
                throw new InvalidSettingException(BURST, burst + " without a limit (expected: limit and period too, "
                        + "the rate that refills the bucket)");
            }
            apply(BURST, () -> builder.burst(burst));
        });
        settings.getLong(MAX_IN_FLIGHT).ifPresent(max -> apply(MAX_IN_FLIGHT, () -> builder.maxInFlight(max)));
        if (limit.isEmpty() && settings.getLong(MAX_IN_FLIGHT).isEmpty()) {
            throw new InvalidSettingException(LIMIT, "missing (expected: limit and period, max-in-flight, or both)");
        }
        settings.getBoolean(HEADERS).ifPresent(builder::headers);
        return builder.build();
    }

    private static RateLimitKey key(FilterSettings settings) {
        String spec = settings.getString(KEY).orElseThrow(() -> new InvalidSettingException(KEY,
                "missing (expected: client-ip, header:NAME, host, cookie:NAME or route)"));
        try {
            return RateLimitKey.parse(spec);
        } catch (IllegalArgumentException e) {
            throw new InvalidSettingException(KEY, e.getMessage());
        }
    }

    /** Runs a builder method, turning its refusal into an error naming {@code setting}. */
    private static void apply(String setting, Runnable set) {
        try {
            set.run();
        } catch (InvalidSettingException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            String message = e.getMessage();
            String prefix = setting + ": ";
            throw new InvalidSettingException(setting, message.startsWith(prefix) ? message.substring(prefix.length()) : message);
        }
    }
}
