package dev.relay.server.internal;

import com.google.inject.CreationException;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.ProvisionException;
import com.google.inject.Stage;
import dev.relay.server.Server;
import dev.relay.server.internal.config.ProxyConfig;

/**
 * Builds the Guice injector of a configured server: {@link ConfigModule}, {@link FilterModule},
 * {@link TransportModule} and {@link ProxyModule}. {@code Main} uses it, and so do the tests.
 */
public final class ServerAssembly {
    private ServerAssembly() {}

    /**
     * The injector for {@code config}; everything is a singleton, created on first use.
     *
     * @throws IllegalStateException with the root cause's message when a binding cannot be created
     */
    public static Injector injector(ProxyConfig config, FilterRegistry registry) {
        try {
            return Guice.createInjector(Stage.PRODUCTION, new ConfigModule(config), new FilterModule(registry),
                    new TransportModule(), new ProxyModule());
        } catch (CreationException e) {
            throw unwrap(e);
        }
    }

    /** The server for {@code config}, not started. */
    public static Server server(ProxyConfig config, FilterRegistry registry) {
        Injector injector = injector(config, registry);
        try {
            return injector.getInstance(Server.class);
        } catch (ProvisionException e) {
            throw unwrap(e);
        }
    }

    private static RuntimeException unwrap(RuntimeException e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root == e) {
            return e;
        }
        return new IllegalStateException(root.getMessage() == null ? root.toString() : root.getMessage(), root);
    }
}
