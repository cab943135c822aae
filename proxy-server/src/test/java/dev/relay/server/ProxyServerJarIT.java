package dev.relay.server;

import dev.relay.server.testing.Origins;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.RawHttpConnection.Response;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
            this(env, List.of("-jar", jar.toAbsolutePath().toString()), args);
        }

        /** {@code java LAUNCH ARGS}, where LAUNCH is {@code -jar JAR} or {@code -cp PATH MAINCLASS}. */
        RelayProcess(Map<String, String> env, List<String> launch, String... args) throws IOException {
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.add("-Xmx256m");
            command.addAll(launch);
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

        void signal(String name) throws IOException, InterruptedException {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
            assertEquals(0, kill.waitFor(), "kill -" + name);
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
        TestOrigin origin = Origins.start(name);
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
            Response r = RawHttpConnection.get(proxy, "site.test", "/" + i);
            assertEquals(200, r.status(), relay.output());
            assertEquals(r.header("X-Origin") + " /" + i, r.bodyText());
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
                  admin.address = "127.0.0.1:0"
                  server { grace-period = 30s, upgrade-socket = none }
                  upstreams { web { backends = [ "%s" ] } }
                }
                """.formatted(slow.address()));
        RelayProcess relay = new RelayProcess(Map.of(), "--conf", file.toString());
        InetSocketAddress proxy = relay.awaitListening();
        Matcher adminLine = relay.awaitMatch(Pattern.compile("admin listening on (\\S+):(\\d+)"), 30);
        InetSocketAddress admin = new InetSocketAddress(adminLine.group(1), Integer.parseInt(adminLine.group(2)));
        assertEquals(200, RawHttpConnection.get(admin, "admin", "/ready").status());

        slow.holdResponses();
        CompletableFuture<Response> inFlight = CompletableFuture.supplyAsync(() -> {
            try {
                return RawHttpConnection.get(proxy, "site.test", "/slow");
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        slow.awaitHeldResponses(1, Duration.ofSeconds(15));

        relay.sigterm();
        relay.awaitLine("SIGTERM: shutting down gracefully", 15);
        relay.awaitLine("stopped accepting", 15);
        assertThrows(ConnectException.class, () -> new Socket(proxy.getAddress(), proxy.getPort()).close(),
                "new connections are refused while draining");
        assertTrue(relay.process.isAlive(), "the process waits for the request in flight");
        assertEquals(503, RawHttpConnection.get(admin, "admin", "/ready").status(), "not ready while draining");
        assertFalse(inFlight.isDone());

        slow.releaseResponses();
        Response response = inFlight.get(15, TimeUnit.SECONDS);
        assertEquals(200, response.status());
        assertEquals("slow /slow", response.bodyText());
        assertEquals(0, relay.awaitExit(30), relay.output());
    }

    @Test
    void theAccessLogGoesToStandardOutputAndSigtermWritesEveryLineFirst() throws Exception {
        TestOrigin origin = origin("o");
        Path file = conf("""
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  server { upgrade-socket = none }
                  upstreams { web { backends = [ "%s" ] } }
                }
                """.formatted(origin.address()));
        RelayProcess relay = new RelayProcess(Map.of(), "-c", file.toString());
        InetSocketAddress proxy = relay.awaitListening();
        int requests = 100;
        for (int i = 0; i < requests; i++) {
            assertEquals(200, RawHttpConnection.get(proxy, "site.test", "/n/" + i).status(), relay.output());
        }
        // Straight away: the lines still queued (the writer batches every 10 ms) go out before the exit.
        relay.sigterm();
        assertEquals(0, relay.awaitExit(30), relay.output());
        for (int i = 0; i < requests; i++) {
            relay.awaitMatch(Pattern.compile("^127\\.0\\.0\\.1 - - \\[[^]]+] \"GET /n/" + i + " HTTP/1\\.1\" 200 "), 10);
        }
    }

    @Test
    void sighupReopensTheAccessLogFileThatLogrotateRenamed() throws Exception {
        TestOrigin origin = origin("o");
        Path log = dir.resolve("access.log");
        Path file = conf("""
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  server { upgrade-socket = none, access-log-path = "%s" }
                  upstreams { web { backends = [ "%s" ] } }
                }
                """.formatted(log, origin.address()));
        RelayProcess relay = new RelayProcess(Map.of(), "-c", file.toString());
        InetSocketAddress proxy = relay.awaitListening();
        assertEquals(200, RawHttpConnection.get(proxy, "site.test", "/before").status());
        Path rotated = dir.resolve("access.log.1");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.readString(log).contains("/before") && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        Files.move(log, rotated);

        relay.signal("HUP");
        relay.awaitLine("configuration reloaded", 30);
        assertEquals(200, RawHttpConnection.get(proxy, "site.test", "/after").status());
        relay.sigterm();
        assertEquals(0, relay.awaitExit(30), relay.output());
        assertTrue(Files.readString(rotated).matches("(?s)[^\\n]*\"GET /before HTTP/1\\.1\" 200 [^\\n]*\\n"), Files.readString(rotated));
        assertTrue(Files.readString(log).matches("(?s)[^\\n]*\"GET /after HTTP/1\\.1\" 200 [^\\n]*\\n"), Files.readString(log));
    }

    @Test
    void withoutArgumentsTheBundledDemoAlternatesBetweenDemoOrigins() throws Exception {
        // RELAY_LISTEN (a substitution in the bundled file) moves the listener off 6188 for the test.
        RelayProcess relay = new RelayProcess(Map.of("RELAY_LISTEN", "127.0.0.1:0"));
        InetSocketAddress proxy = relay.awaitListening();

        Response first = RawHttpConnection.get(proxy, "localhost", "/");
        Response second = RawHttpConnection.get(proxy, "localhost", "/");
        assertEquals(200, first.status(), relay.output());
        assertEquals("Hello from demo origin 1\n", first.bodyText());
        assertEquals("1", first.header("X-Demo-Origin"));
        assertEquals(200, second.status());
        assertEquals("Hello from demo origin 2\n", second.bodyText());
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
                + "(expected: round-robin, random, fnv, ketama, maglev, least-connections or peak-ewma)"), failed.output());
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

    private static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Compiles a FilterProvider {@code stamp} (sets {@code X-Stamp: VALUE}) with javax.tools and jars it. */
    private Path buildFilterJar() throws IOException {
        Path src = dir.resolve("filter-src/com/example/filters/StampProvider.java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, """
                package com.example.filters;

                import dev.relay.core.FilterProvider;
                import dev.relay.core.FilterSettings;
                import dev.relay.core.HttpModule;
                import dev.relay.core.HttpModuleFactory;
                import dev.relay.core.ResponseHeader;
                import dev.relay.core.Session;

                public final class StampProvider implements FilterProvider {
                    public String name() { return "stamp"; }
                    public HttpModuleFactory create(FilterSettings settings) {
                        String value = settings.getString("value").orElseThrow(() ->
                                new FilterSettings.InvalidSettingException("value", "missing (expected: a text value)"));
                        return new HttpModuleFactory() {
                            public String name() { return "stamp"; }
                            public HttpModule newModule() {
                                return new HttpModule() {
                                    public void responseHeaderFilter(Session s, ResponseHeader r, boolean end) {
                                        r.headers().set("X-Stamp", value);
                                    }
                                };
                            }
                        };
                    }
                }
                """);
        Path classes = Files.createDirectories(dir.resolve("filter-classes"));
        javax.tools.JavaCompiler compiler = javax.tools.ToolProvider.getSystemJavaCompiler();
        java.io.ByteArrayOutputStream diagnostics = new java.io.ByteArrayOutputStream();
        int rc = compiler.run(null, diagnostics, diagnostics, "--release", "17", "-classpath",
                jar.toAbsolutePath().toString(), "-d", classes.toString(), src.toString());
        assertEquals(0, rc, diagnostics.toString());
        Path filterJar = dir.resolve("stamp-filter.jar");
        try (java.util.jar.JarOutputStream out = new java.util.jar.JarOutputStream(Files.newOutputStream(filterJar))) {
            out.putNextEntry(new java.util.jar.JarEntry("META-INF/services/dev.relay.core.FilterProvider"));
            out.write("com.example.filters.StampProvider\n".getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
            List<Path> files;
            try (var walk = Files.walk(classes)) {
                files = walk.filter(Files::isRegularFile).toList();
            }
            for (Path f : files) {
                out.putNextEntry(new java.util.jar.JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                out.write(Files.readAllBytes(f));
                out.closeEntry();
            }
        }
        return filterJar;
    }

    @Test
    void aFilterJarOnTheClasspathMakesItsFilterAvailableByName() throws Exception {
        TestOrigin a = origin("a");
        Path filterJar = buildFilterJar();
        List<String> withFilter = List.of("-cp", jar.toAbsolutePath() + java.io.File.pathSeparator + filterJar,
                "dev.relay.server.Main");
        Path file = conf("""
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  server.upgrade-socket = none
                  upstreams { web { backends = [ "%s" ] } }
                  filters = [ { name = stamp, value = from-a-jar } ]
                }
                """.formatted(a.address()));

        RelayProcess without = new RelayProcess(Map.of(), "-t", "-c", file.toString());
        assertEquals(1, without.awaitExit(30));
        assertTrue(without.output().contains(file + ":5: key 'proxy.filters[0].name': unknown filter 'stamp'"),
                without.output());

        Path bad = Files.writeString(dir.resolve("bad.conf"), Files.readString(file).replace(", value = from-a-jar", ""));
        RelayProcess badTest = new RelayProcess(Map.of(), withFilter, "-t", "-c", bad.toString());
        assertEquals(1, badTest.awaitExit(30));
        assertTrue(badTest.output().contains(bad + ":5: key 'proxy.filters[0].value': missing (expected: a text value)"),
                badTest.output());

        RelayProcess test = new RelayProcess(Map.of(), withFilter, "-t", "-c", file.toString());
        assertEquals(0, test.awaitExit(30), test.output());

        RelayProcess relay = new RelayProcess(Map.of(), withFilter, "-c", file.toString());
        Response r = RawHttpConnection.get(relay.awaitListening(), "site.test", "/");
        assertEquals(200, r.status(), relay.output());
        assertEquals("from-a-jar", r.header("X-Stamp"));
        relay.sigterm();
        assertEquals(0, relay.awaitExit(30));
    }

    @Test
    void sighupReloadsTheConfigurationFile() throws Exception {
        TestOrigin a = origin("a");
        TestOrigin b = origin("b");
        int port = freePort();
        String template = """
                proxy {
                  listeners = [ "127.0.0.1:%d" ]
                  server.upgrade-socket = none
                  upstreams { web { backends = [ "%s" ] } }
                }
                """;
        Path file = conf(template.formatted(port, a.address()));
        RelayProcess relay = new RelayProcess(Map.of(), "-c", file.toString());
        InetSocketAddress proxy = relay.awaitListening();
        assertEquals("a /", RawHttpConnection.get(proxy, "site.test", "/").bodyText());

        Files.writeString(file, template.formatted(port, b.address()));
        relay.signal("HUP");
        relay.awaitLine("SIGHUP: configuration reloaded (generation 2)", 30);
        assertEquals("b /", RawHttpConnection.get(proxy, "site.test", "/").bodyText());

        Files.writeString(file, template.formatted(port, b.address()).replace("backends", "backendz"));
        relay.signal("HUP");
        relay.awaitLine("SIGHUP: configuration rejected, the running one stays (generation 2): " + file + ":4:", 30);
        assertEquals("b /", RawHttpConnection.get(proxy, "site.test", "/").bodyText());
        relay.sigterm();
        assertEquals(0, relay.awaitExit(30));
    }

    @Test
    void anUpgradeHandsTheSocketsToANewProcessWhileAClientKeepsSending() throws Exception {
        // The shipped default: auto is io_uring, with upgrades on.
        upgradeUnderLoad("auto", "auto");
    }

    /**
     * From a process on epoll (what auto meant with upgrades on before io_uring could adopt a
     * listener: the first upgrade after updating) to one on io_uring, and back, as a rollback would.
     */
    @ParameterizedTest(name = "{0} to {1}")
    @CsvSource({"epoll, auto", "auto, epoll"})
    void anUpgradeBetweenEpollAndIoUringLosesNoRequest(String from, String to) throws Exception {
        upgradeUnderLoad(from, to);
    }

    @Test
    void anUpgradeToANioProcessFailsAndTheRunningOneServesOnAndTakesTheNextUpgrade() throws Exception {
        TestOrigin a = origin("a");
        int port = freePort();
        String config = """
                proxy {
                  listeners = [ "127.0.0.1:%d" ]
                  server { upgrade-socket = "%s", pid-file = "%s", grace-period = 10s, access-log = false, transport = %s }
                  upstreams { web { backends = [ "%s" ] } }
                }
                """;
        Path file = conf(config.formatted(port, dir.resolve("upgrade.sock"), dir.resolve("relay.pid"), "auto", a.address()));
        RelayProcess old = new RelayProcess(Map.of(), "-c", file.toString());
        old.awaitLine("written to " + dir.resolve("relay.pid"), 30);
        InetSocketAddress proxy = new InetSocketAddress("127.0.0.1", port);

        // NIO has no descriptors: the new process cannot take the sockets, gives up, and the old one stays.
        conf(config.formatted(port, dir.resolve("upgrade.sock"), dir.resolve("relay.pid"), "nio", a.address()));
        RelayProcess nio = new RelayProcess(Map.of(), "-c", file.toString(), "--upgrade");
        assertEquals(1, nio.awaitExit(60), nio.output());
        assertTrue(nio.output().contains("cannot adopt a listening socket (expected: io_uring or epoll)"), nio.output());
        old.awaitLine("upgrade: handoff abandoned, this process keeps serving", 30);
        assertEquals(200, RawHttpConnection.get(proxy, "site.test", "/").status());

        conf(config.formatted(port, dir.resolve("upgrade.sock"), dir.resolve("relay.pid"), "auto", a.address()));
        RelayProcess next = new RelayProcess(Map.of(), "-c", file.toString(), "--upgrade");
        next.awaitLine("upgrade complete", 60);
        assertEquals(0, old.awaitExit(30), old.output());
        assertEquals(200, RawHttpConnection.get(proxy, "site.test", "/").status());
        next.sigterm();
        assertEquals(0, next.awaitExit(30));
    }

    /**
     * Starts a process with {@code transport = from}, keeps a client sending, upgrades to a process
     * with {@code transport = to}, and checks that every request got a 200 and that each process ran
     * the transport it was given.
     */
    private void upgradeUnderLoad(String from, String to) throws Exception {
        TestOrigin a = origin("a");
        int port = freePort();
        int adminPort = freePort();
        String config = """
                proxy {
                  listeners = [ "127.0.0.1:%d" ]
                  admin.address = "127.0.0.1:%d"
                  server { upgrade-socket = "%s", pid-file = "%s", grace-period = 10s, access-log = false, transport = %s }
                  upstreams { web { backends = [ "%s" ] } }
                }
                """;
        Path file = conf(config.formatted(port, adminPort, dir.resolve("upgrade.sock"), dir.resolve("relay.pid"), from,
                a.address()));
        RelayProcess old = new RelayProcess(Map.of(), "-c", file.toString());
        old.awaitLine("server bootstrapped: transport " + resolved(from) + ",", 30);
        old.awaitLine("written to " + dir.resolve("relay.pid"), 30);
        InetSocketAddress proxy = new InetSocketAddress("127.0.0.1", port);
        InetSocketAddress admin = new InetSocketAddress("127.0.0.1", adminPort);
        assertEquals(old.process.pid() + "", Files.readString(dir.resolve("relay.pid")).trim());

        dev.relay.server.testing.LoadClient load = new dev.relay.server.testing.LoadClient(() -> proxy, "site.test", "/", 4);
        cleanup.add(load);
        awaitServed(load, 200);

        conf(config.formatted(port, adminPort, dir.resolve("upgrade.sock"), dir.resolve("relay.pid"), to, a.address()));
        RelayProcess next = new RelayProcess(Map.of(), "-c", file.toString(), "--upgrade");
        next.awaitLine("server bootstrapped: transport " + resolved(to) + ",", 30);
        next.awaitLine("service 'proxy' listening on 127.0.0.1:" + port + " (socket taken over from the previous process)", 60);
        next.awaitLine("upgrade complete", 60);
        next.awaitLine("written to " + dir.resolve("relay.pid"), 30);
        assertEquals(0, old.awaitExit(30), old.output());
        assertTrue(old.output().contains("this one stops accepting and drains"), old.output());
        long before = load.ok();
        awaitServed(load, before + 200);
        load.close();

        assertEquals(0, load.errorCount(), "errors: " + load.errors());
        assertEquals(next.process.pid() + "", Files.readString(dir.resolve("relay.pid")).trim());
        assertEquals(200, RawHttpConnection.get(admin, "admin", "/ready").status());
        assertTrue(Files.exists(dir.resolve("upgrade.sock")), "the new process listens for the next upgrade");
        next.sigterm();
        assertEquals(0, next.awaitExit(30));
    }

    /** The transport {@code transport} resolves to on this machine, as the server logs it. */
    private static String resolved(String transport) {
        if (!transport.equals("auto")) {
            return transport;
        }
        return io.netty.channel.uring.IoUring.isAvailable() ? "io_uring"
                : io.netty.channel.epoll.Epoll.isAvailable() ? "epoll" : "nio";
    }

    @Test
    void anUpgradeRecreatesAUnixListenerThatKeepsServing() throws Exception {
        TestOrigin a = origin("a");
        int port = freePort();
        Path socket = dir.resolve("http.sock");
        Path file = conf("""
                proxy {
                  listeners = [ "127.0.0.1:%d", { address = "unix:http.sock", mode = "0600" } ]
                  server { upgrade-socket = "%s", pid-file = "%s", grace-period = 10s, access-log = false }
                  upstreams { web { backends = [ "%s" ] } }
                }
                """.formatted(port, dir.resolve("upgrade.sock"), dir.resolve("relay.pid"), a.address()));
        RelayProcess old = new RelayProcess(Map.of(), "-c", file.toString());
        old.awaitLine("written to " + dir.resolve("relay.pid"), 30);
        assertTrue(unixGet(socket).startsWith("HTTP/1.1 200"), "the old process serves the socket");

        RelayProcess next = new RelayProcess(Map.of(), "-c", file.toString(), "--upgrade");
        next.awaitLine("upgrade complete", 60);
        assertEquals(0, old.awaitExit(30), old.output());

        assertTrue(Files.exists(socket), "the old process's exit leaves the new socket file");
        assertTrue(unixGet(socket).startsWith("HTTP/1.1 200"), "the new process serves the socket");
        next.sigterm();
        assertEquals(0, next.awaitExit(30));
        assertFalse(Files.exists(socket), "the socket file is removed at exit");
    }

    /** {@code GET /} with {@code Connection: close} on the unix socket at {@code path}: the whole answer. */
    private static String unixGet(Path path) throws IOException {
        try (java.nio.channels.SocketChannel channel = java.nio.channels.SocketChannel.open(
                java.net.UnixDomainSocketAddress.of(path))) {
            channel.write(java.nio.ByteBuffer.wrap("GET / HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1)));
            // Bounded by the class timeout: the proxy closes after its answer.
            return new String(java.nio.channels.Channels.newInputStream(channel).readAllBytes(),
                    StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void anUpgradeHandsStreamListenersOverWhileAStreamKeepsRelayingOnTheOldProcess() throws Exception {
        int echo = echoBackend();
        int port = freePort();
        int streamPort = freePort();
        Path file = conf("""
                proxy {
                  listeners = [ "127.0.0.1:%d" ]
                  server { upgrade-socket = "%s", pid-file = "%s", grace-period = 20s, access-log = false }
                  upstreams { echo { backends = [ "127.0.0.1:%d" ] } }
                  streams = [ { name = echo, address = "127.0.0.1:%d", upstream = echo } ]
                }
                """.formatted(port, dir.resolve("upgrade.sock"), dir.resolve("relay.pid"), echo, streamPort));
        RelayProcess old = new RelayProcess(Map.of(), "-c", file.toString());
        old.awaitLine("written to " + dir.resolve("relay.pid"), 30);
        InetSocketAddress stream = new InetSocketAddress("127.0.0.1", streamPort);

        try (Socket onOld = new Socket()) {
            onOld.connect(stream, 5000);
            onOld.setSoTimeout(10_000);
            assertEquals("one", echoed(onOld, "one"));

            RelayProcess next = new RelayProcess(Map.of(), "-c", file.toString(), "--upgrade");
            next.awaitLine("stream service 'echo' listening on 127.0.0.1:" + streamPort
                    + " (socket taken over from the previous process)", 60);
            next.awaitLine("upgrade complete", 60);
            old.awaitLine("this one stops accepting and drains", 30);

            // The old process still relays its connection while the new one accepts the next.
            assertEquals("two", echoed(onOld, "two"));
            try (Socket onNew = new Socket()) {
                onNew.connect(stream, 5000);
                onNew.setSoTimeout(10_000);
                assertEquals("three", echoed(onNew, "three"));
            }
            assertTrue(old.process.isAlive(), "the old process waits for its stream connection");
            assertEquals("four", echoed(onOld, "four"));
            onOld.close();
            assertEquals(0, old.awaitExit(30), old.output());

            try (Socket afterOld = new Socket()) {
                afterOld.connect(stream, 5000);
                afterOld.setSoTimeout(10_000);
                assertEquals("five", echoed(afterOld, "five"));
            }
            next.sigterm();
            assertEquals(0, next.awaitExit(30), next.output());
        }
    }

    /** Writes {@code text} and reads as many bytes back. */
    private static String echoed(Socket socket, String text) throws IOException {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        return new String(socket.getInputStream().readNBytes(text.length()), StandardCharsets.US_ASCII);
    }

    /** A loopback TCP server (in this JVM) that echoes every connection until it closes; returns its port. */
    private int echoBackend() throws IOException {
        java.net.ServerSocket server = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        cleanup.add(server);
        Thread acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Thread t = new Thread(() -> {
                        try (s) {
                            s.getInputStream().transferTo(s.getOutputStream());
                        } catch (IOException ignored) {
                            // The peer went away.
                        }
                    }, "echo-connection");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException closed) {
                    return;
                }
            }
        }, "echo-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        return server.getLocalPort();
    }

    private static void awaitServed(dev.relay.server.testing.LoadClient load, long count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (load.ok() < count && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(load.ok() >= count, "served " + load.ok() + " (expected: " + count + "); errors " + load.errors());
    }
}
