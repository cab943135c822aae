package dev.relay.filters.cache;

import dev.relay.core.CidrBlock;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.cache.CacheDefaults;
import dev.relay.core.cache.CacheStorage;
import dev.relay.core.cache.HttpCache;
import dev.relay.filters.internal.NestedSettings;
import org.jspecify.annotations.Nullable;

import java.io.UncheckedIOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The settings of one {@code cache} filter, checked and normalized: two blocks that mean the same
 * cache are {@code equals} (the purge networks are a set, the disk path absolute and normalized), which
 * is how a reload finds the cache it already has ({@link SharedCaches}).
 *
 * @param maxSize              the memory tier's cap in bytes
 * @param maxObjectSize        the largest body stored, in bytes (each tier keeps at most its own size)
 * @param diskPath             the disk tier's directory, or null for memory only
 * @param diskMaxSize          the disk tier's cap in bytes (unused without {@code diskPath})
 * @param lockTimeout          how long a request waits for another's fetch of the same key
 * @param purgeAllow           the client networks a {@code PURGE} is accepted from
 * @param staleWhileRevalidate the stale-while-revalidate window a response without one gets
 * @param staleIfError         the stale-if-error window a response without one gets
 * @param heuristicFreshness   whether responses without explicit freshness may be fresh by {@code Last-Modified}
 * @param statusName           the cache's name in {@code Cache-Status}
 */
record CacheFilterSettings(long maxSize, long maxObjectSize, @Nullable Path diskPath, long diskMaxSize,
                           Duration lockTimeout, Set<CidrBlock> purgeAllow, Duration staleWhileRevalidate,
                           Duration staleIfError, boolean heuristicFreshness, String statusName) {
    static final String MAX_SIZE = "max-size";
    static final String MAX_OBJECT_SIZE = "max-object-size";
    static final String DISK = "disk";
    static final String DISK_PATH = "path";
    static final String LOCK_TIMEOUT = "lock-timeout";
    static final String PURGE_ALLOW = "purge-allow";
    static final String STALE_WHILE_REVALIDATE = "stale-while-revalidate";
    static final String STALE_IF_ERROR = "stale-if-error";
    static final String HEURISTIC_FRESHNESS = "heuristic-freshness";
    static final String STATUS_NAME = "status-name";

    /** The accepted keys, in documentation order. */
    static final List<String> KEYS = List.of(MAX_SIZE, MAX_OBJECT_SIZE, DISK, LOCK_TIMEOUT, PURGE_ALLOW,
            STALE_WHILE_REVALIDATE, STALE_IF_ERROR, HEURISTIC_FRESHNESS, STATUS_NAME);
    static final List<String> DISK_KEYS = List.of(DISK_PATH, MAX_SIZE);

    static final long DEFAULT_MAX_SIZE = 256L << 20;
    static final long DEFAULT_MAX_OBJECT_SIZE = 8L << 20;
    static final long DEFAULT_DISK_MAX_SIZE = 10L << 30;
    static final Duration DEFAULT_LOCK_TIMEOUT = Duration.ofSeconds(5);
    static final List<String> DEFAULT_PURGE_ALLOW = List.of("127.0.0.0/8", "::1/128");
    static final String DEFAULT_STATUS_NAME = "relay";
    /**
     * The largest body a cache filter may store: an object is served from one array, so a larger one
     * would hold that much heap per hit in flight; it streams through uncached instead.
     */
    static final long LARGEST_OBJECT_SIZE = 1L << 30;

    CacheFilterSettings {
        purgeAllow = Set.copyOf(purgeAllow);
    }

    /**
     * Reads and checks {@code settings}.
     *
     * @throws InvalidSettingException naming the key at fault ({@code disk.path}, {@code purge-allow[1]} ...)
     */
    static CacheFilterSettings read(FilterSettings settings) {
        FilterSettings.requireKnownKeys(settings, CacheFilterProvider.NAME, KEYS);
        long maxSize = positiveBytes(settings, MAX_SIZE, "", DEFAULT_MAX_SIZE);
        Path diskPath = null;
        long diskMaxSize = DEFAULT_DISK_MAX_SIZE;
        Optional<FilterSettings> disk = settings.getSettings(DISK);
        if (disk.isPresent()) {
            FilterSettings block = disk.get();
            FilterSettings.requireKnownKeys(block, CacheFilterProvider.NAME, DISK + ".", DISK_KEYS);
            diskPath = diskPath(block);
            diskMaxSize = positiveBytes(block, MAX_SIZE, DISK + ".", DEFAULT_DISK_MAX_SIZE);
        }
        long largestTier = diskPath == null ? maxSize : Math.max(maxSize, diskMaxSize);
        long maxObjectSize = maxObjectSize(settings, Math.min(largestTier, LARGEST_OBJECT_SIZE));
        return new CacheFilterSettings(maxSize, maxObjectSize, diskPath, diskMaxSize,
                nonNegative(settings, LOCK_TIMEOUT, DEFAULT_LOCK_TIMEOUT),
                purgeAllow(settings),
                nonNegative(settings, STALE_WHILE_REVALIDATE, Duration.ZERO),
                nonNegative(settings, STALE_IF_ERROR, Duration.ZERO),
                settings.getBoolean(HEURISTIC_FRESHNESS).orElse(false),
                statusName(settings));
    }

    /**
     * A new cache on these settings, over {@code disk} (opened by {@link #openDisk()}) when they name
     * one; closing the cache's storage runs {@code releaseDisk} rather than closing a disk tier that
     * other caches may share.
     */
    HttpCache newCache(@Nullable DiskCacheStorage disk, Runnable releaseDisk) {
        MemoryCacheStorage memory = MemoryCacheStorage.builder(maxSize).maxObjectSize(Math.min(maxObjectSize, maxSize)).build();
        CacheStorage storage = disk == null ? memory : new TieredCacheStorage(memory, disk, releaseDisk);
        return HttpCache.builder(storage)
                .defaults(new CacheDefaults(heuristicFreshness, CacheDefaults.RFC9111.maxHeuristic(),
                        staleWhileRevalidate, staleIfError))
                .lockTimeout(lockTimeout)
                .purgeAllowedFrom(List.copyOf(purgeAllow))
                .statusName(statusName)
                .build();
    }

    /**
     * The disk tier these settings name; they name one ({@link #diskPath()} is set). Opening it reads
     * the header of every file in its directory, on this thread.
     *
     * @throws InvalidSettingException naming {@code disk.path} when the directory cannot be opened
     */
    DiskCacheStorage openDisk() {
        try {
            return DiskCacheStorage.builder(diskPath, diskMaxSize).maxObjectSize(diskMaxObjectSize()).build();
        } catch (UncheckedIOException e) {
            throw new InvalidSettingException(DISK + "." + DISK_PATH, "'" + diskPath + "': cannot open the directory ("
                    + e.getCause() + ")");
        }
    }

    /** The largest body the disk tier keeps. */
    long diskMaxObjectSize() {
        return Math.min(maxObjectSize, diskMaxSize);
    }

    private static long positiveBytes(FilterSettings settings, String key, String prefix, long fallback) {
        long bytes = NestedSettings.underPrefix(prefix, () -> settings.getBytes(key)).orElse(fallback);
        if (bytes < 1) {
            throw new InvalidSettingException(prefix + key, bytes + " (expected: a size above 0, such as 256MiB)");
        }
        return bytes;
    }

    /** The default 8 MiB, within the largest tier; a value set beyond it is an error. */
    private static long maxObjectSize(FilterSettings settings, long largest) {
        Optional<Long> set = settings.getBytes(MAX_OBJECT_SIZE);
        if (set.isEmpty()) {
            return Math.min(DEFAULT_MAX_OBJECT_SIZE, largest);
        }
        long bytes = set.get();
        if (bytes < 1 || bytes > largest) {
            throw new InvalidSettingException(MAX_OBJECT_SIZE, bytes + " (expected: 1.." + largest + " bytes: above 0, "
                    + "within the largest tier's max-size and at most 1GiB)");
        }
        return bytes;
    }

    private static Path diskPath(FilterSettings disk) {
        String key = DISK + "." + DISK_PATH;
        String text = NestedSettings.underPrefix(DISK + ".", () -> disk.getString(DISK_PATH)).orElseThrow(
                () -> new InvalidSettingException(key, "missing (expected: the directory of the disk tier, "
                        + "an absolute path such as \"/var/cache/relay\")"));
        Path path;
        try {
            path = Path.of(text);
        } catch (InvalidPathException e) {
            throw new InvalidSettingException(key, "'" + text + "' (expected: a directory path): " + e.getReason());
        }
        if (text.isBlank() || !path.isAbsolute()) {
            // Relative to what? The working directory of a service is rarely what its author pictured.
            throw new InvalidSettingException(key, "'" + text + "' (expected: an absolute path, such as \"/var/cache/relay\")");
        }
        return path.normalize();
    }

    private static Duration nonNegative(FilterSettings settings, String key, Duration fallback) {
        Duration duration = settings.getDuration(key).orElse(fallback);
        if (duration.isNegative()) {
            throw new InvalidSettingException(key, duration + " (expected: a duration of 0 or more, such as 5s)");
        }
        return duration;
    }

    private static Set<CidrBlock> purgeAllow(FilterSettings settings) {
        List<String> blocks = settings.getStringList(PURGE_ALLOW).orElse(DEFAULT_PURGE_ALLOW);
        Set<CidrBlock> parsed = new LinkedHashSet<>();
        for (int i = 0; i < blocks.size(); i++) {
            try {
                parsed.add(CidrBlock.parse(blocks.get(i)));
            } catch (IllegalArgumentException e) {
                throw new InvalidSettingException(PURGE_ALLOW + "[" + i + "]", e.getMessage());
            }
        }
        return parsed;
    }

    /** An RFC 8941 token, as RFC 9211 wants a cache's name: a letter or {@code *}, then token characters, {@code :} and {@code /}. */
    private static String statusName(FilterSettings settings) {
        String name = settings.getString(STATUS_NAME).orElse(DEFAULT_STATUS_NAME);
        boolean token = !name.isEmpty() && (isAlpha(name.charAt(0)) || name.charAt(0) == '*');
        for (int i = 1; token && i < name.length(); i++) {
            char c = name.charAt(i);
            token = isAlpha(c) || c >= '0' && c <= '9' || "!#$%&'*+-.^_`|~:/".indexOf(c) >= 0;
        }
        if (!token) {
            throw new InvalidSettingException(STATUS_NAME, "'" + name + "' (expected: a token, such as relay or "
                    + "edge-cache: a letter, then letters, digits and !#$%&'*+-.^_`|~:/)");
        }
        return name;
    }

    private static boolean isAlpha(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
    }
}
