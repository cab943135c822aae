package dev.relay.transport.internal;

import dev.relay.core.HttpPeer;
import io.netty.util.concurrent.FastThreadLocal;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Idle upstream connections, keyed by {@link HttpPeer#reuseKey()}. Each event loop has its own
 * partition, touched only by that loop's thread (no locks); a connection is reused by the loop it
 * was opened on, which is also the loop of the downstream connections that use it. The newest idle
 * connection is reused first (it is the least likely to have been closed by the origin).
 * A process-wide cap bounds the idle connections of all partitions together.
 */
final class UpstreamConnectionPool {
    private final FastThreadLocal<Map<Object, ArrayDeque<UpstreamConnection>>> partitions =
            new FastThreadLocal<>() {
                @Override
                protected Map<Object, ArrayDeque<UpstreamConnection>> initialValue() {
                    return new HashMap<>();
                }
            };
    private final AtomicInteger idleCount = new AtomicInteger();
    private static final int RETIRED_KEPT = 4096;
    /** The retired pool groups, sorted (see {@link #retire}); replaced whole, read without a lock. */
    private volatile long[] retiredGroups = new long[0];
    private final int maxIdle;
    private final Duration defaultIdleTimeout;
    final LongAdder opened = new LongAdder();
    final LongAdder reused = new LongAdder();

    UpstreamConnectionPool(int maxIdle, Duration defaultIdleTimeout) {
        this.maxIdle = maxIdle;
        this.defaultIdleTimeout = defaultIdleTimeout;
    }

    /** An idle, usable connection for {@code key} on the calling event loop, or null. */
    UpstreamConnection checkout(Object key) {
        ArrayDeque<UpstreamConnection> idle = partitions.get().get(key);
        if (idle == null) {
            return null;
        }
        UpstreamConnection conn;
        while ((conn = idle.pollLast()) != null) {
            idleCount.decrementAndGet();
            conn.idleTimer.disarm();
            if (conn.isUsable()) {
                reused.increment();
                return conn;
            }
            conn.close();
        }
        return null;
    }

    /** Keeps {@code conn} for reuse, or closes it when pooling is off or the pool is full. */
    void release(UpstreamConnection conn, HttpPeer peer) {
        Duration idleTimeout = peer.options().idleTimeout() != null ? peer.options().idleTimeout() : defaultIdleTimeout;
        if (!conn.isUsable() || idleTimeout.isZero()) {
            conn.close();
            return;
        }
        if (idleCount.incrementAndGet() > maxIdle) {
            idleCount.decrementAndGet();
            conn.close();
            return;
        }
        Map<Object, ArrayDeque<UpstreamConnection>> partition = partitions.get();
        ArrayDeque<UpstreamConnection> idle = partition.get(conn.key);
        if (idle == null) {
            if (isRetired(conn.key)) {
                // A request that began before its group was retired: the connection has no future.
                idleCount.decrementAndGet();
                conn.close();
                return;
            }
            idle = new ArrayDeque<>();
            partition.put(conn.key, idle);
        }
        int perPeerCap = peer.options().maxIdleConnections();
        if (perPeerCap > 0 && idle.size() >= perPeerCap) {
            idleCount.decrementAndGet();
            conn.close();
            return;
        }
        conn.markIdle();
        idle.addLast(conn);
        conn.idleTimer.arm(idleTimeout.toNanos());
    }

    /** Removes an idle connection that went stale (called on its event loop). */
    void evict(UpstreamConnection conn) {
        // getIfExists: a connection that closes after the partition was forgotten must not make it anew.
        Map<Object, ArrayDeque<UpstreamConnection>> partition = partitions.getIfExists();
        ArrayDeque<UpstreamConnection> idle = partition == null ? null : partition.get(conn.key);
        if (idle != null && idle.remove(conn)) {
            idleCount.decrementAndGet();
            conn.idleTimer.disarm();
        }
    }

    /**
     * Marks pool group {@code groupKey} retired, process-wide: a connection of it released from now on is
     * closed rather than pooled (a request that started before the retirement finishes after it). Keeps
     * the {@value #RETIRED_KEPT} most recent (group ids only grow, so the lowest go first); a request
     * older than that many reloads is long gone.
     */
    synchronized void retire(long groupKey) {
        long[] now = retiredGroups;
        int keep = Math.min(now.length, RETIRED_KEPT - 1);
        long[] next = new long[keep + 1];
        System.arraycopy(now, now.length - keep, next, 0, keep);
        next[keep] = groupKey;
        java.util.Arrays.sort(next);
        retiredGroups = next;
    }

    /** Whether {@code key} belongs to a retired group; asked only when a partition has no entry for it. */
    private boolean isRetired(Object key) {
        return key instanceof HttpPeer.PoolKey poolKey && isRetiredGroup(poolKey.groupKey());
    }

    /** Whether pool group {@code groupKey} was retired ({@link #retire}); the HTTP/2 pool asks it too. */
    boolean isRetiredGroup(long groupKey) {
        return java.util.Arrays.binarySearch(retiredGroups, groupKey) >= 0;
    }

    /**
     * Closes the idle connections of pool group {@code groupKey} in the calling event loop's partition
     * and forgets their keys: the group was dropped or replaced by a reload, nothing will ask for
     * them again. Without this they would sit until their idle timeout, and their (empty) partition
     * entries forever, one per backend and loop for each reload that changes the group.
     *
     * @return how many connections it closed
     */
    int closeIdle(long groupKey) {
        int closed = 0;
        var entries = partitions.get().entrySet().iterator();
        while (entries.hasNext()) {
            var entry = entries.next();
            if (entry.getKey() instanceof HttpPeer.PoolKey key && key.groupKey() == groupKey) {
                for (UpstreamConnection conn : entry.getValue()) {
                    idleCount.decrementAndGet();
                    conn.idleTimer.disarm();
                    conn.close();
                    closed++;
                }
                entries.remove();
            }
        }
        return closed;
    }

    /**
     * Every open upstream channel. It stays closed after {@link #closeAll()}: a connect that was under way
     * then (or a request that raced the close) closes its channel the moment it is tracked, instead of
     * leaving a live connection behind a closed client.
     */
    private final io.netty.channel.group.ChannelGroup channels = new io.netty.channel.group.DefaultChannelGroup(
            "relay-upstream", io.netty.util.concurrent.GlobalEventExecutor.INSTANCE, true);

    /** Remembers an open upstream channel so that {@link #closeAll()} can reach it on any event loop. */
    void track(io.netty.channel.Channel channel) {
        channels.add(channel);
    }

    /** Closes every upstream connection, idle or in use, and any tracked from now on (server shutdown). */
    io.netty.channel.group.ChannelGroupFuture closeAll() {
        return channels.close();
    }

    /**
     * Drops the calling event loop's partition. A {@link FastThreadLocal} lives as long as its thread: the
     * pool of a client that shares a runtime it does not own must take its partitions away when it closes,
     * or each closed client leaves one behind on every loop of the runtime.
     */
    void forgetPartition() {
        partitions.remove();
    }

    /** Idle connections across all partitions. */
    int idleConnections() {
        return idleCount.get();
    }
}
