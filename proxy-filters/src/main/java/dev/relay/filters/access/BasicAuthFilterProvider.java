package dev.relay.filters.access;

import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.HttpModuleFactory;
import dev.relay.filters.internal.SettingErrors;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * The {@code basic-auth} filter ({@link BasicAuthFilter}) from a configuration block:
 *
 * <pre>{@code
 * { name = basic-auth, realm = "staff", htpasswd = "/etc/relay/htpasswd",
 *   user-header = X-Auth-User, forward-credentials = false, cache-ttl = 1m }
 * }</pre>
 *
 * {@code htpasswd} (an absolute path) is required and read now: a missing file, or a line with a hash
 * other than bcrypt, {@code {SHA}} or {@code {SSHA}}, fails the load naming the file and line.
 */
public final class BasicAuthFilterProvider implements FilterProvider {
    /** The name configurations use. */
    public static final String NAME = "basic-auth";

    static final String HTPASSWD = "htpasswd";
    static final String REALM = "realm";
    static final String USER_HEADER = "user-header";
    static final String FORWARD_CREDENTIALS = "forward-credentials";
    static final String CACHE_TTL = "cache-ttl";
    private static final List<String> KEYS = List.of(HTPASSWD, REALM, USER_HEADER, FORWARD_CREDENTIALS, CACHE_TTL);

    /** Used by {@link java.util.ServiceLoader}. */
    public BasicAuthFilterProvider() {}

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public HttpModuleFactory create(FilterSettings settings) {
        requireNonNull(settings, "settings");
        FilterSettings.requireKnownKeys(settings, NAME, KEYS);
        BasicAuthFilter.Builder builder = BasicAuthFilter.builder(AccessSettings.readableFile(settings, HTPASSWD));
        settings.getString(REALM).ifPresent(realm -> SettingErrors.apply(REALM, () -> builder.realm(realm)));
        settings.getString(USER_HEADER).ifPresent(name -> SettingErrors.apply(USER_HEADER, () -> builder.userHeader(name)));
        settings.getBoolean(FORWARD_CREDENTIALS).ifPresent(builder::forwardCredentials);
        settings.getDuration(CACHE_TTL).ifPresent(ttl -> SettingErrors.apply(CACHE_TTL, () -> builder.cacheTtl(ttl)));
        try {
            return builder.build();
        } catch (IllegalArgumentException e) {
            throw new InvalidSettingException(HTPASSWD, e.getMessage());
        }
    }
}
