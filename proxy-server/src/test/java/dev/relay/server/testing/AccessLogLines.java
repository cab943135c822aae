package dev.relay.server.testing;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.relay.server.internal.metrics.AccessLog;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Captures the access-log lines ({@link AccessLog#LOGGER}) written during each test.
 *
 * <pre>{@code
 * @RegisterExtension
 * final AccessLogLines accessLines = new AccessLogLines();
 * ...
 * String line = accessLines.list().get(0).getFormattedMessage();
 * }</pre>
 */
public final class AccessLogLines implements BeforeEachCallback, AfterEachCallback {
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    @Override
    public void beforeEach(ExtensionContext context) {
        appender.list.clear();
        appender.start();
        logger().addAppender(appender);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        logger().detachAppender(appender);
    }

    /** The lines so far, in order (the appender's own list: copy it before iterating while lines arrive). */
    public List<ILoggingEvent> list() {
        return appender.list;
    }

    private static Logger logger() {
        return (Logger) LoggerFactory.getLogger(AccessLog.LOGGER);
    }
}
