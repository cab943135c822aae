package dev.relay.server.internal;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.relay.server.HttpProxyService;
import dev.relay.server.internal.config.ConfigLoader;
import dev.relay.server.internal.config.ProxyConfig;
import dev.relay.server.internal.metrics.RelayMetrics;
import dev.relay.server.internal.proxy.ConfiguredProxy;

import java.nio.file.Path;

import static java.util.Objects.requireNonNull;

/**
 * Configuration: binds the validated {@link ProxyConfig} that everything else is built from, where
 * it came from ({@link ConfigSource}), and the {@link ConfigReloader} that SIGHUP and
 * {@code POST /reload} run.
 */
public final class ConfigModule extends AbstractModule {
    private final ProxyConfig config;
    private final ConfigSource source;

    /** A module binding {@code config}, read from the bundled default (reloads read it again). */
    public ConfigModule(ProxyConfig config) {
        this(config, new ConfigSource(null));
    }

    /** A module binding {@code config}, read from {@code source}. */
    public ConfigModule(ProxyConfig config, ConfigSource source) {
        this.config = requireNonNull(config, "config");
        this.source = requireNonNull(source, "source");
    }

    /**
     * Where the configuration is read from.
     *
     * @param file the file given with {@code -c}; null: the bundled default
     */
    public record ConfigSource(Path file) {}

    @Override
    protected void configure() {
        bind(ProxyConfig.class).toInstance(config);
        bind(ConfigSource.class).toInstance(source);
    }

    @Provides
    @Singleton
    ConfigLoader configLoader(FilterRegistry filters) {
        return new ConfigLoader(filters);
    }

    @Provides
    @Singleton
    ConfigReloader configReloader(ConfigLoader loader, ConfigSource source, ProxyConfig config, ConfiguredProxy proxy,
                                  HttpProxyService service, DemoOrigins demo, RelayMetrics metrics) {
        return new ConfigReloader(loader, source.file(), config, proxy, service, demo, metrics);
    }
}
