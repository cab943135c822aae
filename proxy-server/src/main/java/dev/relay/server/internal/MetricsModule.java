package dev.relay.server.internal;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.relay.server.internal.config.ProxyConfig;
import dev.relay.server.internal.metrics.AccessLog;
import dev.relay.server.internal.metrics.RelayMetrics;

/** Metrics and access log: the {@link RelayMetrics} registry and the {@link AccessLog} writer. */
public final class MetricsModule extends AbstractModule {
    /** Lines the access log can hold before it drops (the writer is normally microseconds behind). */
    static final int ACCESS_LOG_RING = 16384;

    @Provides
    @Singleton
    RelayMetrics metrics() {
        return new RelayMetrics();
    }

    @Provides
    @Singleton
    AccessLog accessLog(ProxyConfig config, RelayMetrics metrics) {
        return new AccessLog(config.server().accessLogFormat(), config.server().accessLogDestination(), ACCESS_LOG_RING, metrics);
    }
}
