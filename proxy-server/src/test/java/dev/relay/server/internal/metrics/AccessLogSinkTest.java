package dev.relay.server.internal.metrics;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AccessLogSinkTest {
    @Test
    void standardOutputToARegularFileIsWrittenInLargeWrites(@TempDir Path dir) throws Exception {
        Path file = Files.createFile(dir.resolve("access.log"));
        Path link = Files.createSymbolicLink(dir.resolve("fd1"), file);

        assertEquals(AccessLogSink.Stdout.FILE_WRITE, AccessLogSink.Stdout.maxWriteFor(link));
    }

    @Test
    void standardOutputToAPipeKeepsWritesWithinPipeBufSoConsoleLinesCannotFallIntoThem(@TempDir Path dir)
            throws Exception {
        Path fifo = dir.resolve("fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertTrue(mkfifo.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, mkfifo.exitValue());

        assertEquals(AccessLogSink.Stdout.PIPE_BUF, AccessLogSink.Stdout.maxWriteFor(fifo));
        assertEquals(AccessLogSink.Stdout.PIPE_BUF, AccessLogSink.Stdout.maxWriteFor(Path.of("/dev/null")));
        assertEquals(AccessLogSink.Stdout.PIPE_BUF, AccessLogSink.Stdout.maxWriteFor(dir.resolve("closed")));
    }
}
