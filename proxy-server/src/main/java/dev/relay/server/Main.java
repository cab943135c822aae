package dev.relay.server;

import com.google.inject.Injector;
import com.google.inject.Key;
import com.google.inject.TypeLiteral;
import dev.relay.server.internal.ConfigModule.ConfigSource;
import dev.relay.server.internal.FilterRegistry;
import dev.relay.server.internal.ServerAssembly;
import dev.relay.server.internal.StreamsModule;
import dev.relay.server.internal.admin.AdminServer;
import dev.relay.server.internal.config.ConfigLoader;
import dev.relay.server.internal.config.ConfigProblem;
import dev.relay.server.internal.config.ProxyConfig;
import dev.relay.server.internal.upgrade.PidFile;
import dev.relay.server.internal.upgrade.SystemdNotify;
import dev.relay.server.internal.upgrade.UpgradeClient;
import dev.relay.server.internal.upgrade.UpgradeListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The command line of the Relay proxy server.
 *
 * <pre>
 * java -jar proxy-server.jar [-c FILE] [-t] [-u] [-h]
 *   -c, --conf FILE   the configuration (HOCON); without it, the bundled demo configuration
 *   -t, --test        check the configuration and exit: 0 when valid, 1 otherwise (like nginx -t)
 *   -u, --upgrade     take the listening sockets over from the running process (zero-downtime restart)
 *   -h, --help        print this help and exit
 * </pre>
 *
 * Filters named in the configuration are found with {@code ServiceLoader} among the jars on the
 * classpath, and so are user Guice modules. Exit status: 0 after a graceful stop (SIGTERM, or
 * handing over to a new process) or a successful test, 1 for an invalid configuration or a failed
 * start, 2 for a wrong command line, 130 after SIGINT.
 */
public final class Main {
    /** Exit status of a bad command line. */
    static final int EXIT_USAGE = 2;

    private static final String USAGE = String.join(System.lineSeparator(),
            "Usage: java -jar proxy-server.jar [-c FILE] [-t] [-u] [-h]",
            "  -c, --conf FILE   configuration file (HOCON); without it, the bundled demo configuration",
            "                    (" + ConfigLoader.DEFAULT_RESOURCE + ": two demo origins behind a round robin on 127.0.0.1:6188)",
            "  -t, --test        check the configuration and exit (status 0 when valid, 1 otherwise)",
            "  -u, --upgrade     take the listening sockets over from the process running on",
            "                    proxy.server.upgrade-socket, which then drains and exits (zero-downtime restart)",
            "  -h, --help        print this help and exit",
            "Signals: SIGTERM drains gracefully (proxy.server.grace-period), SIGINT stops at once,",
            "SIGHUP reloads the configuration.");

    private Main() {}

    /**
     * Runs the server, or the test, and exits with the status of {@link #run}. As the process's entry
     * point it also keeps G1's heap near what the proxy keeps alive ({@code HeapGovernor}) and gives
     * back the native memory the JIT compilers freed ({@code NativeHeapTrimmer}).
     */
    public static void main(String[] args) {
        sampleNoBuffersForLeaks();
        preferPooledBuffers();
        keepPerThreadBufferCaches();
        leaveBufferEventsOutOfFlightRecorder();
        // The process's own JVM only (not when embedded through run): a heap near the live set.
        java.util.List<String> memory = dev.relay.server.internal.HeapGovernor.install();
        if (!memory.isEmpty()) {
            LoggerFactory.getLogger(Main.class).debug("heap governor: {}", memory);
        }
        dev.relay.server.internal.NativeHeapTrimmer.install();
        System.exit(run(args, System.out, System.err, true));
    }

    /** The system property that sets Netty's buffer leak detection (and its older spelling). */
    static final String LEAK_DETECTION = "io.netty.leakDetection.level";
    private static final String LEAK_DETECTION_OLD = "io.netty.leakDetectionLevel";

    /**
     * Turns Netty's buffer leak detection off in the server process unless the user chose a level.
     * Netty's default samples one buffer allocation in 128 and records a stack trace for each, which
     * costs the proxy 1 to 2 % of its CPU per request (async-profiler, /small) for a report meant
     * for developers; nginx has nothing alike. The engine's tests run with the PARANOID level, and
     * whoever debugs a filter of their own turns it back on with
     * {@code -Dio.netty.leakDetection.level=simple}. Must run before Netty's first buffer is made.
     */
    static void sampleNoBuffersForLeaks() {
        if (System.getProperty(LEAK_DETECTION) == null && System.getProperty(LEAK_DETECTION_OLD) == null) {
            System.setProperty(LEAK_DETECTION, "disabled");
        }
    }

    /** The system property that chooses Netty's default buffer allocator. */
    static final String ALLOCATOR_TYPE = "io.netty.allocator.type";

    /**
     * Chooses Netty's pooled buffer allocator (jemalloc's design: per-thread caches over arenas of
     * 4 MiB chunks) unless the user chose one. Netty 4.2's default, the adaptive allocator, costs a
     * proxy that moves large responses dearly: in one run of the load harness Relay served
     * {@code /64k} at 1.09 times nginx's req/s with 41.5 µs of CPU per request and a p99 of 7.7 ms
     * (nginx 5.8) with it, and at 1.33 times with 31.7 µs and 5.2 ms with the pooled one, {@code /small}
     * the same, for 20 MiB more RSS (docs/benchmarks.md, fourth pass). Part of the difference is the
     * adaptive allocator zeroing each new chunk it takes for large buffers. Must run before Netty's
     * allocator loads; {@code -Dio.netty.allocator.type=adaptive} still chooses the other.
     */
    static void preferPooledBuffers() {
        setUnlessGiven(ALLOCATOR_TYPE, "pooled");
    }

    /** The system property that puts Netty's adaptive buffer allocator in its low-memory mode. */
    static final String ALLOCATOR_LOW_MEMORY = "io.netty.allocator.lowMemory";

    /**
     * Keeps Netty's adaptive allocator, when the user chooses it, in its normal mode on a small heap
     * unless the user chose that too. With a maximum heap of 512 MiB or less (the launcher flags'
     * {@code -Xmx512m}, or no flags on a machine or container of 2 GiB or less) the adaptive allocator
     * gives up its per-thread magazines and caps its chunks at 2 MiB: with {@code -Xmx512m} Relay
     * served {@code /64k} at 0.6 times the req/s and twice the CPU per request (docs/benchmarks.md).
     * The few MiB of chunks the mode saves do not pay for that in a proxy;
     * {@code -Dio.netty.allocator.lowMemory=true} still chooses it. Must run before Netty's allocator
     * class loads.
     */
    static void keepPerThreadBufferCaches() {
        setUnlessGiven(ALLOCATOR_LOW_MEMORY, "false");
    }

    /** The system property that lets Netty's buffer allocators declare Flight Recorder events. */
    static final String NETTY_JFR = "io.netty.jfr.enabled";

    /**
     * Keeps Netty's buffer allocators from declaring their Flight Recorder events unless the user
     * asked for them. Netty checks whether its chunk event is enabled when the pooled allocator takes
     * its first chunk, which is during the first request, and declaring that event class starts the
     * Flight Recorder's metadata for every event type of the JDK: about 125 classes and 600 KB of
     * objects that the young collections of the first minute copy again and again until they are old
     * enough to be promoted. The first request through a fresh server took 0.56 to 0.77 s with it and
     * 0.31 to 0.42 s without (docs/benchmarks.md, eighth pass). The JDK's own events still record as
     * before; {@code -Dio.netty.jfr.enabled=true} brings Netty's back. Must run before Netty's
     * {@code PlatformDependent} loads.
     */
    static void leaveBufferEventsOutOfFlightRecorder() {
        setUnlessGiven(NETTY_JFR, "false");
    }

    private static void setUnlessGiven(String property, String value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, value);
        }
    }

    /**
     * The command line's logic, for tests and embedding: parses {@code args}, loads the
     * configuration, and either reports on it ({@code -t}) or runs the server until it stops.
     *
     * @return the process exit status
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, out, err, false);
    }

    /**
     * {@link #run(String[], PrintStream, PrintStream)}; {@code ownProcess}: the JVM is the server's own
     * ({@link #main}), so its heap is settled once the server has started ({@link StartupHeap}).
     */
    static int run(String[] args, PrintStream out, PrintStream err, boolean ownProcess) {
        String conf = null;
        boolean test = false;
        boolean help = false;
        boolean upgrade = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "-h", "--help" -> help = true;
                case "-t", "--test" -> test = true;
                case "-u", "--upgrade" -> upgrade = true;
                case "-c", "--conf" -> {
                    if (i + 1 >= args.length) {
                        return usageError(err, "option " + arg + " needs a file name");
                    }
                    conf = args[++i];
                }
                default -> {
                    if (arg.startsWith("--conf=")) {
                        conf = arg.substring("--conf=".length());
                    } else {
                        return usageError(err, "unknown argument '" + arg + "'");
                    }
                }
            }
        }
        if (help) {
            out.println(USAGE);
            return 0;
        }
        if (conf != null && conf.isBlank()) {
            return usageError(err, "empty configuration file name");
        }

        String name = conf != null ? conf : ConfigLoader.DEFAULT_RESOURCE + " (bundled)";
        FilterRegistry filters = FilterRegistry.load(Main.class.getClassLoader());
        ConfigLoader loader = new ConfigLoader(filters);
        ProxyConfig config;
        try {
            config = conf != null ? loader.load(Path.of(conf)) : loader.loadDefault();
        } catch (ConfigProblem problem) {
            err.println(problem.getMessage());
            if (test) {
                err.println("configuration file " + name + " test failed");
            }
            return 1;
        }
        if (test) {
            out.println("configuration file " + name + " test is successful");
            return 0;
        }
        if (upgrade && config.server().upgradeSocket() == null) {
            err.println("relay: --upgrade needs proxy.server.upgrade-socket (it is none in " + name + ")");
            return 1;
        }

        Logger log = LoggerFactory.getLogger(Main.class);
        log.info("configuration {}", name);
        if (config.demoOrigins() > 0) {
            log.info("demo mode: {} demo origin(s) behind the upstream group '{}'", config.demoOrigins(),
                    ProxyConfig.DEMO_UPSTREAM);
        }
        Server server;
        Injector injector;
        try {
            injector = ServerAssembly.injector(config, new ConfigSource(conf == null ? null : Path.of(conf)), filters,
                    ServerAssembly.discoverModules(Main.class.getClassLoader()));
            server = ServerAssembly.instance(injector, Server.class);
        } catch (RuntimeException e) {
            err.println("relay: cannot start: " + e.getMessage());
            return 1;
        }

        UpgradeClient.Handoff handoff = null;
        CompletableFuture<Void> handedOver = new CompletableFuture<>();
        Optional<UpgradeListener> upgradeListener = injector.getInstance(Key.get(new TypeLiteral<Optional<UpgradeListener>>() {}));
        if (upgrade) {
            Path socket = Path.of(config.server().upgradeSocket());
            try {
                handoff = UpgradeClient.takeOver(socket, Duration.ofSeconds(10));
            } catch (IOException e) {
                err.println("relay: cannot upgrade: " + e.getMessage());
                return 1;
            }
            inherit(injector, config, handoff.sockets());
            upgradeListener.ifPresent(l -> l.deferUntil(handedOver));
        }
        try {
            server.start();
        } catch (RuntimeException e) {
            if (handoff != null) {
                handoff.abort();
                err.println("relay: the running process keeps serving");
            }
            err.println(startFailure(config, e));
            return 1;
        }
        if (ownProcess) {
            StartupHeap.settle(log);
        }
        if (handoff != null) {
            // systemd must follow this process before the old one exits.
            SystemdNotify.send("MAINPID=" + ProcessHandle.current().pid() + "\nREADY=1");
            try {
                handoff.complete();
                log.info("upgrade complete: the previous process stopped accepting and drains");
            } catch (IOException e) {
                log.warn("upgrade: the previous process did not confirm ({}); both may accept until it exits", e.getMessage());
            }
            handedOver.complete(null);
        } else {
            SystemdNotify.send("READY=1");
        }
        if (config.server().pidFile() != null) {
            try {
                PidFile.write(Path.of(config.server().pidFile()));
            } catch (IOException e) {
                log.warn("cannot write the pid file {}: {}", config.server().pidFile(), e.toString());
            }
        }
        try {
            server.runForever();
        } catch (RuntimeException e) {
            err.println(startFailure(config, e));
            return 1;
        }
        return 0;
    }

    /** Gives the inherited sockets to the admin listener, the stream services and the proxy service, by address. */
    private static void inherit(Injector injector, ProxyConfig config, Map<InetSocketAddress, Integer> sockets) {
        Map<InetSocketAddress, Integer> forProxy = new LinkedHashMap<>(sockets);
        Optional<AdminServer> admin = injector.getInstance(Key.get(new TypeLiteral<Optional<AdminServer>>() {}));
        if (admin.isPresent()) {
            for (var it = forProxy.entrySet().iterator(); it.hasNext(); ) {
                var e = it.next();
                if (ListenerAddresses.matches(admin.get().address(), e.getKey())) {
                    admin.get().inherit(e.getValue());
                    it.remove();
                    break;
                }
            }
        }
        ServerAssembly.instance(injector, StreamsModule.StreamServices.class).inheritListeners(forProxy);
        ServerAssembly.instance(injector, HttpProxyService.class).inheritListeners(forProxy);
    }

    /** The start-up error, pointing at the listener's line when a listener could not be bound. */
    private static String startFailure(ProxyConfig config, RuntimeException e) {
        String message = String.valueOf(e.getMessage());
        for (int i = 0; i < config.listeners().size(); i++) {
            ProxyConfig.ListenerConfig listener = config.listeners().get(i);
            if (message.startsWith("cannot listen on " + listener.address() + ":")) {
                return listener.origin() + ": key 'proxy.listeners[" + i + "].address': " + message;
            }
        }
        for (int i = 0; i < config.streams().size(); i++) {
            if (message.startsWith("cannot listen on " + config.streams().get(i).address() + ":")) {
                return config.streams().get(i).origin() + ": key 'proxy.streams[" + i + "].address': " + message;
            }
        }
        if (config.admin() != null && message.startsWith("cannot listen on " + config.admin().address() + ":")) {
            return config.admin().origin() + ": key 'proxy.admin.address': " + message;
        }
        return "relay: cannot start: " + message;
    }

    private static int usageError(PrintStream err, String message) {
        err.println("relay: " + message);
        err.println(USAGE);
        return EXIT_USAGE;
    }
}
