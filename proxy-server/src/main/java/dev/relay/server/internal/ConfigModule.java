package dev.relay.server.internal;

import com.google.inject.AbstractModule;
import dev.relay.server.internal.config.ProxyConfig;

import static java.util.Objects.requireNonNull;

/** Binds the validated {@link ProxyConfig} that everything else is built from. */
public final class ConfigModule extends AbstractModule {
    private final ProxyConfig config;

    /** A module binding {@code config}. */
    public ConfigModule(ProxyConfig config) {
        this.config = requireNonNull(config, "config");
    }

    @Override
    protected void configure() {
        bind(ProxyConfig.class).toInstance(config);
    }
}
