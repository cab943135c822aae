package dev.relay.server.testing;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A file for each test's access log and the lines written to it: the test puts
 * {@link #setting()} into the server's configuration.
 *
 * <pre>{@code
 * @RegisterExtension
 * final AccessLogLines accessLines = new AccessLogLines();
 * ... "server { " + accessLines.setting() + " }" ...
 * String line = accessLines.lines().get(0);
 * }</pre>
 */
public final class AccessLogLines implements BeforeEachCallback, AfterEachCallback {
    private Path file;

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        file = Files.createTempFile("relay-access", ".log");
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        Files.deleteIfExists(file);
    }

    /** The file the lines go to. */
    public Path file() {
        return file;
    }

    /** {@code access-log-path = "FILE"}, for the {@code proxy.server} block. */
    public String setting() {
        return "access-log-path = \"" + file + "\"";
    }

    /** The whole lines written so far, in order, without their newlines (a line being written is left out). */
    public List<String> lines() {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
            out.add(text.substring(start, nl));
            start = nl + 1;
        }
        return out;
    }
}
