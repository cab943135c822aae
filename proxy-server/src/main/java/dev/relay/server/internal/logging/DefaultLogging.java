package dev.relay.server.internal.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import ch.qos.logback.core.status.NopStatusListener;

/**
 * The server's default logging, set up in code: what {@code proxy-server/src/dist/logback.xml} says,
 * without Logback's XML configurator. That configurator reads a file through the JDK's XML parser and
 * Logback's model, about 600 classes and 0.1 to 0.3 s of start-up (of about two) for three
 * loggers and two appenders; start-up time is how long a zero-downtime upgrade takes.
 *
 * <p>Logback finds this class through {@code ServiceLoader} and asks it before its XML configurator
 * ({@link ConfiguratorRank#CUSTOM_LOW_PRIORITY}). It steps aside, and Logback then does what it
 * always does, when the user chose a configuration: {@code -Dlogback.configurationFile=FILE} (or a
 * serialized model), or a {@code logback-test.xml} or {@code logback.xml} of their own on the class path.
 *
 * <ul>
 *   <li>Console, {@code HH:mm:ss.SSS LEVEL [thread] logger - message}, at INFO; Netty at WARN.</li>
 *   <li>{@value #ACCESS_LOGGER} (the access log with {@code access-log-path = logger}): its own console
 *       appender that prints the preformatted line alone, not passed to the root.</li>
 * </ul>
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_LOW_PRIORITY)
public final class DefaultLogging extends ContextAwareBase implements Configurator {
    static final String CONSOLE_PATTERN = "%d{HH:mm:ss.SSS} %-5level [%thread] %logger{0} - %msg%n";
    static final String ACCESS_PATTERN = "%msg%n";
    static final String ACCESS_LOGGER = "dev.relay.access";
    /** System properties with which the user names a configuration of their own. */
    static final String[] USER_CONFIGURATION_PROPERTIES = {"logback.configurationFile", "logback.serializedModelFile"};
    /** Class-path resources Logback's XML configurator looks for: present only when the user put one there. */
    static final String[] USER_CONFIGURATION_RESOURCES = {"logback-test.xml", "logback.xml"};

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (userConfigurationGiven()) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        // As the XML's <statusListener>: Logback's own messages about setting up stay quiet.
        context.getStatusManager().add(new NopStatusListener());

        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(console(context, "CONSOLE", CONSOLE_PATTERN));

        context.getLogger("io.netty").setLevel(Level.WARN);

        Logger access = context.getLogger(ACCESS_LOGGER);
        access.setLevel(Level.INFO);
        access.setAdditive(false);
        access.addAppender(console(context, "ACCESS", ACCESS_PATTERN));
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    static boolean userConfigurationGiven() {
        for (String property : USER_CONFIGURATION_PROPERTIES) {
            if (System.getProperty(property) != null) {
                return true;
            }
        }
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        if (loader == null) {
            loader = DefaultLogging.class.getClassLoader();
        }
        for (String resource : USER_CONFIGURATION_RESOURCES) {
            if (loader.getResource(resource) != null) {
                return true;
            }
        }
        return false;
    }

    private static ConsoleAppender<ILoggingEvent> console(LoggerContext context, String name, String pattern) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(pattern);
        encoder.start();
        ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
        appender.setContext(context);
        appender.setName(name);
        appender.setEncoder(encoder);
        appender.start();
        return appender;
    }
}
