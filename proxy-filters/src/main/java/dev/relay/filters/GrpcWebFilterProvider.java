package dev.relay.filters;

import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.HttpModuleFactory;

import static java.util.Objects.requireNonNull;

/**
 * The {@code grpc-web} filter: the {@link GrpcWebBridge} module, which lets browser gRPC-web clients
 * reach gRPC origins. It has no settings.
 *
 * <pre>{@code
 * filters = [ { name = grpc-web } ]
 * }</pre>
 *
 * <p>The origin must speak gRPC, so HTTP/2: give the route's upstream group {@code alpn = h2} (h2c
 * with prior knowledge without TLS, ALPN with it).
 */
public final class GrpcWebFilterProvider implements FilterProvider {

    /** Used by {@link java.util.ServiceLoader}. */
    public GrpcWebFilterProvider() {}

    @Override
    public String name() {
        return GrpcWebBridge.NAME;
    }

    @Override
    public HttpModuleFactory create(FilterSettings settings) {
        requireNonNull(settings, "settings");
        if (!settings.keys().isEmpty()) {
            String key = new java.util.TreeSet<>(settings.keys()).first();
            throw new InvalidSettingException(key, "unknown setting of the " + GrpcWebBridge.NAME
                    + " filter (expected: none, it has no settings)");
        }
        return GrpcWebBridge.factory();
    }
}
