package dev.relay.server.internal;

import com.google.inject.AbstractModule;
import com.google.inject.Provider;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.multibindings.Multibinder;
import dev.relay.core.Addresses;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.ServerOptions;
import dev.relay.server.Service;
import dev.relay.server.internal.admin.AdminServer;
import dev.relay.server.internal.config.ProxyConfig;
import dev.relay.server.internal.config.ProxyConfig.ListenerConfig;
import dev.relay.server.internal.metrics.AccessLog;
import dev.relay.server.internal.metrics.AccessLogService;
import dev.relay.server.internal.metrics.RelayMetrics;
import dev.relay.server.internal.proxy.ConfiguredProxy;
import dev.relay.server.internal.upgrade.UpgradeListener;
import dev.relay.transport.ProxyOptions;
import dev.relay.transport.TransportRuntime;

import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/**
 * The server: the proxy's {@link HttpProxyService} on the configured listeners, and the
 * {@link Server} that runs every service in this order (stopped in reverse):
 * access log, admin listener, demo origins, services of user modules, the upstream groups'
 * background work, the filters' own upstream client ({@link GroupRequestsService}), the stream services ({@code proxy.streams}), the proxy, the upgrade listener. So the access log writes the last lines, the admin listener answers {@code /ready}
 * with 503 while the proxy drains, and nothing is handed over once a stop has begun.
 *
 * <p>User modules add services with {@code Multibinder.newSetBinder(binder(), Service.class)}.
 */
public final class ProxyModule extends AbstractModule {

    @Override
    protected void configure() {
        Multibinder.newSetBinder(binder(), Service.class);
    }

    @Provides
    @Singleton
    HttpProxyService httpProxyService(ProxyConfig config, ConfiguredProxy proxy, RelayMetrics metrics) {
        // The proxy is the observer: it hands each attempt to the load balancer of the group that
        // made the peer (in-flight counts, latencies, passive health).
        ProxyOptions options = config.server().proxyOptions(proxy);
        HttpProxyService service = HttpProxyService.create("proxy", proxy, options);
        for (ListenerConfig listener : config.listeners()) {
            if (Addresses.isUnix(listener.address())) {
                service.addUnix(Addresses.parseUnix(listener.address()).getPath().toString(), listener.listenerOptions());
            } else {
                service.addTcp(listener.address(), listener.listenerOptions());
            }
        }
        // A reload that drops or changes a group: its idle upstream connections close now rather
        // than at their idle timeout (a reload a minute would otherwise keep a pool per generation).
        proxy.onGroupRetired(groupId -> {
            try {
                service.transportServer().closeIdleUpstreamConnections(groupId);
            } catch (IllegalStateException notStarted) {
                // no server yet: no connection either
            }
        });
        metrics.bindServer(() -> {
            try {
                return service.transportServer();
            } catch (IllegalStateException notStarted) {
                return null;
            }
        });
        return service;
    }

    @Provides
    @Singleton
    Optional<UpgradeListener> upgradeListener(ProxyConfig config, HttpProxyService proxy, Optional<AdminServer> admin,
                                              StreamsModule.StreamServices streams, Provider<Server> server) {
        if (config.server().upgradeSocket() == null) {
            return Optional.empty();
        }
        return Optional.of(new UpgradeListener(Path.of(config.server().upgradeSocket()), proxy, admin.orElse(null),
                streams.services(), server::get, () -> config.server().gracePeriod()));
    }

    @Provides
    @Singleton
    Server server(ProxyConfig config, TransportRuntime runtime, DemoOrigins demo, HttpProxyService proxy,
                  AccessLog accessLog, Optional<AdminServer> admin, Set<Service> extra, ConfigReloader reloader,
                  Optional<UpgradeListener> upgrade, UpstreamGroupsService upstreams,
                  StreamsModule.StreamServices streams, GroupRequestsService groupRequests) {
        ServerOptions options = ServerOptions.builder()
                .threads(config.server().threads())
                .transport(config.server().transport())
                .gracePeriod(config.server().gracePeriod())
                .shutdownTimeout(config.server().shutdownTimeout())
                .shutdownDelay(config.server().shutdownDelay())
                .build();
        Server server = new Server(options, runtime);
        server.addService(new AccessLogService(accessLog));
        admin.ifPresent(server::addService);
        if (config.demoOrigins() > 0) {
            server.addService(demo);
        }
        extra.forEach(server::addService);
        // Before the proxy, so it stops after the proxy has drained: discovery and health checks
        // run for the requests still in flight.
        server.addService(upstreams);
        // Likewise: the filters' own requests (mirror copies) of the last requests still go out, and
        // finish within what is left of the grace period.
        server.addService(groupRequests);
        if (!streams.services().isEmpty()) {
            server.addService(streams);
        }
        server.addService(proxy);
        upgrade.ifPresent(server::addService);
        server.reloadHandler(() -> reloader.reload("SIGHUP"));
        return server;
    }
}
