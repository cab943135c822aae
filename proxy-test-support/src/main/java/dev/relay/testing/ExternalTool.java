package dev.relay.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs a command-line tool a test talks to (curl, openssl) with a bounded wait, capturing its output;
 * a test that needs a tool which is not installed is skipped, not failed.
 *
 * <pre>{@code
 * ExternalTool.Result r = ExternalTool.run(Duration.ofSeconds(10), "curl", "-s", url);
 * assertEquals(0, r.exitCode(), r.stderr());
 * }</pre>
 */
public final class ExternalTool {
    private ExternalTool() {}

    /** What a run printed and how it ended. */
    public record Result(int exitCode, String stdout, String stderr) {}

    /** Skips the calling test (JUnit assumption) when {@code tool} is not on the PATH. */
    public static void assumeInstalled(String tool) {
        boolean found = false;
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                found = true;
                break;
            }
        }
        assumeTrue(found, tool + " is not installed: test skipped");
    }

    /** Runs {@code command} with {@code stdin} as its input; kills it after {@code timeout}. */
    public static Result runWithInput(Duration timeout, String stdin, String... command) throws IOException, InterruptedException {
        assumeInstalled(command[0]);
        Path out = Files.createTempFile("relay-tool-", ".out");
        Path err = Files.createTempFile("relay-tool-", ".err");
        try {
            Process p = new ProcessBuilder(List.of(command)).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                throw new AssertionError(String.join(" ", command) + " did not finish within " + timeout
                        + "; stderr: " + Files.readString(err));
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Runs {@code command} with no input. */
    public static Result run(Duration timeout, String... command) throws IOException, InterruptedException {
        return runWithInput(timeout, "", command);
    }

    /** {@code args} as a modifiable list, for building a command line. */
    public static List<String> args(String... args) {
        return new ArrayList<>(List.of(args));
    }
}
