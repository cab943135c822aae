package dev.relay.transport.internal;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the HTTP/2 upstream pool reports: totals since start (connections opened, streams opened,
 * streams that went on a connection already carrying or having carried others, connections dropped
 * for an unanswered PING) and, per pool group ({@link dev.relay.core.HttpPeer#groupKey()}), the
 * connections and streams open now. Written on event loops, read by the metrics and admin threads.
 */
final class Http2Counters {
    final LongAdder connectionsOpened = new LongAdder();
    final LongAdder streamsOpened = new LongAdder();
    final LongAdder streamsReused = new LongAdder();
    final LongAdder pingFailures = new LongAdder();
    private final ConcurrentHashMap<Long, Group> groups = new ConcurrentHashMap<>();

    /** The counters of pool group {@code groupKey}. */
    Group group(long groupKey) {
        Group g = groups.get(groupKey);
        return g != null ? g : groups.computeIfAbsent(groupKey, k -> new Group());
    }

    /** HTTP/2 connections of pool group {@code groupKey} open now. */
    int connections(long groupKey) {
        Group g = groups.get(groupKey);
        return g == null ? 0 : g.connections.get();
    }

    /** Streams of pool group {@code groupKey} open now. */
    int activeStreams(long groupKey) {
        Group g = groups.get(groupKey);
        return g == null ? 0 : g.streams.get();
    }

    /** One pool group's gauges, with the totals they feed. */
    final class Group {
        private final AtomicInteger connections = new AtomicInteger();
        private final AtomicInteger streams = new AtomicInteger();

        void connectionOpened() {
            connections.incrementAndGet();
            connectionsOpened.increment();
        }

        void connectionClosed() {
            connections.decrementAndGet();
        }

        void streamOpened(boolean reused) {
            streams.incrementAndGet();
            streamsOpened.increment();
            if (reused) {
                streamsReused.increment();
            }
        }

        void streamClosed() {
            streams.decrementAndGet();
        }

        void pingFailed() {
            pingFailures.increment();
        }
    }
}
