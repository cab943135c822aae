package dev.relay.server.internal;

import com.google.inject.AbstractModule;
import com.google.inject.Provider;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.relay.server.Server;
import dev.relay.server.internal.admin.AdminServer;
import dev.relay.server.internal.config.ProxyConfig;
import dev.relay.server.internal.metrics.RelayMetrics;
import dev.relay.server.internal.proxy.ConfiguredProxy;

import java.util.Optional;

/** Admin: the {@link AdminServer} on {@code proxy.admin.address}, when the configuration sets one. */
public final class AdminModule extends AbstractModule {

    @Provides
    @Singleton
    Optional<AdminServer> adminServer(ProxyConfig config, Provider<Server> server, RelayMetrics metrics,
                                      ConfiguredProxy proxy, ConfigReloader reloader) {
        if (config.admin() == null) {
            return Optional.empty();
        }
        return Optional.of(new AdminServer(config.admin().address(), server::get, metrics, proxy, reloader));
    }
}
