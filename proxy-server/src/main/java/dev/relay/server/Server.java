package dev.relay.server;

import dev.relay.server.internal.SignalHandlers;
import dev.relay.transport.TransportRuntime;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static java.util.Objects.requireNonNull;

/**
 * The process: owns the event loops ({@link TransportRuntime}), runs {@link Service}s, and turns the
 * process signals into a lifecycle, as Pingora's {@code Server} does.
 *
 * <pre>{@code
 * public static void main(String[] args) {
 *     Server server = Server.create();
 *     server.bootstrap();
 *     HttpProxyService proxy = server.addService(Services.httpProxy(new LoadBalancedProxy(upstreams)));
 *     proxy.addTcp("0.0.0.0:6188");
 *     server.runForever(); // until SIGTERM (graceful) or SIGINT (immediate)
 * }
 * }</pre>
 *
 * <h2>Lifecycle</h2>
 * Pingora's two verbs set the process up and run it; the rest are the one set of verbs that every
 * Relay component uses ({@link Service}, {@link HttpProxyService}, the transport's
 * {@code HttpProxyServer} and {@link TransportRuntime}): {@code start}, {@code stop(Duration)}
 * (graceful, within a grace period) and {@code close()} (immediate).
 * <ol>
 *   <li>{@link #bootstrap()} (Pingora's {@code bootstrap}): creates the event loops. Optional:
 *       {@link #start()} calls it.</li>
 *   <li>{@link #addService}: queues services, before the server starts.</li>
 *   <li>{@link #start()}: starts the services in the order added and returns once all are ready
 *       (their sockets bound), for tests and embedding; or</li>
 *   <li>{@link #runForever()} (Pingora's {@code run_forever}): starts them if needed, turns the
 *       signals below into stops, and blocks until the server has stopped.</li>
 *   <li>{@link #stop(Duration)}: graceful stop, what SIGTERM does. Services stop in reverse order (so
 *       one may depend on those added before it), sharing one grace period; then the event loops
 *       stop. Returns at once; {@link #terminationFuture()} / {@link #awaitTermination()} tell when it
 *       is over. {@link #stopForUpgrade(Duration)} is the variant for a process handing its sockets
 *       to its successor.</li>
 *   <li>{@link #close()}: immediate stop, what SIGINT does, also in the middle of a graceful stop;
 *       blocks until the server has stopped. A server is {@link AutoCloseable}.</li>
 * </ol>
 * A server runs once: after it stopped it cannot be started again.
 *
 * <h2>Signals (while {@link #runForever()} runs)</h2>
 * <ul>
 *   <li>SIGTERM: graceful drain. Listeners close, idle keep-alive connections close, requests in
 *       flight run to completion for up to {@link ServerOptions#gracePeriod()}, then whatever is
 *       left is closed; the process exits with status 0.</li>
 *   <li>SIGINT: immediate stop (also during a drain): every connection closes; exit status 130.</li>
 *   <li>SIGHUP: runs the {@linkplain #reloadHandler(Runnable) reload handler} (the configured
 *       server re-reads its configuration); without one it is logged and ignored (without a handler
 *       the JVM would die).</li>
 * </ul>
 *
 * <p>Thread-safe.
 */
public final class Server implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Server.class);

    /** Exit status after SIGINT, the shell's 128 + signal number. */
    static final int EXIT_INTERRUPTED = 130;

    private enum State { NEW, BOOTSTRAPPED, RUNNING, STOPPING, TERMINATED }

    private final ServerOptions options;
    private final List<Service> services = new ArrayList<>();
    private final List<Service> started = new ArrayList<>();
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    private @Nullable TransportRuntime runtime;
    private State state = State.NEW;
    /** The exit status requested by a signal; -1 while no signal asked the process to end. */
    private volatile int signalExitStatus = -1;
    private volatile @Nullable Runnable reloadHandler;

    /** A server with {@link ServerOptions#defaults()}. */
    public static Server create() {
        return new Server(ServerOptions.defaults());
    }

    /** A server that creates its event loops from {@code options} at {@link #bootstrap()}. */
    public Server(ServerOptions options) {
        this.options = requireNonNull(options, "options");
    }

    /**
     * A server on an existing {@code runtime} (its thread and transport settings win over those of
     * {@code options}). The server takes ownership: it shuts the runtime down when it stops.
     */
    public Server(ServerOptions options, TransportRuntime runtime) {
        this.options = requireNonNull(options, "options");
        this.runtime = requireNonNull(runtime, "runtime");
    }

    /** The options. */
    public ServerOptions options() {
        return options;
    }

    /**
     * Prepares the process: creates the event loops on the configured transport. Idempotent; called
     * by {@link #start()} when you did not.
     *
     * @return this server
     */
    public synchronized Server bootstrap() {
        if (state != State.NEW) {
            return this;
        }
        if (runtime == null) {
            runtime = TransportRuntime.create(options.transport(), options.threads());
        }
        state = State.BOOTSTRAPPED;
        LOG.info("server bootstrapped: transport {}, {} worker thread(s), grace period {}ms",
                runtime.kind().name().toLowerCase(java.util.Locale.ROOT),
                options.threads() == 0 ? Runtime.getRuntime().availableProcessors() : options.threads(),
                options.gracePeriod().toMillis());
        return this;
    }

    /**
     * Adds a service, to be started by {@link #start()} after those added before it.
     *
     * @return {@code service}, to go on configuring it
     * @throws IllegalStateException once the server has started
     */
    public synchronized <S extends Service> S addService(S service) {
        requireNonNull(service, "service");
        if (state != State.NEW && state != State.BOOTSTRAPPED) {
            throw new IllegalStateException("addService: the server is " + state.name().toLowerCase(java.util.Locale.ROOT)
                    + " (expected: add services before start())");
        }
        services.add(service);
        return service;
    }

    /** The services added, in start order. */
    public synchronized List<Service> services() {
        return List.copyOf(services);
    }

    /**
     * The event loops.
     *
     * @throws IllegalStateException before {@link #bootstrap()}
     */
    public synchronized TransportRuntime runtime() {
        if (runtime == null) {
            throw new IllegalStateException("runtime: call bootstrap() first");
        }
        return runtime;
    }

    /**
     * Bootstraps if needed and starts every service in order; returns when all are started (their
     * sockets bound). If one fails, those already started are stopped at once, the event loops shut
     * down, and the failure is rethrown.
     *
     * @throws IllegalStateException when the server already started
     */
    public void start() {
        List<Service> toStart;
        synchronized (this) {
            bootstrap();
            if (state != State.BOOTSTRAPPED) {
                throw new IllegalStateException("start: the server is " + state.name().toLowerCase(java.util.Locale.ROOT));
            }
            state = State.RUNNING;
            toStart = List.copyOf(services);
        }
        for (Service service : toStart) {
            try {
                service.start(runtime);
            } catch (RuntimeException e) {
                LOG.error("service '{}' failed to start: {}", service.name(), e.getMessage());
                close();
                throw e;
            }
            boolean stopping;
            synchronized (this) {
                stopping = state != State.RUNNING;
                if (!stopping) {
                    started.add(service);
                }
            }
            if (stopping) {
                // A stop began while this service was starting: it missed the list, stop it here.
                service.close();
                return;
            }
        }
        LOG.info("server running: {} service(s)", toStart.size());
    }

    /**
     * Starts the server (unless {@link #start()} was called), installs the signal handlers described
     * in the class comment, and blocks until the server has stopped.
     *
     * <p>Like Pingora's {@code run_forever}, a stop caused by a signal ends the process (status 0
     * after SIGTERM, 130 after SIGINT): replacing the JVM's signal handlers takes away its own exit.
     * A stop requested with {@link #stop(Duration)} or {@link #close()} returns normally.
     */
    public void runForever() {
        // Handlers first: a SIGTERM that arrives while services start must still drain them.
        SignalHandlers.install(this::onSignal);
        boolean needsStart;
        synchronized (this) {
            needsStart = state == State.NEW || state == State.BOOTSTRAPPED;
        }
        if (needsStart) {
            start();
        }
        awaitTermination();
        int status = signalExitStatus;
        if (status >= 0) {
            LOG.info("exiting with status {}", status);
            System.exit(status);
        }
    }

    private void onSignal(String name) {
        switch (name) {
            case "TERM" -> {
                LOG.info("SIGTERM: shutting down gracefully (grace period {}ms)", options.gracePeriod().toMillis());
                if (signalExitStatus < 0) {
                    signalExitStatus = 0;
                }
                stop(options.gracePeriod());
            }
            case "INT" -> {
                LOG.info("SIGINT: stopping now");
                signalExitStatus = EXIT_INTERRUPTED;
                close();
            }
            case "HUP" -> {
                Runnable handler = reloadHandler;
                if (handler == null) {
                    LOG.warn("SIGHUP: no reload handler; ignored");
                } else {
                    LOG.info("SIGHUP: reloading the configuration");
                    // Off the signal thread: a reload reads files and binds sockets.
                    Thread t = new Thread(handler, "relay-reload");
                    t.setDaemon(true);
                    t.start();
                }
            }
            default -> LOG.warn("SIG{}: ignored", name);
        }
    }

    /**
     * Graceful stop: services stop in reverse order, each stopping to accept and finishing its work
     * in flight; all of them share one {@code gracePeriod}, after which what is left is closed. Then
     * the event loops shut down. Returns at once; the stage completes when the server has stopped.
     * Calling it again (or during a stop) returns the same stage.
     */
    public CompletionStage<Void> stop(Duration gracePeriod) {
        return stop(gracePeriod, true);
    }

    /**
     * The graceful stop of a process whose listening sockets another process has taken over
     * (zero-downtime upgrade): like {@link #stop(Duration)}, except that idle keep-alive
     * connections are closed after their next response rather than at once (see
     * {@link HttpProxyService#stopForUpgrade(Duration)}), and {@link #runForever()} then
     * ends the process with status 0.
     */
    public CompletionStage<Void> stopForUpgrade(Duration gracePeriod) {
        if (signalExitStatus < 0) {
            signalExitStatus = 0;
        }
        return stop(gracePeriod, false);
    }

    /**
     * What SIGHUP does: {@code handler} runs on a thread of its own (null: SIGHUP is ignored).
     *
     * @return this server
     */
    public Server reloadHandler(@Nullable Runnable handler) {
        this.reloadHandler = handler;
        return this;
    }

    /** Whether the server runs and takes new work: started, and no stop has begun ({@code /ready}). */
    public synchronized boolean isRunning() {
        return state == State.RUNNING;
    }

    /** Whether a stop has begun (draining or stopped). */
    public synchronized boolean isStopping() {
        return state == State.STOPPING || state == State.TERMINATED;
    }

    private CompletionStage<Void> stop(Duration gracePeriod, boolean closeIdleNow) {
        requireNonNull(gracePeriod, "gracePeriod");
        if (gracePeriod.isNegative()) {
            throw new IllegalArgumentException("gracePeriod: " + gracePeriod + " (expected: >= 0)");
        }
        List<Service> toStop;
        synchronized (this) {
            if (state == State.STOPPING || state == State.TERMINATED) {
                return terminated;
            }
            if (state != State.RUNNING) {
                state = State.STOPPING;
                finish();
                return terminated;
            }
            state = State.STOPPING;
            toStop = new ArrayList<>(started);
        }
        Collections.reverse(toStop);
        Thread drainer = new Thread(() -> drain(toStop, gracePeriod, closeIdleNow), "relay-shutdown");
        drainer.start();
        return terminated;
    }

    /**
     * Immediate stop: every service stops at once (connections in flight are closed), then the event
     * loops shut down. Also cuts short a graceful stop in progress. Blocks until the server has
     * stopped, for at most a few seconds. Does nothing once the server has stopped.
     */
    @Override
    public void close() {
        List<Service> toStop;
        boolean drainRunning;
        synchronized (this) {
            if (state == State.TERMINATED) {
                return;
            }
            drainRunning = state == State.STOPPING;
            state = State.STOPPING;
            toStop = new ArrayList<>(started);
        }
        Collections.reverse(toStop);
        for (Service service : toStop) {
            try {
                service.close();
            } catch (RuntimeException e) {
                LOG.warn("service '{}' failed to stop: {}", service.name(), e.toString());
            }
        }
        if (!drainRunning) {
            finish();
        }
        try {
            terminated.get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("server did not stop within 10s: {}", e.toString());
        }
    }

    /** Completes when the server has stopped (its services and event loops). */
    public CompletionStage<Void> terminationFuture() {
        return terminated;
    }

    /** Blocks until the server has stopped. */
    public void awaitTermination() {
        boolean interrupted = false;
        while (true) {
            try {
                terminated.get();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            } catch (ExecutionException e) {
                break;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void drain(List<Service> toStop, Duration gracePeriod, boolean closeIdleNow) {
        Duration delay = options.shutdownDelay();
        if (!delay.isZero()) {
            // /ready already answers 503; keep accepting a little so that a load balancer in front
            // notices before the listeners close. This is the drainer's own thread, not an event loop.
            LOG.info("not ready; still accepting for {}ms before draining", delay.toMillis());
            try {
                Thread.sleep(delay.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        long deadline = System.nanoTime() + gracePeriod.toNanos();
        for (Service service : toStop) {
            long remaining = Math.max(0, deadline - System.nanoTime());
            try {
                // The service enforces the grace period itself; the extra seconds only guard against
                // one that never completes its stage.
                CompletionStage<Void> stopped = !closeIdleNow && service instanceof HttpProxyService proxy
                        ? proxy.stopForUpgrade(Duration.ofNanos(remaining))
                        : service.stop(Duration.ofNanos(remaining));
                stopped.toCompletableFuture()
                        .get(remaining + TimeUnit.SECONDS.toNanos(5), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                service.close();
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                LOG.warn("service '{}' did not stop gracefully: {}", service.name(), e.toString());
                service.close();
            }
        }
        finish();
    }

    /** Shuts the event loops down and completes {@link #terminationFuture()}. */
    private void finish() {
        TransportRuntime rt;
        synchronized (this) {
            rt = runtime;
        }
        try {
            if (rt != null) {
                Duration timeout = options.shutdownTimeout();
                rt.stop(timeout).toCompletableFuture().get(timeout.toMillis() + 5000, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("event loops did not stop within the shutdown timeout: {}", e.toString());
        } finally {
            synchronized (this) {
                state = State.TERMINATED;
            }
            LOG.info("server stopped");
            terminated.complete(null);
        }
    }
}
