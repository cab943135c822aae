package dev.relay.testing;

import java.text.MessageFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static java.util.Objects.requireNonNull;

/**
 * Records what a {@code System.Logger} (the JDK's default, backed by {@code java.util.logging}) writes
 * under one logger name and its children, from every thread, until closed. Lowers that logger's level
 * while open so DEBUG lines are seen too, and puts it back on close.
 *
 * <pre>{@code
 * try (LogCapture log = LogCapture.of("dev.relay.proxy")) {
 *     ... provoke the failure ...
 *     assertEquals(List.of(), log.atLeast(System.Logger.Level.WARNING));
 * }
 * }</pre>
 */
public final class LogCapture implements AutoCloseable {
    /** One record: its logger, level, formatted message, and whether a throwable came with it. */
    public record Line(String logger, System.Logger.Level level, String message, boolean hasThrown) {
        @Override
        public String toString() {
            return level + " " + logger + ": " + message + (hasThrown ? " (with a throwable)" : "");
        }
    }

    private final Logger logger;
    private final Level previousLevel;
    private final List<Line> lines = new CopyOnWriteArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord r) {
            String message = r.getParameters() == null || r.getParameters().length == 0 ? r.getMessage()
                    : MessageFormat.format(r.getMessage(), r.getParameters());
            lines.add(new Line(r.getLoggerName(), level(r.getLevel()), message, r.getThrown() != null));
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    private LogCapture(String name) {
        this.logger = Logger.getLogger(requireNonNull(name, "name"));
        this.previousLevel = logger.getLevel();
        logger.setLevel(Level.ALL);
        handler.setLevel(Level.ALL);
        logger.addHandler(handler);
    }

    /** Starts recording the logger {@code name} and the loggers under it. */
    public static LogCapture of(String name) {
        return new LogCapture(name);
    }

    /** Everything recorded so far, oldest first. */
    public List<Line> lines() {
        return List.copyOf(lines);
    }

    /** What was recorded at {@code level} or above. */
    public List<Line> atLeast(System.Logger.Level level) {
        return lines.stream().filter(l -> l.level().getSeverity() >= level.getSeverity()).toList();
    }

    /** What the logger {@code name} itself recorded (not its children). */
    public List<Line> linesOf(String name) {
        return lines.stream().filter(l -> l.logger().equals(name)).toList();
    }

    /** The recorded lines, one per line of text, for assertion messages. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("recorded:");
        lines.forEach(l -> sb.append('\n').append(l));
        return sb.toString();
    }

    private static System.Logger.Level level(Level level) {
        int v = level.intValue();
        if (v >= Level.SEVERE.intValue()) {
            return System.Logger.Level.ERROR;
        }
        if (v >= Level.WARNING.intValue()) {
            return System.Logger.Level.WARNING;
        }
        if (v >= Level.INFO.intValue()) {
            return System.Logger.Level.INFO;
        }
        if (v >= Level.FINE.intValue()) {
            return System.Logger.Level.DEBUG;
        }
        return System.Logger.Level.TRACE;
    }

    @Override
    public void close() {
        logger.removeHandler(handler);
        logger.setLevel(previousLevel);
    }
}
