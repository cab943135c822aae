package dev.relay.lb.internal;

import dev.relay.core.Backend;
import dev.relay.core.BackendSelector;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Ketama consistent hashing, point for point the continuum of nginx's {@code hash $key consistent}
 * (ngx_http_upstream_hash_module), so that nginx and this selector send a key to the same server.
 *
 * <p>The ring: for each backend, written {@code host:port} as in an nginx {@code server} line
 * ({@link Backend#hostAndPort()}), a base CRC-32 state over {@code host}, a NUL byte and
 * {@code port}; then {@code 160 × weight} points, point {@code j} being the CRC-32 of that state
 * continued with the four little-endian bytes of point {@code j-1} (zero for the first). Points are
 * sorted by unsigned value; of several equal points the one of the backend listed first is kept
 * (nginx sorts with a stable sort and keeps the first). A key goes to the first point at or after
 * CRC-32(key), wrapping to the first point of the ring.
 *
 * <p>Fallback walks the ring one point per pick from the key's point, as nginx does when a server
 * fails: {@code next(key, previous, attempt)} is the owner of the point {@code attempt} places
 * further on. A walk can meet a backend again (the caller deduplicates), so reaching every backend
 * takes about {@code n ln n} picks, and at most one lap of the ring; the walk ends after one lap.
 *
 * <p>The ring holds {@code 160 × total weight} points (8 bytes each). Above {@link #MAX_POINTS}
 * the points per weight unit are scaled down (each backend keeps at least one): still consistent,
 * no longer nginx's ring.
 */
public final class KetamaSelector implements BackendSelector {
    /** nginx's points per unit of weight. */
    public static final int POINTS_PER_WEIGHT = 160;
    /** The largest ring built (32 MiB). */
    public static final int MAX_POINTS = 1 << 22;

    private final Backend[] backends;
    // Point values with the sign bit flipped, so that signed int order is unsigned order.
    private final int[] points;
    private final int[] owners;

    /** The ring of {@code backends}. */
    public KetamaSelector(List<Backend> backends) {
        this.backends = backends.toArray(new Backend[0]);
        int n = this.backends.length;
        long totalWeight = 0;
        for (Backend b : this.backends) {
            totalWeight += b.weight();
        }
        boolean scaled = totalWeight * POINTS_PER_WEIGHT > MAX_POINTS;
        long[] entries = new long[(int) Math.min(totalWeight * POINTS_PER_WEIGHT, (long) MAX_POINTS + n)];
        int count = 0;
        byte[] previous = new byte[4];
        for (int i = 0; i < n; i++) {
            Backend backend = this.backends[i];
            long pointCount = (long) backend.weight() * POINTS_PER_WEIGHT;
            if (scaled) {
                pointCount = Math.max(1, pointCount * MAX_POINTS / (totalWeight * POINTS_PER_WEIGHT));
            }
            int base = baseState(backend.hostAndPort());
            Arrays.fill(previous, (byte) 0);
            for (long j = 0; j < pointCount && count < entries.length; j++) {
                int point = ~Hashing.crc32Update(base, previous, 0, 4);
                entries[count++] = ((long) (point ^ Integer.MIN_VALUE) << 32) | i;
                previous[0] = (byte) point;
                previous[1] = (byte) (point >>> 8);
                previous[2] = (byte) (point >>> 16);
                previous[3] = (byte) (point >>> 24);
            }
        }
        Arrays.sort(entries, 0, count);
        int[] pts = new int[count];
        int[] own = new int[count];
        int unique = 0;
        for (int k = 0; k < count; k++) {
            int value = (int) (entries[k] >> 32);
            if (unique > 0 && pts[unique - 1] == value) {
                continue; // the lower backend index (listed first) keeps a shared point
            }
            pts[unique] = value;
            own[unique] = (int) entries[k];
            unique++;
        }
        this.points = unique == count ? pts : Arrays.copyOf(pts, unique);
        this.owners = unique == count ? own : Arrays.copyOf(own, unique);
    }

    /** The CRC-32 register after {@code host}, a NUL byte and {@code port}, split as nginx splits a server name. */
    static int baseState(String server) {
        byte[] name = server.getBytes(StandardCharsets.UTF_8);
        int hostEnd = name.length;
        int portStart = name.length;
        for (int j = name.length - 1; j >= 0; j--) {
            byte c = name[j];
            if (c == ':') {
                hostEnd = j;
                portStart = j + 1;
                break;
            }
            if (c < '0' || c > '9') {
                break;
            }
        }
        int crc = Hashing.crc32Update(~0, name, 0, hostEnd);
        crc = Hashing.crc32Update(crc, new byte[1], 0, 1);
        return Hashing.crc32Update(crc, name, portStart, name.length);
    }

    /** The number of points on the ring. */
    public int points() {
        return points.length;
    }

    @Override
    public int size() {
        return backends.length;
    }

    @Override
    public Backend backend(int index) {
        return backends[index];
    }

    @Override
    public int first(byte[] key) {
        int n = backends.length;
        if (n <= 1) {
            return n - 1;
        }
        return owners[start(key)];
    }

    @Override
    public int next(byte[] key, int previous, int attempt) {
        int p = points.length;
        if (backends.length <= 1 || attempt >= p) {
            return -1;
        }
        int at = start(key) + attempt;
        return owners[at >= p ? at - p : at];
    }

    // The first point at or after crc32(key), wrapping: nginx's ngx_http_upstream_find_chash_point.
    private int start(byte[] key) {
        int hash = Hashing.crc32(key) ^ Integer.MIN_VALUE;
        int lo = 0;
        int hi = points.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (points[mid] < hash) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo == points.length ? 0 : lo;
    }
}
