package dev.relay.transport.internal;

import org.jspecify.annotations.Nullable;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;

/**
 * Tells whether a certificate's chain or key file changed on disk, by polling: the file the path
 * resolves to (symbolic links followed, so a Kubernetes-style symlink swap counts), its inode, size
 * and modification time. Polling rather than a {@code WatchService}: it sees atomic renames and
 * symlink swaps alike, on every file system, and costs two {@code stat}s a second.
 *
 * <p>A change that fails to load is remembered, so that a broken file is reported once, and tried
 * again as soon as either file changes once more. Used by one thread at a time (the maintenance
 * thread).
 */
final class CertificateWatcher {
    /** What identifies one version of a file; null fields when the file cannot be read now. */
    private record Stamp(@Nullable Path realPath, @Nullable Object fileKey, long size, long modifiedNanos) {
        static Stamp of(Path file) {
            try {
                Path real = file.toRealPath();
                BasicFileAttributes a = Files.readAttributes(real, BasicFileAttributes.class);
                return new Stamp(real, a.fileKey(), a.size(), a.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS));
            } catch (IOException | SecurityException e) {
                return new Stamp(null, null, -1, -1);
            }
        }
    }

    private final Path chainFile;
    private final Path keyFile;
    private Stamp chain;
    private Stamp key;

    /** Watches the pair as it is now (the version just loaded). */
    CertificateWatcher(Path chainFile, Path keyFile) {
        this.chainFile = chainFile;
        this.keyFile = keyFile;
        this.chain = Stamp.of(chainFile);
        this.key = Stamp.of(keyFile);
    }

    /**
     * Whether either file differs from the version seen last; the new version becomes the one seen,
     * whether or not the caller manages to load it.
     */
    boolean changed() {
        Stamp c = Stamp.of(chainFile);
        Stamp k = Stamp.of(keyFile);
        if (Objects.equals(c, chain) && Objects.equals(k, key)) {
            return false;
        }
        chain = c;
        key = k;
        return true;
    }

    Path chainFile() {
        return chainFile;
    }

    Path keyFile() {
        return keyFile;
    }
}
