package dev.relay.server.internal;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.ServerOptions;
import dev.relay.server.internal.config.ProxyConfig;
import dev.relay.server.internal.config.ProxyConfig.FilterConfig;
import dev.relay.server.internal.config.ProxyConfig.ListenerConfig;
import dev.relay.server.internal.proxy.ConfiguredProxy;
import dev.relay.transport.TransportRuntime;

/**
 * Provides the configured proxy and the server that runs it: the demo origins (none unless the
 * configuration is in demo mode), the {@link ConfiguredProxy}, its {@link HttpProxyService} on the
 * configured listeners with the global filters, and the {@link Server} holding both, demo origins
 * first so that they stop after the proxy has drained.
 */
public final class ProxyModule extends AbstractModule {

    @Provides
    @Singleton
    DemoOrigins demoOrigins(ProxyConfig config) {
        return new DemoOrigins(config.demoOrigins());
    }

    @Provides
    @Singleton
    ConfiguredProxy configuredProxy(ProxyConfig config, DemoOrigins demo) {
        ProxyConfig effective = config.demoOrigins() > 0 ? config.withUpstream(demo.upstream()) : config;
        return ConfiguredProxy.of(effective);
    }

    @Provides
    @Singleton
    HttpProxyService httpProxyService(ProxyConfig config, ConfiguredProxy proxy) {
        HttpProxyService service = HttpProxyService.create("proxy", proxy, config.server().proxyOptions());
        for (ListenerConfig listener : config.listeners()) {
            service.addTcp(listener.address());
        }
        for (FilterConfig filter : config.filters()) {
            service.addModule(filter.factory());
        }
        return service;
    }

    @Provides
    @Singleton
    Server server(ProxyConfig config, TransportRuntime runtime, DemoOrigins demo, HttpProxyService proxy) {
        ServerOptions options = ServerOptions.builder()
                .threads(config.server().threads())
                .transport(config.server().transport())
                .gracePeriod(config.server().gracePeriod())
                .build();
        Server server = new Server(options, runtime);
        if (config.demoOrigins() > 0) {
            server.addService(demo);
        }
        server.addService(proxy);
        return server;
    }
}
