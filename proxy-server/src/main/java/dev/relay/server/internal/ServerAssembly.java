package dev.relay.server.internal;

import com.google.inject.CreationException;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Module;
import com.google.inject.ProvisionException;
import com.google.inject.Stage;
import com.google.inject.util.Modules;
import dev.relay.server.Server;
import dev.relay.server.internal.ConfigModule.ConfigSource;
import dev.relay.server.internal.config.ProxyConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Builds the Guice injector of a configured server, one module per concern: {@link ConfigModule},
 * {@link FilterModule}, {@link TransportModule}, {@link LoadBalancingModule}, {@link MetricsModule},
 * {@link AdminModule}, {@link ProxyModule} and {@link StreamsModule}. User modules override and extend them: those given
 * here, and every {@code com.google.inject.Module} that {@link ServiceLoader} finds on the classpath
 * ({@code META-INF/services/com.google.inject.Module} in a jar), for example to add a
 * {@link dev.relay.server.Service} or replace a binding.
 */
public final class ServerAssembly {
    private static final Logger LOG = LoggerFactory.getLogger(ServerAssembly.class);

    private ServerAssembly() {}

    /** The injector for {@code config}, read from the bundled default (tests). */
    public static Injector injector(ProxyConfig config, FilterRegistry registry) {
        return injector(config, new ConfigSource(null), registry, List.of());
    }

    /**
     * The injector for {@code config}; everything is a singleton, created on first use.
     *
     * @param userModules modules that override and extend the built-in ones
     * @throws IllegalStateException with the root cause's message when a binding cannot be created
     */
    public static Injector injector(ProxyConfig config, ConfigSource source, FilterRegistry registry,
                                    List<? extends Module> userModules) {
        Module builtIn = Modules.combine(new ConfigModule(config, source), new FilterModule(registry),
                new TransportModule(), new LoadBalancingModule(), new MetricsModule(), new AdminModule(), new ProxyModule(), new StreamsModule());
        try {
            return Guice.createInjector(Stage.PRODUCTION, userModules.isEmpty() ? builtIn
                    : Modules.override(builtIn).with(userModules));
        } catch (CreationException e) {
            throw unwrap(e);
        }
    }

    /** The user modules on the classpath of {@code loader}. */
    public static List<Module> discoverModules(ClassLoader loader) {
        List<Module> out = new ArrayList<>();
        var it = ServiceLoader.load(Module.class, loader).iterator();
        while (true) {
            try {
                if (!it.hasNext()) {
                    break;
                }
                Module m = it.next();
                LOG.info("user module {}", m.getClass().getName());
                out.add(m);
            } catch (ServiceConfigurationError e) {
                LOG.warn("skipping a module that cannot be loaded: {}", e.getMessage());
            }
        }
        return out;
    }

    /** The server for {@code config}, not started. */
    public static Server server(ProxyConfig config, FilterRegistry registry) {
        return instance(injector(config, registry), Server.class);
    }

    /** {@code injector.getInstance(type)}, with a readable failure. */
    public static <T> T instance(Injector injector, Class<T> type) {
        try {
            return injector.getInstance(type);
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
