package dev.relay.server.internal.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The default set up in code, as the file in src/dist says, and stepping aside for the user's own. */
class DefaultLoggingTest {
    private final LoggerContext context = new LoggerContext();

    DefaultLoggingTest() {
        // What Logback's SLF4J provider gives the context it configures.
        context.setMDCAdapter(new LogbackMDCAdapter());
    }

    @AfterEach
    void stop() {
        context.stop();
    }

    @Test
    void logbackFindsItThroughTheServiceLoader() {
        boolean found = false;
        for (Configurator configurator : ServiceLoader.load(Configurator.class)) {
            found |= configurator instanceof DefaultLogging;
        }
        assertTrue(found);
    }

    @Test
    void theConsoleGetsInfoWithThePatternNettyOnlyWarningsAndTheAccessLogItsLinesAlone() {
        PrintStream stdout = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        Configurator.ExecutionStatus status;
        try {
            // The console appenders take System.out as they start.
            System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
            status = configure();
            context.getLogger("dev.relay.server.Main").info("configuration {}", "relay.conf");
            context.getLogger("dev.relay.server.Main").debug("not shown");
            context.getLogger("io.netty.channel.Foo").info("not shown either");
            context.getLogger("io.netty.channel.Foo").warn("shown");
            context.getLogger(DefaultLogging.ACCESS_LOGGER).info("127.0.0.1 - - \"GET / HTTP/1.1\" 200 5");
        } finally {
            System.setOut(stdout);
        }

        assertEquals(Configurator.ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY, status);
        String[] lines = printed.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(3, lines.length, printed.toString(StandardCharsets.UTF_8));
        assertTrue(lines[0].matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  \\[[^]]+] Main - configuration relay.conf"), lines[0]);
        assertTrue(lines[1].matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} WARN  \\[[^]]+] Foo - shown"), lines[1]);
        assertEquals("127.0.0.1 - - \"GET / HTTP/1.1\" 200 5", lines[2], "the access line alone, once");

        Logger access = context.getLogger(DefaultLogging.ACCESS_LOGGER);
        assertFalse(access.isAdditive());
        assertEquals(Level.INFO, context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel());
        assertEquals(Level.WARN, context.getLogger("io.netty").getLevel());
    }

    @Test
    void aConfigurationFileGivenByTheUserIsLeftToLogback() {
        String property = DefaultLogging.USER_CONFIGURATION_PROPERTIES[0];
        String before = System.getProperty(property);
        Configurator.ExecutionStatus status;
        try {
            System.setProperty(property, "/etc/relay/logback.xml");
            status = configure();
        } finally {
            if (before == null) {
                System.clearProperty(property);
            } else {
                System.setProperty(property, before);
            }
        }

        assertEquals(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY, status);
        assertNull(context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("CONSOLE"), "nothing set up");
    }

    private Configurator.ExecutionStatus configure() {
        DefaultLogging configurator = new DefaultLogging();
        configurator.setContext(context);
        return configurator.configure(context);
    }
}
