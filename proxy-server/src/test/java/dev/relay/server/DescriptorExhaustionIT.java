package dev.relay.server;

import dev.relay.server.testing.Origins;
import dev.relay.testing.Await;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The packaged jar out of file descriptors: started under {@code prlimit --nofile=64}, then held by
 * more idle client connections than it can accept. Accepting pauses a second at a time with one
 * warning per pause, the process stays off the CPU (a spin check with a generous bound, not a speed
 * target), and once the idle clients leave a request is served again.
 */
@Timeout(120)
class DescriptorExhaustionIT {
    private static final Pattern LISTENING = Pattern.compile("service 'proxy' listening on (\\S+):(\\d+)");
    private static final String PAUSED = "paused for 1 s";
    private static final int DESCRIPTORS = 64;
    private static final int IDLE_CLIENTS = 100;

    @TempDir
    Path dir;

    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    /**
     * Both native transports; io_uring only since multishot accept is off ({@code TransportRuntime}):
     * with it, Netty 4.2.18 spun at a full core here.
     */
    @ParameterizedTest
    @ValueSource(strings = {"epoll", "io_uring"})
    void listenerPausesAcceptingWithoutSpinningAndServesAgainOnceDescriptorsAreBack(String transport) throws Exception {
        // A kernel or container without the transport (io_uring is often off in containers) has nothing to test.
        assumeTrue(transport.equals("epoll") ? io.netty.channel.epoll.Epoll.isAvailable()
                : io.netty.channel.uring.IoUring.isAvailable(), transport + " is not available here");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/prlimit")) || Files.isExecutable(Path.of("/bin/prlimit")),
                "prlimit (util-linux) is not installed");
        Exhausted run = exhaust(transport);
        assertTrue(run.output().stream().anyMatch(line -> line.contains("transport " + transport + ",")),
                "not on " + transport + ":\n" + String.join("\n", run.output()));
        // Spinning, this was a core's worth; paused, it is next to nothing.
        assertTrue(run.cpuSeconds() < 1.0, "CPU seconds over 5 s while out of descriptors: " + run.cpuSeconds());
        run.assertOnePausePerSecondAndServedAgain();
    }

    private record Exhausted(double cpuSeconds, long pausedSeconds, List<String> output, int statusAfter,
                             long pauseLines) {
        void assertOnePausePerSecondAndServedAgain() {
            assertTrue(pauseLines >= 1, "no pause was logged:\n" + String.join("\n", output));
            assertTrue(pauseLines <= pausedSeconds + 2, pauseLines + " pause lines in " + pausedSeconds + " s");
            assertTrue(output.stream().noneMatch(line -> line.contains("reached at the tail of the pipeline")),
                    "the accept failure ended in the pipeline's tail:\n" + String.join("\n", output));
            assertEquals(200, statusAfter, String.join("\n", output));
        }
    }

    private Exhausted exhaust(String transport) throws Exception {
        TestOrigin origin = Origins.start("origin");
        cleanup.add(origin);
        Path conf = Files.writeString(dir.resolve("relay.conf"), """
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  server { transport = %s, upgrade-socket = none, access-log = false }
                  upstreams { web { backends = [ "%s" ] } }
                }
                """.formatted(transport, origin.address()));
        String jar = Path.of(System.getProperty("relay.server.jar", "target/proxy-server.jar")).toAbsolutePath().toString();
        // prlimit sets the limit and then executes java: the process is the proxy's.
        Process process = new ProcessBuilder("prlimit", "--nofile=" + DESCRIPTORS + ":" + DESCRIPTORS,
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-jar", jar,
                "-c", conf.toString()).redirectErrorStream(true).start();
        cleanup.add(() -> {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        });
        List<String> output = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    output.add(line);
                }
            } catch (IOException ignored) {
                // The process ended.
            }
        }, "relay-output");
        reader.setDaemon(true);
        reader.start();
        InetSocketAddress proxy = awaitListening(output);
        assertEquals(200, RawHttpConnection.get(proxy, "site.test", "/").status(), String.join("\n", output));

        List<Socket> idle = new ArrayList<>();
        long start = System.nanoTime();
        try {
            for (int i = 0; i < IDLE_CLIENTS; i++) {
                // The kernel completes each handshake into the backlog whether the proxy accepts or not.
                Socket socket = new Socket();
                socket.connect(proxy, 5000);
                idle.add(socket);
            }
            Await.until(() -> output.stream().anyMatch(line -> line.contains(PAUSED)), Duration.ofSeconds(20),
                    () -> "accepting never paused:\n" + String.join("\n", output));
            double before = cpuSeconds(process.pid());
            Thread.sleep(5000);
            double cpu = cpuSeconds(process.pid()) - before;
            for (Socket socket : idle) {
                socket.close();
            }
            idle.clear();
            int[] status = new int[1];
            Await.until(() -> {
                try {
                    status[0] = RawHttpConnection.get(proxy, "site.test", "/").status();
                    return status[0] == 200;
                } catch (IOException e) {
                    return false;
                }
            }, Duration.ofSeconds(30), () -> "no request was served after the idle clients left:\n"
                    + String.join("\n", output));
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
            long pauseLines = output.stream().filter(line -> line.contains(PAUSED)).count();
            return new Exhausted(cpu, seconds, List.copyOf(output), status[0], pauseLines);
        } finally {
            for (Socket socket : idle) {
                socket.close();
            }
        }
    }

    private static InetSocketAddress awaitListening(List<String> output) {
        Matcher[] found = new Matcher[1];
        Await.until(() -> output.stream().map(LISTENING::matcher).filter(Matcher::find).peek(m -> found[0] = m)
                .findFirst().isPresent(), Duration.ofSeconds(30), () -> "not listening:\n" + String.join("\n", output));
        return new InetSocketAddress(found[0].group(1), Integer.parseInt(found[0].group(2)));
    }

    /** User plus system CPU time of process {@code pid}, from {@code /proc/PID/stat} (in clock ticks, 100 a second). */
    private static double cpuSeconds(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / 100.0;
    }
}
