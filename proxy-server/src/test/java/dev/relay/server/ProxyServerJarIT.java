package dev.relay.server;

import dev.relay.server.testing.RawHttp;
import dev.relay.server.testing.RawHttp.Response;
import dev.relay.server.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The packaged {@code target/proxy-server.jar}, run as a separate process ({@code java -jar}) the way
 * a user runs it. Runs in {@code verify}, after {@code package}.
 */
@Timeout(120)
class ProxyServerJarIT {
    private static final Pattern LISTENING = Pattern.compile("service 'proxy' listening on (\\S+):(\\d+)");

    @TempDir
    Path dir;

    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private Path jar;

    @BeforeEach
    void findJar() {
        String property = System.getProperty("relay.server.jar", "target/proxy-server.jar");
        jar = Path.of(property);
        assertTrue(Files.isRegularFile(jar), "the packaged jar exists: " + jar.toAbsolutePath());
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    /** A running {@code java -jar proxy-server.jar}: its output lines are collected as they come. */
    private final class RelayProcess implements AutoCloseable {
        final Process process;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        final List<String> seen = new ArrayList<>();

        RelayProcess(Map<String, String> env, String... args) throws IOException {
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.add("-Xmx256m");
            command.add("-jar");
            command.add(jar.toAbsolutePath().toString());
            command.addAll(List.of(args));
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
            builder.environment().remove("RELAY_LISTEN");
            builder.environment().putAll(env);
            process = builder.start();
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        lines.add(line);
                    }
                } catch (IOException ignored) {
                    // The process ended.
                }
            }, "relay-output");
            reader.setDaemon(true);
            reader.start();
            cleanup.add(this);
        }

        /** Waits for an output line containing {@code text}, for at most {@code seconds}; returns it. */
        String awaitLine(String text, long seconds) throws InterruptedException {
            return awaitMatch(Pattern.compile(Pattern.quote(text)), seconds).group();
        }

        Matcher awaitMatch(Pattern pattern, long seconds) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            for (String line : seen) {
                Matcher m = pattern.matcher(line);
                if (m.find()) {
                    return m;
                }
            }
            while (true) {
                long left = deadline - System.nanoTime();
                String line = left <= 0 ? null : lines.poll(left, TimeUnit.NANOSECONDS);
                if (line == null) {
                    fail("no output line matching '" + pattern + "' within " + seconds + "s; output so far:\n"
                            + String.join("\n", seen) + "\nalive: " + process.isAlive());
                }
                seen.add(line);
                Matcher m = pattern.matcher(line);
                if (m.find()) {
                    return m;
                }
            }
        }

        /** The proxy's listening address, from its start-up log line. */
        InetSocketAddress awaitListening() throws InterruptedException {
            Matcher m = awaitMatch(LISTENING, 30);
            return new InetSocketAddress(m.group(1), Integer.parseInt(m.group(2)));
        }

        /**
         * Sends SIGTERM. Through the {@link ProcessHandle}: {@link Process#destroy()} sends the same
         * signal but also closes the pipes, and the output after the signal is what the tests read.
         */
        void sigterm() {
            assertTrue(process.toHandle().destroy(), "SIGTERM sent");
        }

        int awaitExit(long seconds) throws InterruptedException {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                fail("the process did not exit within " + seconds + "s; output:\n" + String.join("\n", seen));
            }
            return process.exitValue();
        }

        String output() {
            lines.drainTo(seen);
            return String.join("\n", seen);
        }

        @Override
        public void close() throws InterruptedException {
            if (process.isAlive()) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private TestOrigin origin(String name) throws IOException {
        TestOrigin origin = TestOrigin.start(name);
        cleanup.add(origin);
        return origin;
    }

    private Path conf(String text) throws IOException {
        return Files.writeString(dir.resolve("relay.conf"), text);
    }

    @Test
    void roundRobinsBetweenTwoOriginsFromAConfigFile() throws Exception {
        TestOrigin a = origin("a");
        TestOrigin b = origin("b");
        Path file = conf("""
                proxy {
                  listeners = [ { address = "127.0.0.1:0" } ]
                  upstreams {
                    web {
                      backends = [ "%s", "%s" ]
                      selection = round-robin
                      tls = false
                    }
                  }
                  routes = [ { upstream = web } ]
                }
                """.formatted(a.address(), b.address()));
        RelayProcess relay = new RelayProcess(Map.of(), "-c", file.toString());
        InetSocketAddress proxy = relay.awaitListening();

        List<String> served = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Response r = RawHttp.get(proxy, "site.test", "/" + i);
            assertEquals(200, r.status(), relay.output());
            assertEquals(r.header("X-Origin") + " /" + i, r.body());
            served.add(r.header("X-Origin"));
        }
        assertNotEquals(served.get(0), served.get(1));
        assertEquals(List.of(served.get(0), served.get(1), served.get(0), served.get(1)), served);
        assertFalse(relay.output().contains("demo origin"), "a file with upstreams starts no demo origin");

        relay.sigterm();
        assertEquals(0, relay.awaitExit(30));
    }

    @Test
    void sigtermDrainsARequestInFlightThenExitsWithZero() throws Exception {
        TestOrigin slow = origin("slow");
        Path file = conf("""
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  server.grace-period = 30s
                  upstreams { web { backends = [ "%s" ] } }
                }
                """.formatted(slow.address()));
        RelayProcess relay = new RelayProcess(Map.of(), "--conf", file.toString());
        InetSocketAddress proxy = relay.awaitListening();

        slow.holdResponses();
        CompletableFuture<Response> inFlight = CompletableFuture.supplyAsync(() -> {
            try {
                return RawHttp.get(proxy, "site.test", "/slow");
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        assertTrue(slow.awaitHeldRequest(15), "the request reached the origin");

        relay.sigterm();
        relay.awaitLine("SIGTERM: shutting down gracefully", 15);
        relay.awaitLine("stopped accepting", 15);
        assertThrows(ConnectException.class, () -> new Socket(proxy.getAddress(), proxy.getPort()).close(),
                "new connections are refused while draining");
        assertTrue(relay.process.isAlive(), "the process waits for the request in flight");
        assertFalse(inFlight.isDone());

        slow.releaseResponses();
        Response response = inFlight.get(15, TimeUnit.SECONDS);
        assertEquals(200, response.status());
        assertEquals("slow /slow", response.body());
        assertEquals(0, relay.awaitExit(30), relay.output());
    }

    @Test
    void withoutArgumentsTheBundledDemoAlternatesBetweenDemoOrigins() throws Exception {
        // RELAY_LISTEN (a substitution in the bundled file) moves the listener off 6188 for the test.
        RelayProcess relay = new RelayProcess(Map.of("RELAY_LISTEN", "127.0.0.1:0"));
        InetSocketAddress proxy = relay.awaitListening();

        Response first = RawHttp.get(proxy, "localhost", "/");
        Response second = RawHttp.get(proxy, "localhost", "/");
        assertEquals(200, first.status(), relay.output());
        assertEquals("Hello from demo origin 1\n", first.body());
        assertEquals("1", first.header("X-Demo-Origin"));
        assertEquals(200, second.status());
        assertEquals("Hello from demo origin 2\n", second.body());
        assertEquals("2", second.header("X-Demo-Origin"));
        assertNotNull(relay.awaitLine("demo origin 2 listening on", 5));

        relay.sigterm();
        assertEquals(0, relay.awaitExit(30), relay.output());
    }

    @Test
    void testOptionValidatesAFileAndExits() throws Exception {
        Path good = conf("""
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  upstreams { web { backends = [ "127.0.0.1:9001" ], selection = random } }
                }
                """);
        RelayProcess ok = new RelayProcess(Map.of(), "-t", "-c", good.toString());
        assertEquals(0, ok.awaitExit(30));
        assertTrue(ok.output().contains("configuration file " + good + " test is successful"), ok.output());

        Path bad = Files.writeString(dir.resolve("bad.conf"), Files.readString(good).replace("random", "foo"));
        RelayProcess failed = new RelayProcess(Map.of(), "-t", "-c", bad.toString());
        assertEquals(1, failed.awaitExit(30));
        assertTrue(failed.output().contains(bad + ":3: key 'proxy.upstreams.web.selection': unknown value 'foo' "
                + "(expected: round-robin or random)"), failed.output());
    }

    @Test
    void aListenerThatCannotBeBoundIsReportedWithItsLineAndExitsWithOne() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Path file = conf("""
                    proxy {
                      listeners = [ "127.0.0.1:%d" ]
                      upstreams { web { backends = [ "127.0.0.1:9001" ] } }
                    }
                    """.formatted(taken.getLocalPort()));
            RelayProcess relay = new RelayProcess(Map.of(), "-c", file.toString());

            assertEquals(1, relay.awaitExit(30));
            assertTrue(relay.output().contains(file + ":2: key 'proxy.listeners[0].address': cannot listen on 127.0.0.1:"
                    + taken.getLocalPort() + ":"), relay.output());
        }
    }
}
