package dev.relay.server.internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * Installs the process signal handlers of a running server.
 *
 * <p>Why {@code sun.misc.Signal} (module {@code jdk.unsupported}, present and supported for this use
 * on every JDK since 9): the only standard hook, {@code Runtime.addShutdownHook}, runs for SIGTERM,
 * SIGINT and SIGHUP alike and cannot tell which one arrived, so it cannot give SIGTERM a graceful
 * drain and SIGINT an immediate stop, and it cannot keep the process alive on SIGHUP (which a
 * reload must do). A shutdown hook also runs while the JVM is already exiting, with no say in the
 * exit status. {@code sun.misc.Signal.handle} replaces the JVM's own handler for one signal, and
 * the handler runs on a JVM thread ("SIGTERM handler"), not in a real signal context, so it may
 * log and start threads.
 *
 * <p>Replacing the JVM's handler means the JVM no longer exits by itself on these signals: the
 * server must end the process once it has stopped (see {@code Server.runForever}).
 */
public final class SignalHandlers {
    private static final Logger LOG = LoggerFactory.getLogger(SignalHandlers.class);

    /** The signals handled, by their names without the {@code SIG} prefix. */
    public static final List<String> SIGNALS = List.of("TERM", "INT", "HUP");

    private SignalHandlers() {}

    /**
     * Sends each of {@link #SIGNALS} to {@code handler} (with the name, for example {@code "TERM"})
     * instead of the JVM's default action.
     *
     * @return the signals actually installed: the JVM refuses those it reserves (for example all
     *         of them when started with {@code -Xrs})
     */
    public static List<String> install(Consumer<String> handler) {
        requireNonNull(handler, "handler");
        List<String> installed = new ArrayList<>(SIGNALS.size());
        for (String name : SIGNALS) {
            try {
                sun.misc.SignalHandler previous = sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> {
                    try {
                        handler.accept(name);
                    } catch (Throwable t) {
                        LOG.error("handling SIG{} failed", name, t);
                    }
                });
                if (previous == sun.misc.SignalHandler.SIG_IGN) {
                    // The JVM keeps a signal that the process inherited as ignored (a background job of a
                    // non-interactive shell ignores SIGINT, nohup ignores SIGHUP) ignored, and says so
                    // only through the returned handler.
                    LOG.info("SIG{} is ignored in this process (inherited from its parent), so it is not handled", name);
                    continue;
                }
                installed.add(name);
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                LOG.warn("cannot handle SIG{}: {}; the JVM's default action applies", name, e.getMessage());
            }
        }
        return List.copyOf(installed);
    }
}
