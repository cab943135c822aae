package dev.relay.server.internal;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.relay.server.Service;
import dev.relay.server.StreamProxyService;
import dev.relay.server.internal.config.ProxyConfig;
import dev.relay.server.internal.config.StreamConfig;
import dev.relay.server.internal.metrics.AccessLog;
import dev.relay.server.internal.metrics.RelayMetrics;
import dev.relay.server.internal.metrics.StreamMetrics;
import dev.relay.server.internal.proxy.ConfiguredProxy;
import dev.relay.server.internal.proxy.ConfiguredStreamProxy;

import dev.relay.transport.TlsHandshakeCount;
import dev.relay.transport.TransportRuntime;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The stream (layer-4) services of {@code proxy.streams}: one {@link StreamProxyService} per stream,
 * over the {@link ConfiguredProxy}'s upstream groups, with the stream metrics and the access log.
 * {@link ProxyModule} runs them between the upstream groups' background work and the HTTP proxy:
 * on a graceful stop the HTTP proxy drains first (its requests are short), then the streams get
 * what is left of the grace period, then the groups' health checks stop.
 */
public final class StreamsModule extends AbstractModule {

    /**
     * The stream services, in file order (empty without {@code proxy.streams}), run as one
     * {@link Service}: a graceful stop drains them all at once, within one grace period, rather than
     * one after the other (stream connections tend to last).
     */
    public record StreamServices(List<StreamProxyService> services) implements Service {
        public StreamServices {
            services = List.copyOf(services);
        }

        @Override
        public String name() {
            return "streams";
        }

        @Override
        public void start(TransportRuntime runtime) {
            List<StreamProxyService> started = new ArrayList<>();
            try {
                for (StreamProxyService s : services) {
                    s.start(runtime);
                    started.add(s);
                }
            } catch (RuntimeException e) {
                started.forEach(StreamProxyService::close);
                throw e;
            }
        }

        /**
         * Gives each stream service the sockets inherited from the previous process (zero-downtime
         * upgrade) that its listeners are configured for, taking them out of {@code sockets}.
         */
        public void inheritListeners(Map<InetSocketAddress, Integer> sockets) {
            for (StreamProxyService s : services) {
                s.inheritListenersFrom(sockets);
            }
        }

        @Override
        public CompletionStage<Void> stop(Duration gracePeriod) {
            CompletableFuture<?>[] stops = services.stream()
                    .map(s -> s.stop(gracePeriod).toCompletableFuture()).toArray(CompletableFuture[]::new);
            return CompletableFuture.allOf(stops);
        }

        @Override
        public void close() {
            services.forEach(StreamProxyService::close);
        }
    }

    @Provides
    @Singleton
    StreamMetrics streamMetrics(RelayMetrics metrics) {
        return new StreamMetrics(metrics);
    }

    @Provides
    @Singleton
    StreamServices streamServices(ProxyConfig config, ConfiguredProxy proxy, StreamMetrics metrics, AccessLog accessLog,
                                  RelayMetrics relayMetrics) {
        List<StreamProxyService> services = new ArrayList<>();
        for (StreamConfig stream : config.streams()) {
            ConfiguredStreamProxy streamProxy = new ConfiguredStreamProxy(stream, proxy, metrics.stream(stream.name()), accessLog);
            StreamProxyService service = StreamProxyService.create(stream.name(), streamProxy, stream.streamOptions());
            services.add(stream.tls() == null ? service.addTcp(stream.address()) : service.addTls(stream.address(), stream.tls()));
        }
        relayMetrics.bindStreamHandshakes(() -> {
            Map<java.net.SocketAddress, TlsHandshakeCount> all = new LinkedHashMap<>();
            services.forEach(s -> all.putAll(s.tlsHandshakes()));
            return all;
        });
        return new StreamServices(services);
    }
}
