package dev.relay.filters.cache;

import dev.relay.core.cache.CacheMeta;
import dev.relay.core.cache.CachedObject;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * The file of one object of a {@link DiskCacheStorage}, and where it lives. Layout, big-endian:
 *
 * <pre>
 * int    magic "RLYC"
 * short  format version
 * long   the epoch millisecond from which the object is of no use (MAX_VALUE: never), so that a
 *        restart restores the index's expiry from the header alone
 * int    key length,  key bytes (UTF-8): tells a file from a hash collision, and rebuilds the index
 * int    meta length, meta bytes ({@link CacheMeta#encode()})
 * long   body length, body bytes
 * </pre>
 *
 * The file's size must be exactly what the lengths add up to: a file cut short by a crash is
 * recognised and removed.
 */
final class DiskObjectFile {
    static final int MAGIC = 0x524C5943;
    static final short VERSION = 1;
    /** A longer key is not a request target anybody sends; a length above it means a corrupt file. */
    static final int MAX_KEY_BYTES = 1 << 20;
    static final String TEMP_SUFFIX = ".tmp";

    private static final int PREAMBLE = 4 + 2 + 8 + 4;
    /**
     * The most bytes one read or write moves from or to the heap. The JDK copies a heap buffer through
     * a temporary direct buffer as large as what is left of it, and keeps that buffer cached on the
     * thread: a whole body at once would pin a direct buffer as large as the largest object.
     */
    private static final int IO_SLICE = 256 << 10;
    private static final Pattern OBJECT_NAME = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern TEMP_NAME = Pattern.compile("[0-9a-f]{64}\\.tmp");

    private DiskObjectFile() {}

    /** A file that is not an object of this format: another version, a foreign file, or cut short. */
    static final class CorruptFileException extends IOException {
        CorruptFileException(Path file, String why) {
            super(file + ": " + why);
        }
    }

    /** What a file's header says; {@code bodyOffset} is where the body starts. */
    record Header(String key, long uselessAtMillis, int metaLength, long metaOffset, long bodyLength,
                  long bodyOffset) {
        long fileSize() {
            return bodyOffset + bodyLength;
        }
    }

    /** The path of {@code key}'s file under {@code root}: {@code ab/cd/abcd...}, the SHA-256 of the key in hex. */
    static Path pathOf(Path root, String key) {
        String name = nameOf(key);
        return root.resolve(name.substring(0, 2)).resolve(name.substring(2, 4)).resolve(name);
    }

    /** The temporary file a new version of {@code file} is written to before it takes the name. */
    static Path tempOf(Path file) {
        return file.resolveSibling(file.getFileName() + TEMP_SUFFIX);
    }

    static String nameOf(String key) {
        try {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(sha256.digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /** Whether {@code file} (relative to the storage's root) is placed as an object file is. */
    static boolean isObjectFile(Path relative) {
        return isPlaced(relative, OBJECT_NAME);
    }

    /** Whether {@code file} (relative to the storage's root) is a write that never finished. */
    static boolean isTempFile(Path relative) {
        return isPlaced(relative, TEMP_NAME);
    }

    private static boolean isPlaced(Path relative, Pattern namePattern) {
        if (relative.getNameCount() != 3) {
            return false;
        }
        String name = relative.getFileName().toString();
        return namePattern.matcher(name).matches()
                && relative.getName(0).toString().equals(name.substring(0, 2))
                && relative.getName(1).toString().equals(name.substring(2, 4));
    }

    /**
     * Writes {@code object}, stored under {@code key}, to {@code file}: a temporary file nobody reads,
     * which then takes the object's name in one atomic move. Returns the file's size.
     */
    static long write(Path file, String key, CachedObject object, long uselessAtMillis) throws IOException {
        byte[] body = object.body();
        ByteBuffer header = header(key, object.meta(), body.length, uselessAtMillis);
        long size = (long) header.remaining() + body.length;
        try (FileChannel channel = openForWriting(file)) {
            writeFully(channel, header);
            for (int offset = 0; offset < body.length; offset += IO_SLICE) {
                writeFully(channel, ByteBuffer.wrap(body, offset, Math.min(IO_SLICE, body.length - offset)));
            }
        }
        return size;
    }

    /**
     * Writes to {@code file} the object stored under {@code key} in {@code source} with {@code meta} as
     * its metadata: the body is copied from file to file ({@link FileChannel#transferTo}), never through
     * the heap. Returns the file's size.
     *
     * @throws CorruptFileException when {@code source} is not an object of this format or holds another key
     */
    static long writeWithMeta(Path file, Path source, String key, CacheMeta meta, long uselessAtMillis)
            throws IOException {
        try (FileChannel from = FileChannel.open(source, StandardOpenOption.READ)) {
            Header stored = readHeader(from, source, from.size());
            if (!stored.key().equals(key)) {
                throw new CorruptFileException(source, "holds another key (a SHA-256 collision?)");
            }
            ByteBuffer header = header(key, meta, stored.bodyLength(), uselessAtMillis);
            long size = header.remaining() + stored.bodyLength();
            try (FileChannel to = openForWriting(file)) {
                writeFully(to, header);
                long copied = 0;
                while (copied < stored.bodyLength()) {
                    long n = from.transferTo(stored.bodyOffset() + copied, stored.bodyLength() - copied, to);
                    if (n <= 0) {
                        throw new EOFException(source + ": shorter than its size while copied");
                    }
                    copied += n;
                }
            }
            return size;
        }
    }

    /** Everything before the body, flipped for writing. */
    private static ByteBuffer header(String key, CacheMeta meta, long bodyLength, long uselessAtMillis) {
        byte[] keyBytes = key.getBytes(StandardCharsets.UTF_8);
        byte[] metaBytes = meta.encode();
        return ByteBuffer.allocate(PREAMBLE + keyBytes.length + 4 + metaBytes.length + 8)
                .putInt(MAGIC).putShort(VERSION).putLong(uselessAtMillis)
                .putInt(keyBytes.length).put(keyBytes)
                .putInt(metaBytes.length).put(metaBytes)
                .putLong(bodyLength)
                .flip();
    }

    private static FileChannel openForWriting(Path file) throws IOException {
        return FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    /** Reads and checks the header of {@code file}, whose size is {@code fileSize}. */
    static Header readHeader(FileChannel channel, Path file, long fileSize) throws IOException {
        ByteBuffer preamble = readAt(channel, file, 0, PREAMBLE, fileSize);
        if (preamble.getInt() != MAGIC) {
            throw new CorruptFileException(file, "not a cache object (bad magic)");
        }
        short version = preamble.getShort();
        if (version != VERSION) {
            throw new CorruptFileException(file, "format version " + version + " (expected: " + VERSION + ")");
        }
        long uselessAtMillis = preamble.getLong();
        int keyLength = preamble.getInt();
        if (keyLength < 0 || keyLength > MAX_KEY_BYTES) {
            throw new CorruptFileException(file, "key length " + keyLength);
        }
        ByteBuffer keyBytes = readAt(channel, file, PREAMBLE, keyLength, fileSize);
        String key = StandardCharsets.UTF_8.decode(keyBytes).toString();
        long metaLengthOffset = PREAMBLE + (long) keyLength;
        int metaLength = readAt(channel, file, metaLengthOffset, 4, fileSize).getInt();
        if (metaLength < 0) {
            throw new CorruptFileException(file, "meta length " + metaLength);
        }
        long metaOffset = metaLengthOffset + 4;
        long bodyLength = readAt(channel, file, metaOffset + metaLength, 8, fileSize).getLong();
        long bodyOffset = metaOffset + metaLength + 8;
        if (bodyLength < 0 || bodyLength > Integer.MAX_VALUE || bodyOffset + bodyLength != fileSize) {
            throw new CorruptFileException(file, "body of " + bodyLength + " bytes in a file of " + fileSize
                    + " (truncated?)");
        }
        return new Header(key, uselessAtMillis, metaLength, metaOffset, bodyLength, bodyOffset);
    }

    /** The header of {@code file}. */
    static Header readHeader(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return readHeader(channel, file, channel.size());
        }
    }

    /** A whole stored object: its header (for the key) and the object. */
    record Stored(Header header, CachedObject object) {}

    /** Reads the whole of {@code file}. */
    static Stored read(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            Header header = readHeader(channel, file, size);
            byte[] metaBytes = readAt(channel, file, header.metaOffset(), header.metaLength(), size).array();
            CacheMeta meta;
            try {
                meta = CacheMeta.decode(metaBytes);
            } catch (IllegalArgumentException e) {
                throw new CorruptFileException(file, "unreadable metadata: " + e.getMessage());
            }
            byte[] body = readAt(channel, file, header.bodyOffset(), (int) header.bodyLength(), size).array();
            return new Stored(header, new CachedObject(meta, body));
        }
    }

    /** Exactly {@code length} bytes at {@code position}, flipped for reading; a corrupt file when it is shorter. */
    private static ByteBuffer readAt(FileChannel channel, Path file, long position, int length, long fileSize)
            throws IOException {
        if (position + length > fileSize) {
            throw new CorruptFileException(file, length + " bytes at " + position + " past the end (" + fileSize
                    + " bytes; truncated?)");
        }
        byte[] bytes = new byte[length];
        int done = 0;
        while (done < length) {
            int read = channel.read(ByteBuffer.wrap(bytes, done, Math.min(IO_SLICE, length - done)), position + done);
            if (read < 0) {
                throw new EOFException(file + ": shorter than its size while read");
            }
            done += read;
        }
        return ByteBuffer.wrap(bytes);
    }
}
