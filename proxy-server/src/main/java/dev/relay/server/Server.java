package dev.relay.server;

import dev.relay.server.internal.SignalHandlers;
import dev.relay.transport.TransportRuntime;
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
 * {@link #bootstrap()} creates the event loops; {@link #addService} queues services;
 * {@link #start()} starts them in order (bound sockets are ready when it returns);
 * {@link #runForever()} starts them if needed, handles signals and blocks until the server has
 * stopped. Services stop in reverse order, so one may depend on those added before it.
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
public final class Server {
    private static final Logger LOG = LoggerFactory.getLogger(Server.class);

    /** Exit status after SIGINT, the shell's 128 + signal number. */
    static final int EXIT_INTERRUPTED = 130;

    private enum State { NEW, BOOTSTRAPPED, RUNNING, STOPPING, TERMINATED }

    private final ServerOptions options;
    private final List<Service> services = new ArrayList<>();
    private final List<Service> started = new ArrayList<>();
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    private TransportRuntime runtime;
    private State state = State.NEW;
    /** The exit status requested by a signal; -1 while no signal asked the process to end. */
    private volatile int signalExitStatus = -1;
    private volatile Runnable reloadHandler;

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
                shutdownNow();
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
                service.stopNow();
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
     * A stop requested with {@link #shutdown(Duration)} or {@link #shutdownNow()} returns normally.
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
                shutdown(options.gracePeriod());
            }
            case "INT" -> {
                LOG.info("SIGINT: stopping now");
                signalExitStatus = EXIT_INTERRUPTED;
                shutdownNow();
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
    public CompletionStage<Void> shutdown(Duration gracePeriod) {
        return shutdown(gracePeriod, true);
    }

    /**
     * The graceful stop of a process whose listening sockets another process has taken over
     * (zero-downtime upgrade): like {@link #shutdown(Duration)}, except that idle keep-alive
     * connections are closed after their next response rather than at once (see
     * {@link HttpProxyService#stopGracefully(Duration, boolean)}), and {@link #runForever()} then
     * ends the process with status 0.
     */
    public CompletionStage<Void> shutdownForUpgrade(Duration gracePeriod) {
        if (signalExitStatus < 0) {
            signalExitStatus = 0;
        }
        return shutdown(gracePeriod, false);
    }

    /**
     * What SIGHUP does: {@code handler} runs on a thread of its own (null: SIGHUP is ignored).
     *
     * @return this server
     */
    public Server reloadHandler(Runnable handler) {
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

    private CompletionStage<Void> shutdown(Duration gracePeriod, boolean closeIdleNow) {
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
     * stopped, for at most a few seconds.
     */
    public void shutdownNow() {
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
                service.stopNow();
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
                CompletionStage<Void> stopped = service instanceof HttpProxyService proxy
                        ? proxy.stopGracefully(Duration.ofNanos(remaining), closeIdleNow)
                        : service.stopGracefully(Duration.ofNanos(remaining));
                stopped.toCompletableFuture()
                        .get(remaining + TimeUnit.SECONDS.toNanos(5), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                service.stopNow();
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                LOG.warn("service '{}' did not stop gracefully: {}", service.name(), e.toString());
                service.stopNow();
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
                rt.shutdown(timeout).toCompletableFuture().get(timeout.toMillis() + 5000, TimeUnit.MILLISECONDS);
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
