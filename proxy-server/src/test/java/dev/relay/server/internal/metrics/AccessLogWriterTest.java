package dev.relay.server.internal.metrics;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.relay.server.internal.config.ProxyConfig.AccessLogDestination;
import dev.relay.server.internal.config.ProxyConfig.AccessLogFormat;
import dev.relay.testing.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The writer of {@link AccessLog} on real files, a FIFO and {@code /dev/full}: lines in order and
 * complete, written in batches, every queued line written by {@code close()}, reopened for logrotate,
 * and a failing or blocked destination dropping and counting lines instead of holding up a producer.
 */
@Timeout(60)
class AccessLogWriterTest {
    @TempDir
    Path dir;

    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private final ListAppender<ILoggingEvent> warnings = new ListAppender<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
        ((Logger) LoggerFactory.getLogger(AccessLog.class)).detachAppender(warnings);
    }

    private AccessLog open(AccessLogDestination destination, int capacity, RelayMetrics metrics) {
        AccessLog log = new AccessLog(AccessLogFormat.COMBINED, destination, capacity, metrics);
        cleanup.add(log);
        return log;
    }

    /** Publishes the line of request {@code /r/<i>} padded to about {@code uriLength}; false when dropped. */
    private static boolean publish(AccessLog log, int i, int uriLength) {
        AccessLog.Entry e = log.claim();
        if (e == null) {
            return false;
        }
        e.epochMillis = System.currentTimeMillis();
        e.client(new InetSocketAddress("192.0.2.1", 4000));
        e.method("GET");
        e.uri("/r/" + i + (uriLength > 0 ? "?pad=" + "x".repeat(uriLength) : ""));
        e.protocol("HTTP/1.1");
        e.status = 200;
        e.publish();
        return true;
    }

    /** The file's whole lines. */
    private static List<String> lines(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        List<String> parts = List.of(text.split("\n", -1));
        return parts.subList(0, parts.size() - 1);
    }

    private static void assertRequests(List<String> lines, int from, int to) {
        assertEquals(to - from, lines.size(), "lines");
        for (int i = from; i < to; i++) {
            String line = lines.get(i - from);
            assertTrue(line.startsWith("192.0.2.1 - - [") && line.contains("\"GET /r/" + i + " HTTP/1.1\" 200 0 "), line);
        }
    }

    private void captureWarnings() {
        warnings.start();
        Logger logger = (Logger) LoggerFactory.getLogger(AccessLog.class);
        logger.addAppender(warnings);
    }

    @Test
    void closeWritesEveryLineQueuedInOrder() throws Exception {
        Path file = dir.resolve("access.log");
        AccessLog log = open(AccessLogDestination.file(file), 16384, null);
        for (int i = 0; i < 10_000; i++) {
            assertTrue(publish(log, i, 0));
        }
        log.close();
        assertRequests(lines(file), 0, 10_000);
        assertEquals(0, log.dropped());
        // After the close, a line is refused and counted, never left in the ring.
        assertNull(log.claim());
        assertEquals(1, log.dropped());
    }

    @Test
    void linesGoOutInBatchesNotOneWritePerLine() throws Exception {
        Path file = dir.resolve("access.log");
        AccessLog log = open(AccessLogDestination.file(file), 16384, null);
        Await.until(() -> log.writerIdle(), Duration.ofSeconds(10), () -> "the writer going idle");
        for (int i = 0; i < 2000; i++) {
            assertTrue(publish(log, i, 0));
        }
        Await.until(() -> lines(file).size() == 2000, Duration.ofSeconds(10), () -> "2000 lines");
        assertRequests(lines(file), 0, 2000);
        // The first line wakes the idle writer; the rest gather while it naps. Each write carries at
        // most 64 KiB (about 500 of these lines), so five are the least there can be.
        assertTrue(log.writes() >= 5 && log.writes() <= 100, "writes for 2000 lines: " + log.writes());
    }

    @Test
    void aFullDiskDropsAndCountsTheLinesWithOneWarning() throws Exception {
        captureWarnings();
        RelayMetrics metrics = new RelayMetrics();
        AccessLog log = open(AccessLogDestination.file(Path.of("/dev/full")), 1024, metrics);
        for (int batch = 1; batch <= 3; batch++) {
            for (int i = 0; i < 100; i++) {
                assertTrue(publish(log, i, 0));
            }
            long expected = 100L * batch;
            Await.until(() -> log.dropped() == expected, Duration.ofSeconds(10), () -> expected + " dropped lines, not " + log.dropped());
        }
        assertTrue(log.writes() >= 3, "one failed write per batch at least: " + log.writes());
        Map<String, Double> samples = MetricsAndAccessLogTest.parse(new String(metrics.scrape(), StandardCharsets.UTF_8));
        assertEquals(300.0, samples.get("relay_access_log_dropped_lines_total{reason=\"write_error\"}"), samples.toString());
        assertEquals(0.0, samples.get("relay_access_log_dropped_lines_total{reason=\"ring_full\"}"));
        List<ILoggingEvent> warned = List.copyOf(warnings.list).stream().filter(w -> w.getLevel() == Level.WARN).toList();
        assertEquals(1, warned.size(), warned.toString());
        assertTrue(warned.get(0).getFormattedMessage().contains("No space left on device"), warned.get(0).getFormattedMessage());
    }

    @Test
    void aBlockedPipeDropsLinesInsteadOfBlockingTheProducer() throws Exception {
        Path fifo = dir.resolve("access.fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertTrue(mkfifo.waitFor(10, TimeUnit.SECONDS) && mkfifo.exitValue() == 0, "mkfifo");
        // Opening a FIFO for writing waits for a reader: open the reading end alongside.
        CompletableFuture<InputStream> reader = CompletableFuture.supplyAsync(() -> {
            try {
                return Files.newInputStream(fifo);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        RelayMetrics metrics = new RelayMetrics();
        AccessLog log = open(AccessLogDestination.file(fifo), 64, metrics);
        InputStream in = reader.get(10, TimeUnit.SECONDS);
        cleanup.add(in);

        // Nobody reads: the pipe fills (64 KiB), the writer blocks in write(), the ring fills. The
        // producer goes on and drops.
        int published = 0;
        int i = 0;
        while (log.dropped() < 1000) {
            if (publish(log, i++, 1000)) {
                published++;
            }
            assertTrue(i < 1_000_000, "lines never dropped");
        }
        assertEquals(i - published, log.dropped());
        Map<String, Double> samples = MetricsAndAccessLogTest.parse(new String(metrics.scrape(), StandardCharsets.UTF_8));
        assertEquals((double) log.dropped(), samples.get("relay_access_log_dropped_lines_total{reason=\"ring_full\"}"));

        // The reader catches up: every line that was not dropped arrives, whole.
        CompletableFuture<byte[]> all = CompletableFuture.supplyAsync(() -> {
            try {
                return in.readAllBytes();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        log.close();
        String text = new String(all.get(20, TimeUnit.SECONDS), StandardCharsets.UTF_8);
        String[] lines = text.split("\n");
        assertEquals(published, lines.length);
        for (String line : lines) {
            assertTrue(line.matches("192\\.0\\.2\\.1 - - \\[[^]]+] \"GET /r/\\d+\\?pad=x{1000} HTTP/1\\.1\" 200 0 .* time=0\\.000"), line);
        }
    }

    @Test
    void reopenStartsANewFileAfterLogrotateRenamedTheOld() throws Exception {
        Path file = dir.resolve("access.log");
        AccessLog log = open(AccessLogDestination.file(file), 1024, null);
        publish(log, 0, 0);
        Await.until(() -> lines(file).size() == 1, Duration.ofSeconds(10), () -> "the first line");
        Path rotated = dir.resolve("access.log.1");
        Files.move(file, rotated);
        publish(log, 1, 0);
        Await.until(() -> lines(rotated).size() == 2, Duration.ofSeconds(10), () -> "the second line, into the renamed file");

        log.reopen();
        publish(log, 2, 0);
        Await.until(() -> Files.exists(file) && lines(file).size() == 1, Duration.ofSeconds(10), () -> "a new file");
        assertRequests(lines(rotated), 0, 2);
        assertRequests(lines(file), 2, 3);
    }

    @Test
    void aReloadSwitchesToAnotherDestinationAndKeepsTheOldOneWhenTheNewCannotBeOpened() throws Exception {
        captureWarnings();
        Path first = dir.resolve("first.log");
        Path second = dir.resolve("second.log");
        AccessLog log = open(AccessLogDestination.file(first), 1024, null);
        publish(log, 0, 0);
        log.reconfigure(AccessLogFormat.COMBINED, AccessLogDestination.file(dir.resolve("missing/dir.log")));
        assertEquals(AccessLogDestination.file(first), log.destination());
        assertTrue(warnings.list.stream().anyMatch(w -> w.getLevel() == Level.WARN
                && w.getFormattedMessage().contains("missing/dir.log")), warnings.list.toString());
        publish(log, 1, 0);
        // Lines still queued at a switch go to the new destination: these two are written first.
        Await.until(() -> lines(first).size() == 2, Duration.ofSeconds(10), () -> "two lines in the first file");

        log.reconfigure(AccessLogFormat.JSON, AccessLogDestination.file(second));
        publish(log, 2, 0);
        log.close();
        assertRequests(lines(first), 0, 2);
        List<String> json = lines(second);
        assertEquals(1, json.size(), json.toString());
        assertTrue(json.get(0).startsWith("{\"time\":\"") && json.get(0).contains("\"uri\":\"/r/2\""), json.get(0));
    }

    @Test
    void theLoggerDestinationHandsEachLineToTheAccessLogger() throws Exception {
        ListAppender<ILoggingEvent> access = new ListAppender<>();
        access.start();
        Logger logger = (Logger) LoggerFactory.getLogger(AccessLog.LOGGER);
        logger.addAppender(access);
        try {
            AccessLog log = open(AccessLogDestination.LOGGER, 1024, null);
            for (int i = 0; i < 3; i++) {
                publish(log, i, 0);
            }
            log.close();
            List<String> lines = access.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
            assertRequests(lines, 0, 3);
            access.list.forEach(e -> assertEquals("relay-access-log", e.getThreadName(), "written off the producer's thread"));
        } finally {
            logger.detachAppender(access);
        }
    }

    @Test
    void aDestinationThatCannotBeOpenedFailsTheStart() {
        java.io.UncheckedIOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.UncheckedIOException.class,
                () -> open(AccessLogDestination.file(dir.resolve("no/such/dir/access.log")), 16, null));
        assertNotNull(e.getMessage());
        assertTrue(e.getMessage().contains("no/such/dir/access.log"), e.getMessage());
    }
}
