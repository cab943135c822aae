package dev.relay.filters.cache;

import dev.relay.core.cache.CacheKey;
import dev.relay.core.cache.CacheMeta;
import dev.relay.core.cache.CacheTierStats;
import dev.relay.core.cache.CachedObject;
import dev.relay.filters.cache.TestObjects.ManualTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static dev.relay.filters.cache.TestObjects.START_MILLIS;
import static dev.relay.filters.cache.TestObjects.assertSameMeta;
import static dev.relay.filters.cache.TestObjects.assertSameObject;
import static dev.relay.filters.cache.TestObjects.meta;
import static dev.relay.filters.cache.TestObjects.object;
import static dev.relay.filters.cache.TestObjects.objectOfSize;
import static dev.relay.filters.cache.TestObjects.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
class DiskCacheStorageTest {
    private static final long NOW = System.currentTimeMillis();

    @TempDir
    Path directory;

    private final List<DiskCacheStorage> opened = new ArrayList<>();

    @AfterEach
    void closeAll() {
        opened.forEach(DiskCacheStorage::close);
    }

    private DiskCacheStorage open(long maxBytes) {
        DiskCacheStorage storage = DiskCacheStorage.builder(directory, maxBytes).maintenanceExecutor(Runnable::run)
                .build();
        opened.add(storage);
        return storage;
    }

    private DiskCacheStorage open() {
        return open(1 << 20);
    }

    /** Closes {@code storage} and opens a new one on the same directory, as a restart does. */
    private DiskCacheStorage restart(DiskCacheStorage storage) {
        storage.close();
        return open();
    }

    private static CachedObject lookup(DiskCacheStorage storage, String key) throws Exception {
        return storage.lookup(key).toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    private Path fileOf(String key) {
        return DiskObjectFile.pathOf(directory, key);
    }

    private List<Path> objectFiles() throws IOException {
        try (Stream<Path> files = Files.walk(directory)) {
            return files.filter(Files::isRegularFile).toList();
        }
    }

    @Test
    void storesObjectInFanOutFileAndReadsItBack() throws Exception {
        DiskCacheStorage storage = open();
        CachedObject stored = object("hello, disk", NOW);
        storage.put("http://a/x", stored);
        storage.flush();

        Path file = fileOf("http://a/x");
        String name = file.getFileName().toString();
        assertEquals(64, name.length());
        assertEquals(directory.resolve(name.substring(0, 2)).resolve(name.substring(2, 4)).resolve(name), file);
        assertEquals(List.of(file), objectFiles());
        assertSameObject(stored, lookup(storage, "http://a/x"));
        assertNull(lookup(storage, "http://a/other"));
        assertEquals(List.of(new CacheTierStats("disk", 1, Files.size(file), 1 << 20, 0)), storage.stats());
    }

    @Test
    void restartFindsObjectsWithTheirMetaAndBodies() throws Exception {
        DiskCacheStorage storage = open();
        List<CachedObject> stored = List.of(object("one", NOW), object("two", NOW),
                new CachedObject(meta(NOW, 60, 30, 300, false, false), new byte[] {0, 1, 2, (byte) 255}));
        for (int i = 0; i < stored.size(); i++) {
            storage.put("http://a/" + i, stored.get(i));
        }

        DiskCacheStorage restarted = restart(storage);

        for (int i = 0; i < stored.size(); i++) {
            assertSameObject(stored.get(i), lookup(restarted, "http://a/" + i));
        }
        long bytes = 0;
        for (Path file : objectFiles()) {
            bytes += Files.size(file);
        }
        assertEquals(List.of(new CacheTierStats("disk", 3, bytes, 1 << 20, 0)), restarted.stats());
    }

    @Test
    void removesCorruptAndTruncatedFilesAtStartAndKeepsForeignOnes() throws Exception {
        DiskCacheStorage storage = open();
        storage.put("http://a/intact", object("intact", NOW));
        storage.put("http://a/truncated", object("truncated", NOW));
        storage.close();
        try (FileChannel channel = FileChannel.open(fileOf("http://a/truncated"), StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() - 3);
        }
        Path badMagic = fileOf("http://a/bad-magic");
        Files.createDirectories(badMagic.getParent());
        Files.write(badMagic, new byte[] {'G', 'I', 'F', '8', '9', 'a', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        Path empty = fileOf("http://a/empty");
        Files.createDirectories(empty.getParent());
        Files.createFile(empty);
        Path foreign = Files.writeString(directory.resolve("README"), "not a cache object");

        DiskCacheStorage restarted = open();

        assertFalse(Files.exists(fileOf("http://a/truncated")));
        assertFalse(Files.exists(badMagic));
        assertFalse(Files.exists(empty));
        assertTrue(Files.exists(foreign), "a file not placed as an object is not this storage's to delete");
        assertEquals("intact", text(lookup(restarted, "http://a/intact")));
        assertNull(lookup(restarted, "http://a/truncated"));
        assertEquals(1, restarted.stats().get(0).entries());
    }

    @Test
    void removesTemporaryFilesAtStart() throws Exception {
        Path file = fileOf("http://a/x");
        Path temp = DiskObjectFile.tempOf(file);
        Files.createDirectories(temp.getParent());
        Files.write(temp, new byte[100]);

        DiskCacheStorage storage = open();

        assertFalse(Files.exists(temp), "a write a crash interrupted is thrown away");
        assertEquals(0, storage.stats().get(0).entries());
    }

    @Test
    void dropsObjectsOfNoUseAtStart() throws Exception {
        ManualTime time = new ManualTime();
        DiskCacheStorage storage = DiskCacheStorage.builder(directory, 1 << 20).time(time, time).build();
        opened.add(storage);
        storage.put("http://a/expires", new CachedObject(meta(START_MILLIS, 10, 0, 0, false, false), new byte[1]));
        storage.put("http://a/revalidatable", new CachedObject(meta(START_MILLIS, 10, 0, 0, false, true), new byte[1]));
        storage.close();

        time.advance(Duration.ofMinutes(1));
        DiskCacheStorage restarted = DiskCacheStorage.builder(directory, 1 << 20).time(time, time).build();
        opened.add(restarted);

        assertFalse(Files.exists(fileOf("http://a/expires")), "stale without a validator: of no use");
        assertNull(lookup(restarted, "http://a/expires"));
        assertEquals(1, lookup(restarted, "http://a/revalidatable").body().length);
    }

    @Test
    void sizeCapEvictsAndDeletesTheFiles() throws Exception {
        long maxBytes = 20_000;
        DiskCacheStorage storage = open(maxBytes);
        for (int i = 0; i < 60; i++) {
            storage.put("http://a/" + i, objectOfSize(1_000));
        }
        storage.flush();
        CacheTierStats stats = storage.stats().get(0);
        storage.flush(); // deletions the stats' clean-up queued

        assertTrue(stats.evictions() > 0, "evictions: " + stats.evictions());
        assertEquals(60 - stats.entries(), stats.evictions());
        assertTrue(stats.bytes() <= maxBytes, stats.bytes() + " bytes");
        assertEquals(stats.entries(), objectFiles().size(), "one file per object in the index, no more");
    }

    @Test
    void purgeDeletesTheFile() throws Exception {
        DiskCacheStorage storage = open();
        storage.put("http://a/x", object("x", NOW));
        storage.flush();

        assertTrue(storage.purge("http://a/x"));
        assertFalse(storage.purge("http://a/x"));
        storage.flush();
        assertFalse(Files.exists(fileOf("http://a/x")));
        assertNull(lookup(storage, "http://a/x"));
    }

    @Test
    void purgeOfAPendingWriteKeepsItOffDisk() throws Exception {
        DiskCacheStorage storage = open();
        storage.put("http://a/x", object("x", NOW));
        assertTrue(storage.purge("http://a/x"), "pending or written, the object was there");
        storage.flush();

        assertNull(lookup(storage, "http://a/x"));
        assertEquals(List.of(), objectFiles());
    }

    @Test
    void purgePrefixRemovesEveryVariantAndItsFile() throws Exception {
        DiskCacheStorage storage = open();
        CacheKey resource = CacheKey.of("http://a/x");
        String gzip = resource.withVariance("gzip").storageKey();
        String br = resource.withVariance("br").storageKey();
        storage.put(gzip, object("gz", NOW));
        storage.put(br, object("br", NOW));
        storage.put("http://a/xy", object("other", NOW));
        storage.flush();

        assertEquals(2, storage.purgePrefix(resource.variantPrefix()));
        storage.flush();
        assertFalse(Files.exists(fileOf(gzip)));
        assertFalse(Files.exists(fileOf(br)));
        assertEquals(List.of(fileOf("http://a/xy")), objectFiles());
    }

    @Test
    void replacementKeepsTheNewFile() throws Exception {
        DiskCacheStorage storage = open();
        storage.put("http://a/x", object("old", NOW));
        storage.flush();
        storage.put("http://a/x", object("new", NOW));
        storage.flush();

        assertEquals("new", text(lookup(storage, "http://a/x")));
        assertEquals(List.of(fileOf("http://a/x")), objectFiles());
        assertEquals("new", text(lookup(restart(storage), "http://a/x")));
    }

    @Test
    void laterPutWinsOverOneStillPending() throws Exception {
        DiskCacheStorage storage = open();
        storage.put("http://a/x", object("first", NOW));
        storage.put("http://a/x", object("second", NOW));
        storage.flush();

        assertEquals("second", text(lookup(storage, "http://a/x")));
        assertEquals(1, storage.stats().get(0).entries());
    }

    @Test
    void updateMetaRewritesTheFileAndKeepsTheBody() throws Exception {
        DiskCacheStorage storage = open();
        storage.put("http://a/x", new CachedObject(meta(NOW, 10, 0, 0, false, true), new byte[] {7, 8, 9}));
        storage.flush();
        CacheMeta revalidated = meta(NOW + 1_000, 900, 60, 0, false, true);

        assertTrue(storage.updateMeta("http://a/x", revalidated));
        assertFalse(storage.updateMeta("http://a/none", revalidated));
        storage.flush();

        CachedObject found = lookup(storage, "http://a/x");
        assertSameMeta(revalidated, found.meta());
        assertArrayEquals(new byte[] {7, 8, 9}, found.body());
        CachedObject afterRestart = lookup(restart(storage), "http://a/x");
        assertSameMeta(revalidated, afterRestart.meta());
        assertArrayEquals(new byte[] {7, 8, 9}, afterRestart.body());
    }

    @Test
    void keepsABodyOfManyIoSlicesWholeThroughARewriteAndARestart() throws Exception {
        DiskCacheStorage storage = open();
        byte[] body = new byte[600_000]; // file I/O moves 256 KiB at a time: two whole slices and a part
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) (i * 31 + i / 256);
        }
        storage.put("http://a/big", new CachedObject(meta(NOW, 10, 0, 0, false, true), body));
        storage.flush();
        assertArrayEquals(body, lookup(storage, "http://a/big").body());

        CacheMeta revalidated = meta(NOW + 1_000, 900, 0, 0, false, true);
        assertTrue(storage.updateMeta("http://a/big", revalidated));
        storage.flush();

        CachedObject afterRestart = lookup(restart(storage), "http://a/big");
        assertSameMeta(revalidated, afterRestart.meta());
        assertArrayEquals(body, afterRestart.body());
    }

    @Test
    void doesNotStoreBodyLargerThanMaxObjectSize() throws Exception {
        DiskCacheStorage storage = DiskCacheStorage.builder(directory, 1 << 20).maxObjectSize(10).build();
        opened.add(storage);
        storage.put("http://a/big", objectOfSize(11));
        storage.put("http://a/fits", objectOfSize(10));
        storage.flush();

        assertNull(lookup(storage, "http://a/big"));
        assertEquals(10, lookup(storage, "http://a/fits").body().length);
        assertEquals(List.of(fileOf("http://a/fits")), objectFiles());
    }

    @Test
    void closedStorageAnswersMissesAndIgnoresPuts() throws Exception {
        DiskCacheStorage storage = open();
        storage.put("http://a/x", object("x", NOW));
        storage.close();

        assertTrue(Files.exists(fileOf("http://a/x")), "close finishes the pending write");
        storage.put("http://a/y", object("y", NOW));
        assertNull(lookup(storage, "http://a/x"));
        assertFalse(Files.exists(fileOf("http://a/y")));
    }

    @Test
    void builderRejectsMaxObjectSizeAboveMaxBytes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DiskCacheStorage.builder(directory, 100).maxObjectSize(101).build());
        assertTrue(e.getMessage().startsWith("maxObjectSize: 101"), e.getMessage());
    }
}
