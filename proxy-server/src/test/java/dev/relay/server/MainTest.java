package dev.relay.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(30)
class MainTest {
    private static final String GOOD = """
            proxy {
              listeners = [ { address = "127.0.0.1:6188" } ]
              upstreams {
                web {
                  backends = [ "127.0.0.1:9001", "127.0.0.1:9002" ]
                  selection = round-robin
                }
              }
              routes = [ { upstream = web } ]
            }
            """;

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void theServerProcessSamplesNoBuffersForLeaksUnlessTheUserChoseALevel() {
        // Netty read its level (PARANOID, from the build) when it loaded: changing the property here
        // changes nothing for the running tests; it is restored all the same.
        assertSetUnlessTheUserChose(Main.LEAK_DETECTION, Main::sampleNoBuffersForLeaks, "disabled", "simple");
    }

    @Test
    void theServerProcessChoosesNettysPooledAllocatorUnlessTheUserChoseOne() {
        // Read by Netty when its allocator loads (the tests' choice is made by then): restored all the same.
        assertSetUnlessTheUserChose(Main.ALLOCATOR_TYPE, Main::preferPooledBuffers, "pooled", "adaptive");
    }

    @Test
    void theServerProcessKeepsNettysAllocatorOutOfItsLowMemoryModeUnlessTheUserChose() {
        assertSetUnlessTheUserChose(Main.ALLOCATOR_LOW_MEMORY, Main::keepPerThreadBufferCaches, "false", "true");
    }

    @Test
    void theServerProcessLeavesNettysBufferEventsOutOfFlightRecorderUnlessTheUserAskedForThem() {
        assertSetUnlessTheUserChose(Main.NETTY_JFR, Main::leaveBufferEventsOutOfFlightRecorder, "false", "true");
    }

    /** {@code setting} sets {@code property} to {@code ours} when unset and keeps {@code theirs}; the property is restored. */
    private static void assertSetUnlessTheUserChose(String property, Runnable setting, String ours, String theirs) {
        String before = System.getProperty(property);
        try {
            System.clearProperty(property);
            setting.run();
            assertEquals(ours, System.getProperty(property));

            System.setProperty(property, theirs);
            setting.run();
            assertEquals(theirs, System.getProperty(property));
        } finally {
            if (before == null) {
                System.clearProperty(property);
            } else {
                System.setProperty(property, before);
            }
        }
    }

    @Test
    void testOfAValidFileSucceeds() throws IOException {
        Path file = Files.writeString(dir.resolve("relay.conf"), GOOD);

        assertEquals(0, run("-t", "-c", file.toString()));
        assertEquals("configuration file " + file + " test is successful" + System.lineSeparator(), out());
        assertEquals("", err());
    }

    @Test
    void longOptionsWork() throws IOException {
        Path file = Files.writeString(dir.resolve("relay.conf"), GOOD);

        assertEquals(0, run("--conf", file.toString(), "--test"));
        assertEquals(0, run("--conf=" + file, "--test"));
    }

    @Test
    void testOfAnInvalidFileNamesFileLineAndKey() throws IOException {
        Path file = Files.writeString(dir.resolve("relay.conf"), GOOD.replace("round-robin", "foo"));

        assertEquals(1, run("-c", file.toString(), "-t"));
        assertEquals("", out());
        assertEquals(file + ":6: key 'proxy.upstreams.web.selection': unknown value 'foo' (expected: round-robin, random, fnv, ketama, maglev, least-connections or peak-ewma)"
                + System.lineSeparator() + "configuration file " + file + " test failed" + System.lineSeparator(), err());
    }

    @Test
    void testOfAMissingFileFails() {
        Path file = dir.resolve("missing.conf");

        assertEquals(1, run("-t", "-c", file.toString()));
        assertTrue(err().startsWith(file + ": cannot read the file: no such file"), err());
    }

    @Test
    void testWithoutAFileChecksTheBundledDefault() {
        assertEquals(0, run("-t"));
        assertEquals("configuration file relay-default.conf (bundled) test is successful" + System.lineSeparator(), out());
    }

    @Test
    void helpPrintsUsage() {
        assertEquals(0, run("-h"));
        assertTrue(out().startsWith("Usage: "), out());
        assertTrue(out().contains("--conf FILE"), out());
    }

    @Test
    void aWrongCommandLineExitsWithTwo() {
        assertEquals(2, run("--bogus"));
        assertTrue(err().startsWith("relay: unknown argument '--bogus'"), err());
        assertEquals(2, run("-c"));
        assertTrue(err().contains("option -c needs a file name"), err());
    }

    @Test
    void anInvalidFileWithoutTestAlsoExitsWithOne() throws IOException {
        Path file = Files.writeString(dir.resolve("relay.conf"), GOOD.replace("upstream = web", "upstream = api"));

        assertEquals(1, run("-c", file.toString()));
        assertEquals(file + ":9: key 'proxy.routes[0].upstream': unknown upstream 'api' (expected: web)"
                + System.lineSeparator(), err());
    }
}
