package dev.relay.server.internal.upgrade;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The pid file ({@code proxy.server.pid-file}): written (atomically, by rename) once the server
 * runs, so that a process started with {@code --upgrade} replaces its predecessor's pid when it has
 * taken over; removed at exit only if it still holds this process's pid.
 */
public final class PidFile {
    private static final Logger LOG = LoggerFactory.getLogger(PidFile.class);

    private PidFile() {}

    /** Writes this process's id to {@code file} and removes it again at exit (if still ours). */
    public static void write(Path file) throws IOException {
        long pid = ProcessHandle.current().pid();
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Path tmp = Files.createTempFile(parent, ".relay-pid", ".tmp");
        Files.writeString(tmp, pid + "\n", StandardCharsets.US_ASCII);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        LOG.info("pid {} written to {}", pid, file);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                if (Files.isRegularFile(file) && Files.readString(file, StandardCharsets.US_ASCII).trim().equals(Long.toString(pid))) {
                    Files.deleteIfExists(file);
                }
            } catch (IOException e) {
                // Exiting anyway.
            }
        }, "relay-pid-file"));
    }
}
