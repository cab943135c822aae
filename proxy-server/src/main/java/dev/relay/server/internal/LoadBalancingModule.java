package dev.relay.server.internal;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.relay.server.internal.config.ProxyConfig;
import dev.relay.server.internal.metrics.AccessLog;
import dev.relay.server.internal.metrics.RelayMetrics;
import dev.relay.server.internal.proxy.ConfiguredProxy;

/**
 * Load balancing and routing: the demo origins (none unless the configuration is in demo mode),
 * the {@link ConfiguredProxy}, whose snapshot holds the routes and the upstream groups with their
 * load balancers (started as they are built: discovery and health checks run from then on), and
 * the {@link UpstreamGroupsService} that stops them with the server.
 */
public final class LoadBalancingModule extends AbstractModule {

    @Provides
    @Singleton
    DemoOrigins demoOrigins(ProxyConfig config) {
        return new DemoOrigins(config.demoOrigins());
    }

    @Provides
    @Singleton
    ConfiguredProxy configuredProxy(ProxyConfig config, DemoOrigins demo, RelayMetrics metrics, AccessLog accessLog,
                                    FilterRegistry filters) {
        ProxyConfig effective = config.demoOrigins() > 0 ? config.withUpstream(demo.upstream()) : config;
        ConfiguredProxy proxy = ConfiguredProxy.create(effective, metrics, accessLog);
        metrics.bindUpstreams(() -> proxy.runtime().groups().values());
        metrics.bindCaches(() -> proxy.runtime().caches());
        metrics.bindMirrors(() -> proxy.runtime().mirrors());
        // The filters' own requests (mirror copies) go to this proxy's groups.
        filters.groupRequests().bindProxy(proxy);
        return proxy;
    }

    @Provides
    @Singleton
    GroupRequestsService groupRequestsService(FilterRegistry filters) {
        return new GroupRequestsService(filters.groupRequests());
    }

    @Provides
    @Singleton
    UpstreamGroupsService upstreamGroupsService(ConfiguredProxy proxy) {
        return new UpstreamGroupsService(proxy);
    }
}
