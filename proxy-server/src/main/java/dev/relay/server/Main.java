package dev.relay.server;

import dev.relay.server.internal.FilterRegistry;
import dev.relay.server.internal.ServerAssembly;
import dev.relay.server.internal.config.ConfigLoader;
import dev.relay.server.internal.config.ConfigProblem;
import dev.relay.server.internal.config.ProxyConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.nio.file.Path;

/**
 * The command line of the Relay proxy server.
 *
 * <pre>
 * java -jar proxy-server.jar [-c FILE] [-t] [-h]
 *   -c, --conf FILE   the configuration (HOCON); without it, the bundled demo configuration
 *   -t, --test        check the configuration and exit: 0 when valid, 1 otherwise (like nginx -t)
 *   -h, --help        print this help and exit
 * </pre>
 *
 * Filters named in the configuration are found with {@code ServiceLoader} among the jars on the
 * classpath. Exit status: 0 after a graceful stop (SIGTERM) or a successful test, 1 for an invalid
 * configuration or a failed start, 2 for a wrong command line, 130 after SIGINT.
 */
public final class Main {
    /** Exit status of a bad command line. */
    static final int EXIT_USAGE = 2;

    private static final String USAGE = String.join(System.lineSeparator(),
            "Usage: java -jar proxy-server.jar [-c FILE] [-t] [-h]",
            "  -c, --conf FILE   configuration file (HOCON); without it, the bundled demo configuration",
            "                    (" + ConfigLoader.DEFAULT_RESOURCE + ": two demo origins behind a round robin on 127.0.0.1:6188)",
            "  -t, --test        check the configuration and exit (status 0 when valid, 1 otherwise)",
            "  -h, --help        print this help and exit",
            "Signals: SIGTERM drains gracefully (proxy.server.grace-period), SIGINT stops at once.");

    private Main() {}

    /** Runs the server, or the test, and exits with the status of {@link #run}. */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * The command line's logic, for tests and embedding: parses {@code args}, loads the
     * configuration, and either reports on it ({@code -t}) or runs the server until it stops.
     *
     * @return the process exit status
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        String conf = null;
        boolean test = false;
        boolean help = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "-h", "--help" -> help = true;
                case "-t", "--test" -> test = true;
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

        Logger log = LoggerFactory.getLogger(Main.class);
        log.info("configuration {}", name);
        if (config.demoOrigins() > 0) {
            log.info("demo mode: {} demo origin(s) behind the upstream group '{}'", config.demoOrigins(),
                    ProxyConfig.DEMO_UPSTREAM);
        }
        Server server;
        try {
            server = ServerAssembly.server(config, filters);
        } catch (RuntimeException e) {
            err.println("relay: cannot start: " + e.getMessage());
            return 1;
        }
        try {
            server.runForever();
        } catch (RuntimeException e) {
            err.println(startFailure(config, e));
            return 1;
        }
        return 0;
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
        return "relay: cannot start: " + message;
    }

    private static int usageError(PrintStream err, String message) {
        err.println("relay: " + message);
        err.println(USAGE);
        return EXIT_USAGE;
    }
}
