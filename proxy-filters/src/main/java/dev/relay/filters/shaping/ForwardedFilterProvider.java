package dev.relay.filters.shaping;

import dev.relay.core.CidrBlock;
import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.HttpModuleFactory;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * The {@code forwarded} filter of configurations ({@link ForwardedFilter}); every key is optional:
 *
 * <pre>{@code
 * filters = [ {
 *   name = forwarded
 *   mode = both                                   # x-forwarded (default), forwarded or both
 *   trusted-proxies = [ "10.0.0.0/8", "::1", "unix:" ]
 *   by = _relay                                   # Forwarded's by=: listener or an _identifier
 *   client-ip-fields = [ X-Real-IP, True-Client-IP, X-Client-IP ]   # the default: removed unless trusted
 * } ]
 * }</pre>
 */
public final class ForwardedFilterProvider implements FilterProvider {
    static final List<String> KEYS = List.of("mode", "trusted-proxies", "by", "client-ip-fields");

    /** Used by {@link java.util.ServiceLoader}. */
    public ForwardedFilterProvider() {}

    @Override
    public String name() {
        return ForwardedFilter.NAME;
    }

    @Override
    public HttpModuleFactory create(FilterSettings settings) {
        requireNonNull(settings, "settings");
        FilterSettings.requireKnownKeys(settings, ForwardedFilter.NAME, KEYS);
        ForwardedFilter.Builder b = ForwardedFilter.builder();
        settings.getString("mode").ifPresent(text -> b.mode(ForwardedFilter.Mode.parse("mode", text)));
        List<String> proxies = settings.getStringList("trusted-proxies").orElse(List.of());
        for (int i = 0; i < proxies.size(); i++) {
            String entry = proxies.get(i).trim();
            if (entry.equals("unix:")) {
                b.trustUnixSockets(true);
                continue;
            }
            try {
                b.trustedProxy(CidrBlock.parse(entry));
            } catch (IllegalArgumentException e) {
                throw new InvalidSettingException("trusted-proxies[" + i + "]", e.getMessage() + " (or unix:)");
            }
        }
        settings.getString("by").ifPresent(b::by);
        settings.getStringList("client-ip-fields").ifPresent(b::clientIpFields);
        return b.build();
    }
}
