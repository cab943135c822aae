package dev.relay.filters.access;

import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.HttpModuleFactory;
import dev.relay.filters.internal.SettingErrors;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * The {@code cors} filter ({@link CorsFilter}) from a configuration block:
 *
 * <pre>{@code
 * { name = cors
 *   allow-origins = [ "https://app.example", "https://*.example.com" ]   # or "*"
 *   allow-methods = [ GET, POST, PUT ]          # default GET, HEAD, POST
 *   allow-headers = [ Content-Type, Authorization ]   # or "*"; default none
 *   expose-headers = [ X-Request-Id ]
 *   allow-credentials = true                    # refused with "*"
 *   max-age = 1h }
 * }</pre>
 */
public final class CorsFilterProvider implements FilterProvider {
    /** The name configurations use. */
    public static final String NAME = "cors";

    static final String ALLOW_ORIGINS = "allow-origins";
    static final String ALLOW_METHODS = "allow-methods";
    static final String ALLOW_HEADERS = "allow-headers";
    static final String EXPOSE_HEADERS = "expose-headers";
    static final String ALLOW_CREDENTIALS = "allow-credentials";
    static final String MAX_AGE = "max-age";
    private static final List<String> KEYS = List.of(ALLOW_ORIGINS, ALLOW_METHODS, ALLOW_HEADERS, EXPOSE_HEADERS,
            ALLOW_CREDENTIALS, MAX_AGE);

    /** Used by {@link java.util.ServiceLoader}. */
    public CorsFilterProvider() {}

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public HttpModuleFactory create(FilterSettings settings) {
        requireNonNull(settings, "settings");
        FilterSettings.requireKnownKeys(settings, NAME, KEYS);
        CorsFilter.Builder builder = CorsFilter.builder();
        List<String> origins = AccessSettings.textOrList(settings, ALLOW_ORIGINS);
        for (int i = 0; i < origins.size(); i++) {
            String origin = origins.get(i);
            if (!origin.equals("*")) {
                SettingErrors.apply(origins.size() == 1 ? ALLOW_ORIGINS : ALLOW_ORIGINS + "[" + i + "]",
                        () -> OriginPattern.parse(origin));
            }
        }
        SettingErrors.apply(ALLOW_ORIGINS, () -> builder.allowOrigins(origins));
        if (settings.keys().contains(ALLOW_METHODS)) {
            List<String> methods = AccessSettings.textOrList(settings, ALLOW_METHODS);
            SettingErrors.apply(ALLOW_METHODS, () -> builder.allowMethods(methods));
        }
        if (settings.keys().contains(ALLOW_HEADERS)) {
            List<String> headers = AccessSettings.textOrList(settings, ALLOW_HEADERS);
            SettingErrors.apply(ALLOW_HEADERS, () -> builder.allowHeaders(headers));
        }
        settings.getStringList(EXPOSE_HEADERS).ifPresent(expose -> SettingErrors.apply(EXPOSE_HEADERS, () -> builder.exposeHeaders(expose)));
        settings.getBoolean(ALLOW_CREDENTIALS).ifPresent(builder::allowCredentials);
        settings.getDuration(MAX_AGE).ifPresent(maxAge -> SettingErrors.apply(MAX_AGE, () -> builder.maxAge(maxAge)));
        try {
            return builder.build();
        } catch (IllegalStateException e) {
            String message = e.getMessage();
            String key = message.startsWith(ALLOW_CREDENTIALS) ? ALLOW_CREDENTIALS : ALLOW_ORIGINS;
            throw new InvalidSettingException(key, message.substring(message.indexOf(": ") + 2));
        }
    }
}
