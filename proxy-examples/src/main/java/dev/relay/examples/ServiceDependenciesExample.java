package dev.relay.examples;

import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyHttp;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.Service;
import dev.relay.core.Stages;
import dev.relay.transport.ProxyOptions;
import dev.relay.transport.TransportRuntime;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/**
 * Services that depend on others, Pingora's {@code service_dependencies} example (in pingora-core): a
 * {@link DatabaseService} that takes a while to connect and then publishes its connection string, a
 * {@link CacheService} that warms up, and an {@link ApiService} that needs both: it reads the
 * connection string when it starts and only then opens its HTTP listener, so no request ever finds
 * the database missing.
 *
 * <p>How Relay expresses the dependency: a {@link Service}'s {@link Service#start} returns only once
 * the service is ready (Pingora's {@code ServiceReadyNotifier.notify_ready}), and a {@link Server}
 * starts its services one after the other in the order they were added and stops them in the
 * reverse order. Adding the database and the cache before the API is therefore the declaration
 * "the API depends on both" (Pingora's {@code api_handle.add_dependency(db_handle)}). The difference:
 * Pingora starts independent services (database and cache) at the same time and the API when both
 * are ready; Relay's dependencies are a chain, so the two initialisations take turns. Adding the API
 * first makes {@link Server#start()} fail with the API's complaint (see the test).
 *
 * <pre>
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.ServiceDependenciesExample
 * curl 127.0.0.1:6199/      # using database connection postgresql://localhost:5432/mydb
 * </pre>
 */
public final class ServiceDependenciesExample {
    private static final Logger LOG = LoggerFactory.getLogger(ServiceDependenciesExample.class);

    private ServiceDependenciesExample() {}

    /** Connects to a database (simulated: it waits) and then publishes the connection string. */
    public static final class DatabaseService implements Service {
        private final Duration connectTime;
        private volatile @Nullable String connectionString;

        /** A database that takes {@code connectTime} to connect. */
        public DatabaseService(Duration connectTime) {
            this.connectTime = requireNonNull(connectTime, "connectTime");
        }

        /** The connection string, null until the service is ready: what dependents read. */
        public @Nullable String connectionString() {
            return connectionString;
        }

        @Override
        public String name() {
            return "database";
        }

        @Override
        public void start(TransportRuntime runtime) {
            LOG.info("DatabaseService: starting initialization...");
            // The server's starting thread waits here, not an event loop: returning is "ready".
            pause(connectTime);
            connectionString = "postgresql://localhost:5432/mydb";
            LOG.info("DatabaseService: initialization complete, ready");
        }

        @Override
        public CompletionStage<Void> stop(Duration gracePeriod) {
            close();
            return Stages.done();
        }

        @Override
        public void close() {
            if (connectionString != null) {
                LOG.info("DatabaseService: shutting down");
                connectionString = null;
            }
        }
    }

    /** Warms a cache up (simulated: it waits); ready once warm. */
    public static final class CacheService implements Service {
        private final Duration warmUpTime;
        private volatile boolean warm;

        /** A cache that takes {@code warmUpTime} to warm up. */
        public CacheService(Duration warmUpTime) {
            this.warmUpTime = requireNonNull(warmUpTime, "warmUpTime");
        }

        /** Whether the cache is warm. */
        public boolean isWarm() {
            return warm;
        }

        @Override
        public String name() {
            return "cache";
        }

        @Override
        public void start(TransportRuntime runtime) {
            LOG.info("CacheService: starting...");
            pause(warmUpTime);
            warm = true;
            LOG.info("CacheService: warm-up complete, ready");
        }

        @Override
        public CompletionStage<Void> stop(Duration gracePeriod) {
            close();
            return Stages.done();
        }

        @Override
        public void close() {
            if (warm) {
                LOG.info("CacheService: shutting down");
                warm = false;
            }
        }
    }

    /**
     * An HTTP API that needs the database's connection string and a warm cache when it starts;
     * it answers every request with the connection it uses.
     */
    public static final class ApiService implements Service {
        private final Supplier<@Nullable String> database;
        private final CacheService cache;
        private final String address;
        private volatile @Nullable HttpProxyService http;

        /** An API on {@code address} ({@code host:port}) that uses {@code database} and {@code cache}. */
        public ApiService(DatabaseService database, CacheService cache, String address) {
            this.database = requireNonNull(database, "database")::connectionString;
            this.cache = requireNonNull(cache, "cache");
            this.address = requireNonNull(address, "address");
        }

        @Override
        public String name() {
            return "api";
        }

        @Override
        public void start(TransportRuntime runtime) {
            LOG.info("ApiService: starting (dependencies should be ready)...");
            String connection = database.get();
            if (connection == null || !cache.isWarm()) {
                throw new IllegalStateException("api: the database or the cache is not ready "
                        + "(expected: add the api service after the database and cache services)");
            }
            LOG.info("ApiService: using database connection {}", connection);
            HttpProxyService service = HttpProxyService.create("api", new ApiAnswer(connection), ProxyOptions.defaults());
            service.addTcp(address);
            service.start(runtime);
            http = service;
            LOG.info("ApiService: ready to serve requests");
        }

        /** The addresses the API listens on; empty until it has started. */
        public List<InetSocketAddress> boundAddresses() {
            HttpProxyService service = http;
            return service == null ? List.of() : service.boundAddresses();
        }

        @Override
        public CompletionStage<Void> stop(Duration gracePeriod) {
            HttpProxyService service = http;
            LOG.info("ApiService: shutting down");
            return service == null ? Stages.done() : service.stop(gracePeriod);
        }

        @Override
        public void close() {
            HttpProxyService service = http;
            if (service != null) {
                service.close();
            }
        }
    }

    /** Answers every request itself with the connection string it was given. */
    private static final class ApiAnswer implements ProxyHttp<Void> {
        private final byte[] body;

        ApiAnswer(String connection) {
            this.body = ("using database connection " + connection + "\n").getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public Void newCtx() {
            return null;
        }

        @Override
        public CompletionStage<Boolean> requestFilter(Session session, Void ctx) {
            ResponseHeader header = ResponseHeader.of(200);
            header.headers().set("Content-Type", "text/plain");
            return session.respond(header, body).thenApply(v -> true);
        }

        @Override
        public CompletionStage<HttpPeer> upstreamPeer(Session session, Void ctx) {
            throw new IllegalStateException("requestFilter answers every request");
        }
    }

    private static void pause(Duration time) {
        try {
            Thread.sleep(time.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting", e);
        }
    }

    /** The database (2 s to connect), the cache (1 s to warm up), then the API on 0.0.0.0:6199. */
    public static void main(String[] args) {
        Server server = Server.create();
        server.bootstrap();
        DatabaseService database = new DatabaseService(Duration.ofSeconds(2));
        CacheService cache = new CacheService(Duration.ofSeconds(1));
        // The order of addService is the dependency order: the api starts after both are ready.
        server.addService(database);
        server.addService(cache);
        server.addService(new ApiService(database, cache, "0.0.0.0:6199"));
        LOG.info("expected startup order: database, cache, api; Ctrl+C to stop");
        server.runForever();
    }
}
