package dev.relay.transport.internal;

import org.jspecify.annotations.Nullable;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The file of one Unix-domain socket listener, from before bind to after close.
 *
 * <p>The socket is bound under a private name next to the configured path, given its mode there, and
 * then renamed onto the configured path (rename(2) is atomic and replaces what was there). So: no
 * client ever sees the socket with the wrong permissions; a zero-downtime upgrade replaces the old
 * process's socket file with no moment where the path is missing; and when the old process closes its
 * listener, Netty's delete-on-close hits the private name, long gone, not the new process's file. At
 * close, the configured path is removed only if it is still the file this listener installed.
 *
 * <p>Blocking file-system work: call from the thread that binds, never an event loop.
 */
public final class UnixSocketFile {
    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    /** sun_path holds 108 bytes, the terminating NUL included. */
    private static final int MAX_PATH_BYTES = 107;

    private final Path path;
    private final Path bindPath;
    private boolean installed;
    private @Nullable Object installedKey;

    private UnixSocketFile(Path path, Path bindPath) {
        this.path = path;
        this.bindPath = bindPath;
    }

    /**
     * Checks the configured {@code path} before binding: absent is fine; a socket nobody listens on
     * (left by a process that died) is removed; a socket some process listens on is refused unless
     * {@code replaceLive} (the process this one replaces), and any other file is refused.
     *
     * @throws IllegalStateException naming the path and why it cannot be used
     */
    public static UnixSocketFile prepare(Path path, boolean replaceLive) {
        Path absolute = path.toAbsolutePath();
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(absolute, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            attributes = null;
        } catch (IOException e) {
            throw new IllegalStateException(absolute + " cannot be examined: " + e);
        }
        if (attributes != null) {
            if (!isSocket(absolute, attributes)) {
                throw new IllegalStateException(absolute + " exists and is not a socket (expected: a free path, "
                        + "or a socket file; not removing it)");
            }
            if (!replaceLive && isListenedOn(absolute)) {
                throw new IllegalStateException(absolute + " is a socket another process listens on "
                        + "(expected: a free path)");
            }
            if (!replaceLive) {
                deleteStale(absolute);
            }
        }
        // Short, because sun_path is: ".r", the pid and a sequence number, in base 36.
        String name = ".r" + Long.toString(ProcessHandle.current().pid(), 36) + "."
                + Integer.toString(SEQUENCE.incrementAndGet(), 36);
        Path bindPath = absolute.resolveSibling(name);
        if (bindPath.toString().getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
            throw new IllegalStateException(absolute + ": its directory name is too long to bind in (expected: "
                    + "at most " + (MAX_PATH_BYTES - name.length() - 1) + " bytes for the directory)");
        }
        return new UnixSocketFile(absolute, bindPath);
    }

    private static boolean isSocket(Path path, BasicFileAttributes attributes) {
        try {
            // The file type bits of st_mode: S_IFSOCK.
            int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return (mode & 0170000) == 0140000;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            // No "unix" attribute view: a socket is at least neither a file, a directory nor a link.
            return attributes.isOther();
        }
    }

    /** Whether a connect to the socket at {@code path} succeeds; refused means stale. */
    private static boolean isListenedOn(Path path) {
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            // A local connect never waits on a network: it is accepted into the backlog or refused.
            probe.connect(UnixDomainSocketAddress.of(path));
            return true;
        } catch (ConnectException e) {
            return false;
        } catch (IOException e) {
            throw new IllegalStateException(path + " cannot be probed: " + e);
        }
    }

    private static void deleteStale(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            throw new IllegalStateException(path + " is a stale socket that cannot be removed: " + e);
        }
    }

    /** The configured path. */
    public Path path() {
        return path;
    }

    /** Where to bind: a private name next to {@link #path()}. */
    public UnixDomainSocketAddress bindAddress() {
        return UnixDomainSocketAddress.of(bindPath);
    }

    /**
     * Gives the freshly bound socket {@code mode} (null: as the umask left it) and renames it onto
     * the configured path.
     *
     * @throws IllegalStateException when either step fails (the private file is then removed)
     */
    public void install(@Nullable Set<PosixFilePermission> mode) {
        try {
            if (mode != null) {
                Files.setPosixFilePermissions(bindPath, mode);
            }
            installedKey = fileKey(bindPath);
            Files.move(bindPath, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            installed = true;
        } catch (AtomicMoveNotSupportedException e) {
            removeQuietly(bindPath);
            throw new IllegalStateException(path + ": cannot rename the socket into place atomically: " + e);
        } catch (IOException | UnsupportedOperationException e) {
            removeQuietly(bindPath);
            throw new IllegalStateException(path + ": " + e);
        }
    }

    /**
     * Removes the configured path if it is still the socket this listener installed (after a
     * zero-downtime upgrade it is the new process's, and stays).
     */
    public void remove() {
        if (!installed) {
            return;
        }
        installed = false;
        try {
            // Without file keys (not on Linux) there is no telling whose file it is: remove it.
            if (installedKey == null || Objects.equals(fileKey(path), installedKey)) {
                Files.deleteIfExists(path);
            }
        } catch (NoSuchFileException e) {
            // Already gone: nothing to clean up.
        } catch (IOException e) {
            ProxyEngine.LOG.log(System.Logger.Level.WARNING, "cannot remove socket file {0}: {1}", path, e);
        }
    }

    private static @Nullable Object fileKey(Path path) throws IOException {
        return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    }

    private static void removeQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // Best effort: a leftover private name harms nobody and the error reported says what failed.
        }
    }

    @Override
    public String toString() {
        return "unix:" + path;
    }
}
