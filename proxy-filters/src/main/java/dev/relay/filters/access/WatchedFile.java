package dev.relay.filters.access;

import org.jspecify.annotations.Nullable;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * A file read into an immutable value, read again when it changes: the htpasswd file of
 * {@code basic-auth}, the JWK set or secret of {@code jwt}.
 *
 * <p>{@link #current()} is called on the event loop for every request and never touches the disk: at
 * most once per check interval it hands a look at the file (its modification time, size and file
 * key, so a rewrite in place and a rename over it are both seen) to a background executor, and
 * returns the value it has. When the file changed, the background task parses it and swaps the new
 * value in with one write; a file that no longer parses (or cannot be read) keeps the old value and
 * is logged once per version of the file. So a change is seen by the requests that follow its
 * check, at most an interval plus a read after the write.
 *
 * @param <T> the parsed value, immutable
 */
final class WatchedFile<T> {
    private static final System.Logger LOG = System.getLogger(WatchedFile.class.getName());

    /** Turns the file's bytes into the value; throws {@link IllegalArgumentException} saying what is wrong. */
    @FunctionalInterface
    interface Parser<T> {
        T parse(Path file, byte[] content);
    }

    /** What identifies a version of the file, without reading it. */
    private record Stamp(FileTime modified, long size, @Nullable Object fileKey) {
        static Stamp of(Path file) throws IOException {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            return new Stamp(attributes.lastModifiedTime(), attributes.size(), attributes.fileKey());
        }
    }

    private record Loaded<T>(T value, Stamp stamp) {}

    private final Path file;
    private final String what;
    private final Parser<T> parser;
    private final Executor background;
    private final LongSupplier nanoTime;
    private final long intervalNanos;
    private final AtomicBoolean checking = new AtomicBoolean();
    private volatile Loaded<T> loaded;
    private volatile long nextCheckNanos;
    /** The version that last failed to parse, so that it is logged once, not at every check. */
    private volatile @Nullable Stamp rejected;

    private WatchedFile(Path file, String what, Parser<T> parser, Executor background, LongSupplier nanoTime,
                        Duration interval, Loaded<T> first) {
        this.file = file;
        this.what = what;
        this.parser = parser;
        this.background = background;
        this.nanoTime = nanoTime;
        this.intervalNanos = interval.toNanos();
        this.loaded = first;
        this.nextCheckNanos = nanoTime.getAsLong() + intervalNanos;
    }

    /**
     * Reads and parses {@code file} now (when a filter is created: at load, off the event loop).
     *
     * @param what names the file in log lines ({@code "htpasswd"}, {@code "JWK set"})
     * @throws IllegalArgumentException when it cannot be read or parsed, saying why
     */
    static <T> WatchedFile<T> load(Path file, String what, Parser<T> parser, Executor background, LongSupplier nanoTime,
                                   Duration interval) {
        requireNonNull(file, "file");
        requireNonNull(parser, "parser");
        try {
            Stamp stamp = Stamp.of(file);
            T value = parser.parse(file, Files.readAllBytes(file));
            return new WatchedFile<>(file, what, parser, requireNonNull(background, "background"),
                    requireNonNull(nanoTime, "nanoTime"), interval, new Loaded<>(requireNonNull(value, "parsed value"), stamp));
        } catch (IOException e) {
            throw new IllegalArgumentException(what + " " + file + ": cannot be read (" + e + ")", e);
        }
    }

    /** The value of the last version that parsed; may start a background check of the file. */
    T current() {
        long now = nanoTime.getAsLong();
        if (now - nextCheckNanos >= 0 && checking.compareAndSet(false, true)) {
            nextCheckNanos = now + intervalNanos;
            try {
                background.execute(this::check);
            } catch (RejectedExecutionException e) {
                checking.set(false);
            }
        }
        return loaded.value;
    }

    /** The file this value comes from. */
    Path file() {
        return file;
    }

    /** Looks at the file and reads it again if it changed; runs on the background executor (or a test). */
    void check() {
        try {
            Stamp stamp = Stamp.of(file);
            if (stamp.equals(loaded.stamp) || stamp.equals(rejected)) {
                return;
            }
            T value;
            try {
                value = requireNonNull(parser.parse(file, Files.readAllBytes(file)), "parsed value");
            } catch (IllegalArgumentException e) {
                rejected = stamp;
                LOG.log(Level.WARNING, "{0} {1} changed but is not valid; keeping the previous version: {2}",
                        what, file, e.getMessage());
                return;
            }
            loaded = new Loaded<>(value, stamp);
            rejected = null;
            LOG.log(Level.INFO, "{0} {1} reloaded", what, file);
        } catch (IOException e) {
            Stamp missing = new Stamp(FileTime.fromMillis(0), -1, Objects.toString(e.getClass()));
            if (!missing.equals(rejected)) {
                rejected = missing;
                LOG.log(Level.WARNING, "{0} {1} cannot be read; keeping the previous version: {2}", what, file, e.toString());
            }
        } finally {
            checking.set(false);
        }
    }
}
