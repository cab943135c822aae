package dev.relay.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * A real {@code redis-server} on a loopback port, in the foreground, with its files in a directory of the
 * test and no persistence ({@code --save "" --appendonly no}): every start is an empty server. It can be
 * killed ({@code SIGKILL}, as a crash) and started again on the same port, so a test sees a client lose
 * its connection and get it back. {@code DEBUG} is enabled for loopback clients ({@code DEBUG SLEEP} makes
 * a server that does not answer for a while). Tests using it are skipped when redis-server is not
 * installed; {@code .ci/run} installs it.
 *
 * <pre>{@code
 * try (RedisServer redis = RedisServer.start(dir)) {
 *     RedisClient client = RedisClient.builder(RedisUri.parse(redis.uri())).build();
 *     redis.kill();      // the client's commands now fail at once
 *     redis.restart();   // same port: the client reconnects by itself
 * }
 * }</pre>
 *
 * <p>Not thread-safe: one test thread drives it.
 */
public final class RedisServer implements AutoCloseable {
    private final Path dir;
    private final int port;
    private Process process;
    private int starts;

    private RedisServer(Path dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
    }

    /**
     * Starts redis-server with its files in {@code dir} on a port just found free (redis cannot bind port 0),
     * and waits until it accepts connections. Skips the calling test when redis-server is not installed.
     */
    public static RedisServer start(Path dir) throws IOException, InterruptedException {
        ExternalTool.assumeInstalled("redis-server");
        requireNonNull(dir, "dir");
        Files.createDirectories(dir);
        Path log = logFile(dir, 1);
        LoopbackPorts.StartedServer started = LoopbackPorts.startOnFreePorts("redis-server", 1, log,
                ports -> launch(dir, ports[0], log));
        RedisServer redis = new RedisServer(dir, started.ports()[0], started.process());
        redis.starts = 1;
        return redis;
    }

    /** The server's URI, {@code redis://127.0.0.1:port}. */
    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    /** The loopback port it listens on (the same after {@link #restart()}). */
    public int port() {
        return port;
    }

    /** Whether the process is running. */
    public boolean isRunning() {
        return process.isAlive();
    }

    /**
     * Kills the server with {@code SIGKILL}, as a crash: its connections are reset, its data is gone. Waits
     * until the process has exited.
     */
    public void kill() {
        stop(true);
    }

    /**
     * Starts the server again, empty, on the same port; waits until it accepts connections. The port was this
     * server's a moment ago, so it is free unless another process took it in between, which fails the test.
     */
    public void restart() throws IOException, InterruptedException {
        if (process.isAlive()) {
            throw new IllegalStateException("redis-server is still running on port " + port + " (kill() it first)");
        }
        starts++;
        Path log = logFile(dir, starts);
        Process started = LoopbackPorts.startOn("redis-server", log, ports -> launch(dir, ports[0], log), port);
        if (started == null) {
            throw new AssertionError("port " + port + " was taken while redis-server was down: "
                    + Files.readString(log));
        }
        process = started;
    }

    @Override
    public void close() {
        stop(false);
    }

    private void stop(boolean crash) {
        try {
            if (crash) {
                process.destroyForcibly();
            } else {
                process.destroy();
            }
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new IOException("interrupted while stopping redis-server", e));
        }
    }

    /** Starts redis-server on {@code port}, its output in {@code log}. */
    private static Process launch(Path dir, int port, Path log) throws IOException {
        // No config file: the arguments are the whole configuration. No RDB snapshots and no AOF, so a
        // restart is an empty server and nothing is written but the log.
        List<String> command = List.of("redis-server",
                "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString(),
                "--enable-debug-command", "local", "--daemonize", "no", "--loglevel", "notice");
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static Path logFile(Path dir, int start) {
        return dir.resolve("redis-" + start + ".log");
    }
}
