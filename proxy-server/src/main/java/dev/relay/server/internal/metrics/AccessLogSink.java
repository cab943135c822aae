package dev.relay.server.internal.metrics;

import dev.relay.server.internal.config.ProxyConfig.AccessLogDestination;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Where the access-log writer puts its batches of whole lines: standard output, a file, or the
 * SLF4J logger. Only the writer thread writes; {@link #open} may run on another (a reload) and
 * hands the sink over.
 */
abstract class AccessLogSink implements AutoCloseable {
    /** The most bytes of one write to a regular file (the file sink's, and standard output's when it is one). */
    static final int FILE_WRITE = 64 * 1024;

    /** Opens {@code destination}: a file for append, created when missing. */
    static AccessLogSink open(AccessLogDestination destination) throws IOException {
        return switch (destination.kind()) {
            case STDOUT -> new Stdout();
            case FILE -> new AppendFile(destination.file());
            case LOGGER -> new ToLogger();
        };
    }

    /**
     * The most bytes of whole lines one {@link #write} should carry (a single line may be longer).
     */
    abstract int maxWriteBytes();

    /** Writes {@code length} bytes of whole lines from {@code bytes}, all of them or an exception. */
    abstract void write(byte[] bytes, int length) throws IOException;

    /** Closes a file; nothing to do for standard output or the logger. Never throws. */
    @Override
    public void close() {}

    /**
     * File descriptor 1, written directly: a failed write reports its error (a {@code PrintStream}
     * only remembers that one happened, forever). To a pipe or a terminal, writes of at most
     * {@code PIPE_BUF} bytes, which a pipe takes whole: lines of the console log (Logback, through
     * {@code System.out}) written to the same pipe meanwhile fall between two writes, never into a line.
     * To a regular file (the shell's {@code > access.log}), writes of up to 64 KiB: there every write is
     * placed whole at the file's offset whatever its size, and at 50,000 lines a second the 4 KiB writes
     * cost the writer thread a system call per 40 lines (about 4 % of the proxy's CPU in a profile).
     * Never closed: the process's standard output is not ours.
     */
    static final class Stdout extends AccessLogSink {
        static final int PIPE_BUF = 4096;
        private static final Path STANDARD_OUTPUT = Path.of("/proc/self/fd/1");
        private final FileOutputStream out = new FileOutputStream(FileDescriptor.out);
        private final int maxWrite = maxWriteFor(STANDARD_OUTPUT);

        /** The largest write to what {@code descriptor} (a {@code /proc/self/fd} link) leads to. */
        static int maxWriteFor(Path descriptor) {
            try {
                return Files.isRegularFile(descriptor) ? FILE_WRITE : PIPE_BUF;
            } catch (SecurityException e) {
                return PIPE_BUF;
            }
        }

        @Override
        int maxWriteBytes() {
            return maxWrite;
        }

        @Override
        void write(byte[] bytes, int length) throws IOException {
            out.write(bytes, 0, length);
        }
    }

    /**
     * A file opened with {@code O_APPEND}: lines of a process that an upgrade started, appending to
     * the same file meanwhile, do not overwrite these. Closing it writes nothing more: every batch went
     * to the kernel when it was written (nothing forced to the disk, as nginx does not).
     */
    private static final class AppendFile extends AccessLogSink {
        private static final Logger LOG = LoggerFactory.getLogger(AccessLog.class);
        private final Path path;
        private final FileChannel channel;
        private ByteBuffer view = ByteBuffer.allocate(0);

        AppendFile(Path path) throws IOException {
            this.path = path;
            channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        }

        @Override
        int maxWriteBytes() {
            return FILE_WRITE;
        }

        @Override
        void write(byte[] bytes, int length) throws IOException {
            if (view.array() != bytes) {
                view = ByteBuffer.wrap(bytes);
            }
            view.clear().limit(length);
            while (view.hasRemaining()) {
                channel.write(view);
            }
        }

        @Override
        public void close() {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.warn("access log: closing '{}' failed: {}", path, e.toString());
            }
        }
    }

    /**
     * The logger {@code dev.relay.access}: one {@code String} and one logging call per line, for
     * those who route the lines with their own Logback configuration (what Relay did before it wrote
     * the lines itself).
     */
    private static final class ToLogger extends AccessLogSink {
        private static final Logger ACCESS = LoggerFactory.getLogger(AccessLog.LOGGER);

        @Override
        int maxWriteBytes() {
            return 64 * 1024;
        }

        @Override
        void write(byte[] bytes, int length) throws IOException {
            int start = 0;
            for (int i = 0; i < length; i++) {
                if (bytes[i] == '\n') {
                    String line = new String(bytes, start, i - start, StandardCharsets.UTF_8);
                    try {
                        ACCESS.info(line);
                    } catch (RuntimeException e) {
                        throw new IOException("the logger failed: " + e, e);
                    }
                    start = i + 1;
                }
            }
        }
    }
}
