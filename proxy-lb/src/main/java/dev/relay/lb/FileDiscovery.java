package dev.relay.lb;

import dev.relay.core.Backend;
import dev.relay.lb.internal.DaemonThreads;
import org.jspecify.annotations.Nullable;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

import static java.util.Objects.requireNonNull;

/**
 * Backends listed in a file, watched by polling: a started {@link LoadBalancer} re-reads it every
 * {@link Builder#pollInterval} and applies changes (polling, rather than a file-system watch,
 * works on every file system, catches atomic renames and runs on the injected scheduler). One
 * backend a line, {@code host:port} or {@code [v6]:port}, optionally followed by
 * {@code weight=N}; {@code #} starts a comment; blank lines are ignored:
 *
 * <pre>
 * # api pool
 * 10.0.0.1:8080
 * 10.0.0.2:8080 weight=3
 * [2001:db8::1]:8080
 * </pre>
 *
 * A file that cannot be read or has a malformed line fails the discovery (naming the file and
 * line), and so does an empty file while the set has backends: the set stays as it was.
 *
 * <pre>{@code
 * LoadBalancer<RoundRobin> lb = LoadBalancer.builder(RoundRobin.create())
 *         .discovery(FileDiscovery.builder(Path.of("/etc/relay/api.backends")).pollInterval(Duration.ofSeconds(2)).build())
 *         .build();
 * }</pre>
 */
public final class FileDiscovery implements ServiceDiscovery {
    private final Path file;
    private final Duration pollInterval;
    private final Executor executor;

    private FileDiscovery(Builder b) {
        this.file = b.file;
        this.pollInterval = b.pollInterval;
        this.executor = b.executor;
    }

    /** A builder for the backends listed in {@code file}. */
    public static Builder builder(Path file) {
        return new Builder(file);
    }

    @Override
    public CompletionStage<List<Backend>> discover() {
        CompletableFuture<List<Backend>> result = new CompletableFuture<>();
        executor.execute(() -> {
            try {
                result.complete(parse(file, Files.readString(file, StandardCharsets.UTF_8)));
            } catch (IOException | RuntimeException e) {
                result.completeExceptionally(new CompletionException("file discovery of " + file + ": " + e.getMessage(), e));
            }
        });
        return result;
    }

    /** The poll interval, always. */
    @Override
    public Optional<Duration> refreshAfter() {
        return Optional.of(pollInterval);
    }

    /**
     * The backends of {@code text}.
     *
     * @throws IllegalArgumentException naming the file and line of a malformed entry
     */
    static List<Backend> parse(Path file, String text) {
        List<Backend> out = new ArrayList<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            int hash = line.indexOf('#');
            if (hash >= 0) {
                line = line.substring(0, hash);
            }
            line = line.trim();
            if (line.isEmpty()) {
                continue;
            }
            String[] words = line.split("\\s+");
            try {
                Backend backend = Backend.parse(words[0]);
                for (int w = 1; w < words.length; w++) {
                    if (!words[w].startsWith("weight=")) {
                        throw new IllegalArgumentException("'" + words[w] + "' (expected: weight=N)");
                    }
                    int weight;
                    try {
                        weight = Integer.parseInt(words[w].substring("weight=".length()));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("'" + words[w] + "' (expected: weight=N, N >= 1)");
                    }
                    backend = backend.withWeight(weight);
                }
                out.add(backend);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return "file(" + file + ")";
    }

    /** Settings of a {@link FileDiscovery}. */
    public static final class Builder {
        private final Path file;
        private Duration pollInterval = Duration.ofSeconds(5);
        private @Nullable Executor executor;

        private Builder(Path file) {
            this.file = requireNonNull(file, "file");
        }

        /** How often to re-read the file (default 5 s). */
        public Builder pollInterval(Duration interval) {
            requireNonNull(interval, "pollInterval");
            if (interval.isZero() || interval.isNegative() || interval.compareTo(Duration.ofDays(1)) > 0) {
                throw new IllegalArgumentException("pollInterval: " + interval + " (expected: > 0 and <= 1 day)");
            }
            this.pollInterval = interval;
            return this;
        }

        /** Where the file is read; default: a shared pool of daemon threads ({@code Runnable::run} for tests). */
        public Builder executor(Executor executor) {
            this.executor = requireNonNull(executor, "executor");
            return this;
        }

        /** The discovery. */
        public FileDiscovery build() {
            if (executor == null) {
                executor = DaemonThreads.blockingPool();
            }
            return new FileDiscovery(this);
        }
    }
}
