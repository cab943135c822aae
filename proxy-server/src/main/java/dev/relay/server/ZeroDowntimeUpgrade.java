package dev.relay.server;

import dev.relay.server.internal.upgrade.UpgradeClient;
import dev.relay.server.internal.upgrade.UpgradeListener;
import dev.relay.core.Stages;
import dev.relay.transport.TransportRuntime;
import org.jspecify.annotations.Nullable;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * Zero-downtime upgrade from the Java API: what {@code relay --upgrade} does (README, "Zero-downtime
 * restart"), for a program that builds its own {@link Server}. The running process serves an upgrade
 * socket ({@link #listener}); a new process connects to it with {@link #takeOver}, receives the
 * listening sockets (SCM_RIGHTS), starts accepting on them, and then {@link TakeOver#complete()}
 * tells the old process to stop accepting and drain ({@link Server#stopForUpgrade}). Both accept
 * during the handover, so no connection is refused; if the new process fails to start, the old one
 * keeps serving.
 *
 * <pre>{@code
 * Server server = Server.create();
 * HttpProxyService proxy = HttpProxyService.create(new MyProxy());
 * proxy.addTcp("0.0.0.0:8000");
 * ZeroDowntimeUpgrade.TakeOver takeOver = null;
 * if (upgrading) {
 *     // A service: added after the services it must wait for, before those that use the sockets.
 *     takeOver = server.addService(ZeroDowntimeUpgrade.takeOver(socket, Duration.ofSeconds(10), proxy));
 * }
 * server.addService(proxy);
 * server.addService(ZeroDowntimeUpgrade.listener(socket, server, takeOver, proxy));
 * server.start();
 * if (takeOver != null) {
 *     takeOver.complete();  // the old process stops accepting and drains
 * }
 * server.runForever();
 * }</pre>
 *
 * <p>Needs the io_uring or epoll transport (listeners are handed over as file descriptors); on NIO
 * the listener logs that upgrades are off and {@link #takeOver} fails.
 */
public final class ZeroDowntimeUpgrade {
    private ZeroDowntimeUpgrade() {}

    /**
     * The running process's side: a {@link Service} that listens on the Unix socket {@code socket}
     * (mode 0600: only the same user may connect) and hands the listeners of {@code proxy} and
     * {@code streams} to a process that asks, then stops {@code server} for the upgrade. Add it after
     * those services.
     *
     * @param after a take-over in progress in this process (it is itself an upgrade): the socket is
     *              served only once that one completed or was aborted, since until then the previous
     *              process holds it; null otherwise
     */
    public static Service listener(Path socket, Server server, @Nullable TakeOver after, HttpProxyService proxy,
                                   StreamProxyService... streams) {
        requireNonNull(server, "server");
        UpgradeListener listener = new UpgradeListener(requireNonNull(socket, "socket"), requireNonNull(proxy, "proxy"),
                null, List.of(streams), () -> server, () -> server.options().gracePeriod());
        if (after != null) {
            listener.deferUntil(after.handedOver());
        }
        return listener;
    }

    /**
     * The new process's side: a {@link Service} that, when it starts, takes the listening sockets of
     * the process serving {@code socket} (retrying the connection for up to {@code connectTimeout})
     * and gives {@code proxy} and {@code streams} those their listeners are configured for. Add it
     * before them, after the services that must be ready before this process takes traffic; call
     * {@link TakeOver#complete()} once the server has started.
     */
    public static TakeOver takeOver(Path socket, Duration connectTimeout, HttpProxyService proxy,
                                    StreamProxyService... streams) {
        return new TakeOver(requireNonNull(socket, "socket"), requireNonNull(connectTimeout, "connectTimeout"),
                requireNonNull(proxy, "proxy"), List.of(streams));
    }

    /** A take-over of another process's listening sockets; see {@link #takeOver}. Thread-safe. */
    public static final class TakeOver implements Service {
        private final Path socket;
        private final Duration connectTimeout;
        private final HttpProxyService proxy;
        private final List<StreamProxyService> streams;
        private final CompletableFuture<Void> handedOver = new CompletableFuture<>();
        private UpgradeClient.@Nullable Handoff handoff;

        private TakeOver(Path socket, Duration connectTimeout, HttpProxyService proxy, List<StreamProxyService> streams) {
            this.socket = socket;
            this.connectTimeout = connectTimeout;
            this.proxy = proxy;
            this.streams = streams;
        }

        @Override
        public String name() {
            return "upgrade take-over";
        }

        /**
         * Receives the sockets and hands them to the services.
         *
         * @throws UncheckedIOException when no process hands them over (the server then fails to start)
         */
        @Override
        public synchronized void start(TransportRuntime runtime) {
            UpgradeClient.Handoff received;
            try {
                received = UpgradeClient.takeOver(socket, connectTimeout);
            } catch (IOException e) {
                handedOver.complete(null);
                throw new UncheckedIOException("cannot take over the listeners of the process on " + socket
                        + ": " + e.getMessage(), e);
            }
            handoff = received;
            Map<InetSocketAddress, Integer> remaining = new LinkedHashMap<>(received.sockets());
            for (StreamProxyService stream : streams) {
                stream.inheritListenersFrom(remaining);
            }
            // The proxy adopts those its listeners want and closes the rest when it starts.
            proxy.inheritListeners(remaining);
        }

        /**
         * Tells the previous process that this one accepts on the sockets: it stops accepting and
         * drains. Call once this server has started.
         *
         * @throws IOException when the previous process does not confirm (both may then accept until it exits)
         * @throws IllegalStateException when the take-over has not started or is over
         */
        public void complete() throws IOException {
            UpgradeClient.Handoff h = take();
            try {
                h.complete();
            } finally {
                handedOver.complete(null);
            }
        }

        /** Gives up: the previous process keeps serving. Does nothing when there is nothing to give up. */
        public void abort() {
            UpgradeClient.Handoff h;
            synchronized (this) {
                h = handoff;
                handoff = null;
            }
            if (h != null) {
                h.abort();
            }
            handedOver.complete(null);
        }

        private synchronized UpgradeClient.Handoff take() {
            UpgradeClient.Handoff h = handoff;
            if (h == null) {
                throw new IllegalStateException("complete: no take-over in progress (expected: after the server started)");
            }
            handoff = null;
            return h;
        }

        /** Completes when the take-over completed, was aborted, or failed (a copy: callers cannot complete it). */
        public CompletionStage<Void> handedOver() {
            return handedOver.thenApply(v -> v);
        }

        /** A stop before {@link #complete()} aborts: the previous process keeps serving. */
        @Override
        public CompletionStage<Void> stop(Duration gracePeriod) {
            abort();
            return Stages.done();
        }

        @Override
        public void close() {
            abort();
        }
    }
}
