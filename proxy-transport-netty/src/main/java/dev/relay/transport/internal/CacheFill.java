package dev.relay.transport.internal;

import dev.relay.core.cache.CacheKey;
import dev.relay.core.cache.CacheMeta;
import dev.relay.core.cache.CachedObject;
import dev.relay.core.cache.HttpCache;
import dev.relay.core.cache.NoCacheReason;
import io.netty.buffer.ByteBuf;
import org.jspecify.annotations.Nullable;

import java.util.ArrayList;
import java.util.List;

/**
 * One origin fetch of one cache key that other requests may wait on and read while it arrives: the
 * cache lock of Pingora and nginx's {@code proxy_cache_lock}, with streaming readers. The request that
 * fetches (the writer) reports the stored header ({@link #begin}), each body part ({@link #append})
 * and the end ({@link #complete}), or gives up ({@link #abandon}); waiting requests (on any event loop)
 * are woken on their own loop at each step and read the parts by index.
 *
 * <p>Parts are copies ({@code byte[]}): they outlive the writer's buffers, are shared by every reader
 * without reference counting, and become the stored body at the end. A fill that outgrows the storage's
 * maximum object size is abandoned: its writer streams on uncached.
 */
final class CacheFill {
    /** Where a fill is. */
    enum State { WAITING_FOR_HEADER, STREAMING, COMPLETE, ABANDONED }

    /** A request waiting on or reading a fill. */
    interface Reader {
        /**
         * The fill moved on (a header, parts, the end, or its abandonment). Called on the writer's thread:
         * the reader hops to its own event loop, and may fold several wake-ups into one.
         */
        void wake();
    }

    final HttpCache cache;
    /** The storage key the fill is locked under (a primary key, or a variant's). */
    final String lockKey;
    private final CacheFills owner;
    private final long maxObjectSize;
    private final List<Reader> readers = new ArrayList<>();
    /** The body as it arrived; indices never change, so a reader keeps its place by index. */
    private final List<byte[]> parts = new ArrayList<>();
    /** The whole body in one array, once complete. */
    private byte @Nullable [] body;
    private State state = State.WAITING_FOR_HEADER;
    private @Nullable CacheMeta meta;
    /** The key the response is stored under, its variance naming the readers that may read it. */
    private @Nullable CacheKey storedKey;
    private long length;
    /** Whether a request that waited on an abandoned fill should try to fetch it itself (false: the response is not storable). */
    private boolean retryable;

    CacheFill(HttpCache cache, String lockKey, CacheFills owner) {
        this.cache = cache;
        this.lockKey = lockKey;
        this.owner = owner;
        this.maxObjectSize = cache.storage().maxObjectSize();
    }

    /** Adds a reader; false when the fill is over and gone from the lock (the caller looks up again). */
    synchronized boolean attach(Reader reader) {
        if (state == State.ABANDONED) {
            return false;
        }
        readers.add(reader);
        return true;
    }

    synchronized void detach(Reader reader) {
        readers.remove(reader);
    }

    /**
     * The response is storable: it is stored under {@code key} with {@code meta}; readers whose
     * variance is the key's may read it.
     */
    void begin(CacheMeta storedMeta, CacheKey key) {
        synchronized (this) {
            meta = storedMeta;
            storedKey = key;
            state = State.STREAMING;
        }
        wakeReaders();
    }

    /**
     * Copies a body part in; false when the object has outgrown the storage's maximum size, and the
     * fill was abandoned.
     */
    boolean append(ByteBuf data) {
        int n = data.readableBytes();
        if (length + n > maxObjectSize) {
            abandon(NoCacheReason.RESPONSE_TOO_LARGE, false);
            return false;
        }
        if (n == 0) {
            return true;
        }
        byte[] copy = new byte[n];
        data.getBytes(data.readerIndex(), copy);
        synchronized (this) {
            parts.add(copy);
            length += n;
        }
        wakeReaders();
        return true;
    }

    /** The whole body arrived: it is stored, and readers read to the end. */
    void complete() {
        CachedObject object;
        synchronized (this) {
            if (state != State.STREAMING) {
                return;
            }
            state = State.COMPLETE;
            byte[] whole = parts.size() == 1 ? parts.get(0) : new byte[(int) length];
            if (parts.size() != 1) {
                int at = 0;
                for (byte[] part : parts) {
                    System.arraycopy(part, 0, whole, at, part.length);
                    at += part.length;
                }
            }
            body = whole;
            object = new CachedObject(meta, whole);
        }
        store(object);
        owner.remove(this);
        wakeReaders();
    }

    /** A revalidation confirmed the {@code object} stored under {@code key}: readers are served it whole. */
    void completeWith(CachedObject object, CacheKey key) {
        synchronized (this) {
            meta = object.meta();
            storedKey = key;
            parts.clear();
            parts.add(object.body());
            body = object.body();
            length = object.body().length;
            state = State.COMPLETE;
        }
        owner.remove(this);
        wakeReaders();
    }

    /**
     * The fetch ended without a storable response. With {@code retry}, a waiting request fetches it
     * itself through a new fill (the writer failed); without, it goes to the origin uncached.
     */
    void abandon(NoCacheReason reason, boolean retry) {
        synchronized (this) {
            if (state == State.COMPLETE || state == State.ABANDONED) {
                return;
            }
            // The parts stay: a reader on another loop may be between reading the count and a part;
            // they go with the fill once every reader has let go of it.
            state = State.ABANDONED;
            retryable = retry;
        }
        owner.remove(this);
        wakeReaders();
    }

    private void store(CachedObject object) {
        CacheKey key = storedKey;
        if (key == null) {
            return;
        }
        if (key.variance() != null) {
            // The primary key keeps an empty marker whose Vary tells a later lookup which variant to look for.
            cache.storage().put(key.primary(), new CachedObject(object.meta(), new byte[0]));
        }
        cache.storage().put(key.storageKey(), object);
    }

    private void wakeReaders() {
        Reader[] toWake;
        synchronized (this) {
            if (readers.isEmpty()) {
                // The usual fill has no one waiting: no copy per body part.
                return;
            }
            toWake = readers.toArray(new Reader[0]);
        }
        for (Reader reader : toWake) {
            reader.wake();
        }
    }

    synchronized State state() {
        return state;
    }

    synchronized boolean retryable() {
        return retryable;
    }

    synchronized @Nullable CacheMeta meta() {
        return meta;
    }

    synchronized @Nullable String variance() {
        CacheKey key = storedKey;
        return key == null ? null : key.variance();
    }

    /** The parts that have arrived so far; the first {@code count} of them never change. */
    synchronized int partCount() {
        return parts.size();
    }

    synchronized byte[] part(int index) {
        return parts.get(index);
    }

    /** The whole body once the fill is complete, else null. */
    synchronized byte @Nullable [] completeBody() {
        return state == State.COMPLETE ? body : null;
    }
}
