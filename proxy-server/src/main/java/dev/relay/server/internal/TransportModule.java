package dev.relay.server.internal;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.relay.server.internal.config.ProxyConfig;
import dev.relay.transport.TransportRuntime;

/** Provides the process's {@link TransportRuntime} from {@code proxy.server.threads} and {@code transport}. */
public final class TransportModule extends AbstractModule {

    @Provides
    @Singleton
    TransportRuntime transportRuntime(ProxyConfig config) {
        return TransportRuntime.create(config.server().transport(), config.server().threads());
    }
}
