package dev.relay.examples;

import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyHttp;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.Service;
import dev.relay.server.ZeroDowntimeUpgrade;
import dev.relay.transport.ProxyOptions;
import dev.relay.transport.TransportRuntime;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * A graceful (zero-downtime) upgrade where the new process takes the listening sockets only once it
 * is ready, Pingora's {@code graceful_upgrade} example. Two slow initialisations, backend discovery
 * and a hash ring, must finish before the new process takes traffic; Pingora makes its socket
 * transfer ({@code bootstrap_as_a_service}) depend on both. In Relay the transfer is a service too,
 * {@link ZeroDowntimeUpgrade#takeOver}, added after the slow services (a {@link Server} starts its
 * services in order, each once the one before is ready) and before the HTTP service that adopts the
 * sockets; once everything runs, {@link ZeroDowntimeUpgrade.TakeOver#complete()} tells the old process
 * to stop accepting and drain. Each process also serves the upgrade socket
 * ({@link ZeroDowntimeUpgrade#listener}) for the next upgrade.
 *
 * <p>The HTTP service answers {@code hello from graceful_upgrade example}; {@code ?sleep=N} delays the
 * answer by N seconds, to watch a request in flight finish on the old process during an upgrade.
 * Pingora's daemon mode (the parent waits for SIGUSR1 from the ready daemon) has no Relay equivalent:
 * here the new process is ready when {@link Server#start()} returns, and the process manager
 * (systemd, see the README) follows the new process from there.
 *
 * <pre>
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.GracefulUpgradeExample &amp;
 * curl '127.0.0.1:8000/?sleep=20' &amp;
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.GracefulUpgradeExample -u
 * # the slow request completes on the old process, which then exits; new requests go to the new one
 * </pre>
 */
public final class GracefulUpgradeExample {
    private static final Logger LOG = LoggerFactory.getLogger(GracefulUpgradeExample.class);

    /** Where the example listens and how slow its initialisation is. */
    public record Settings(String address, Path upgradeSocket, Duration discoveryTime, Duration hashRingTime,
                           Duration gracePeriod) {
        /** Checks the components. */
        public Settings {
            requireNonNull(address, "address");
            requireNonNull(upgradeSocket, "upgradeSocket");
            requireNonNull(discoveryTime, "discoveryTime");
            requireNonNull(hashRingTime, "hashRingTime");
            requireNonNull(gracePeriod, "gracePeriod");
        }

        /** Pingora's: port 8000, 2 s of discovery, 3 s to build the ring. */
        public static Settings pingoras() {
            return new Settings("0.0.0.0:8000", Path.of("/tmp/relay-graceful-upgrade.sock"), Duration.ofSeconds(2),
                    Duration.ofSeconds(3), Duration.ofSeconds(60));
        }
    }

    private final Server server;
    private final HttpProxyService http;
    private final ZeroDowntimeUpgrade.@Nullable TakeOver takeOver;

    /**
     * Assembles one process of the example: the slow services, the take-over when {@code upgrade}
     * (this process replaces the one serving {@code settings.upgradeSocket()}), the HTTP service
     * (its answers carry {@code X-Instance: <instance>}) and the upgrade listener.
     */
    public GracefulUpgradeExample(Settings settings, boolean upgrade, String instance) {
        server = new Server(dev.relay.server.ServerOptions.builder().gracePeriod(settings.gracePeriod()).build());
        http = HttpProxyService.create("hello_http", new HelloApp(instance), ProxyOptions.defaults());
        http.addTcp(settings.address());
        server.addService(new SlowInitialization("backend_discovery", settings.discoveryTime()));
        server.addService(new SlowInitialization("hash_ring", settings.hashRingTime()));
        // The socket transfer depends on both: it starts only once they are ready.
        takeOver = upgrade ? server.addService(ZeroDowntimeUpgrade.takeOver(settings.upgradeSocket(),
                Duration.ofSeconds(10), http)) : null;
        server.addService(http);
        server.addService(ZeroDowntimeUpgrade.listener(settings.upgradeSocket(), server, takeOver, http));
    }

    /**
     * Starts every service; when this process is an upgrade, then tells the previous one to stop
     * accepting and drain.
     *
     * @throws IOException when the previous process does not confirm (both then accept until it exits)
     */
    public void start() throws IOException {
        server.start();
        if (takeOver != null) {
            takeOver.complete();
            LOG.info("upgrade complete: the previous process stopped accepting and drains");
        }
    }

    /** The server (to stop it, or to wait for it). */
    public Server server() {
        return server;
    }

    /** The HTTP service. */
    public HttpProxyService http() {
        return http;
    }

    /** An initialisation that takes a while (simulated: it waits); ready when {@link #start} returns. */
    public static final class SlowInitialization implements Service {
        private final String name;
        private final Duration time;

        /** A service called {@code name} that takes {@code time} to be ready. */
        public SlowInitialization(String name, Duration time) {
            this.name = requireNonNull(name, "name");
            this.time = requireNonNull(time, "time");
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void start(TransportRuntime runtime) {
            LOG.info("{}: initializing...", name);
            try {
                // The server's starting thread waits, not an event loop.
                Thread.sleep(time.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(name + ": interrupted", e);
            }
            LOG.info("{}: ready", name);
        }

        @Override
        public CompletionStage<Void> stop(Duration gracePeriod) {
            return Stages.done();
        }

        @Override
        public void close() {}
    }

    /** Answers {@code hello from graceful_upgrade example}, after {@code ?sleep=N} seconds when asked. */
    public static final class HelloApp implements ProxyHttp<Void> {
        private static final byte[] BODY = "hello from graceful_upgrade example\n".getBytes(StandardCharsets.US_ASCII);
        private final String instance;

        /** Answers with {@code X-Instance: <instance>}. */
        public HelloApp(String instance) {
            this.instance = requireNonNull(instance, "instance");
        }

        @Override
        public Void newCtx() {
            return null;
        }

        @Override
        public CompletionStage<Boolean> requestFilter(Session session, Void ctx) {
            long delay = sleepSeconds(session.requestHeader().uri());
            ResponseHeader header = ResponseHeader.of(200);
            header.headers().set("Content-Type", "text/plain");
            header.headers().set("X-Instance", instance);
            if (delay <= 0) {
                return session.respond(header, BODY).thenApply(v -> true);
            }
            // A timer, not a sleep: the event loop stays free while the answer waits, and the answer is
            // written from the event loop again rather than from a common-pool thread.
            return CompletableFuture.runAsync(() -> { },
                            CompletableFuture.delayedExecutor(delay, TimeUnit.SECONDS, session.eventLoop()))
                    .thenCompose(v -> session.respond(header, BODY)).thenApply(v -> true);
        }

        @Override
        public CompletionStage<HttpPeer> upstreamPeer(Session session, Void ctx) {
            throw new IllegalStateException("requestFilter answers every request");
        }

        /** The {@code sleep} query parameter, 0 when absent or not a number. */
        static long sleepSeconds(String uri) {
            int query = uri.indexOf('?');
            if (query < 0) {
                return 0;
            }
            for (String pair : uri.substring(query + 1).split("&")) {
                if (pair.startsWith("sleep=")) {
                    try {
                        return Long.parseLong(pair.substring("sleep=".length()));
                    } catch (NumberFormatException e) {
                        return 0;
                    }
                }
            }
            return 0;
        }
    }

    /** Serves on 0.0.0.0:8000; with {@code -u}, takes over from the process already running. */
    public static void main(String[] args) throws IOException {
        boolean upgrade = List.of(args).contains("-u") || List.of(args).contains("--upgrade");
        GracefulUpgradeExample example = new GracefulUpgradeExample(Settings.pingoras(), upgrade,
                Long.toString(ProcessHandle.current().pid()));
        example.start();
        example.server().runForever();
    }
}
