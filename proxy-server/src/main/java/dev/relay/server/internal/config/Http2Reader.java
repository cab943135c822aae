package dev.relay.server.internal.config;

import dev.relay.transport.Http2Settings;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reads {@code proxy.server.http2} into {@link Http2Settings}, one small method per key as in
 * {@link ServerSectionReader}. A key left out keeps the engine's default (reference.conf has every
 * one). The block is restart-only as a whole: the engine's options are set once, at start.
 */
final class Http2Reader {
    /** Reads one key into the builder. */
    @FunctionalInterface
    private interface KeyReader {
        void read(Http2Settings.Builder settings, ConfigNode node);
    }

    private record Key(String name, KeyReader reader) {}

    private static final long MAX_WINDOW = Integer.MAX_VALUE;
    private static final Duration MAX_INTERVAL = Duration.ofHours(24);

    /** In reading order: of several bad keys, the first one here is reported. */
    private static final List<Key> KEYS = List.of(
            new Key("enabled", (b, n) -> b.enabled(n.bool())),
            new Key("max-concurrent-streams", (b, n) -> b.maxConcurrentStreams(n.integer(1, Integer.MAX_VALUE))),
            new Key("initial-stream-window", (b, n) -> b.initialStreamWindow((int) n.bytes(65_535, MAX_WINDOW))),
            new Key("connection-window", (b, n) -> b.connectionWindow((int) n.bytes(65_535, MAX_WINDOW))),
            new Key("max-frame-size", (b, n) -> b.maxFrameSize((int) n.bytes(16_384, 16_777_215))),
            new Key("max-header-list-size", Http2Reader::maxHeaderListSize),
            new Key("ping-interval", (b, n) -> b.pingInterval(n.positiveDuration(Duration.ofSeconds(60), MAX_INTERVAL))),
            new Key("ping-timeout", (b, n) -> b.pingTimeout(n.positiveDuration(Duration.ofSeconds(20), MAX_INTERVAL))),
            new Key("max-resets-per-window", (b, n) -> b.maxResetsPerWindow(n.integer(1, Integer.MAX_VALUE))),
            new Key("reset-window", Http2Reader::resetWindow),
            new Key("max-queued-control-frames", (b, n) -> b.maxQueuedControlFrames(n.integer(1, Integer.MAX_VALUE))),
            new Key("max-consecutive-empty-data-frames",
                    (b, n) -> b.maxConsecutiveEmptyDataFrames(n.integer(1, Integer.MAX_VALUE))),
            new Key("max-small-continuation-frames",
                    (b, n) -> b.maxSmallContinuationFrames(n.integer(1, Integer.MAX_VALUE))));

    private static final Set<String> KEY_NAMES = KEYS.stream().map(Key::name).collect(Collectors.toUnmodifiableSet());

    private Http2Reader() {}

    /** Reads and checks {@code node} ({@code proxy.server.http2}); the defaults when it is missing. */
    static Http2Settings read(ConfigNode node) {
        Http2Settings.Builder b = Http2Settings.builder();
        if (node.isMissing()) {
            return b.build();
        }
        node.checkKeys(KEY_NAMES);
        for (Key key : KEYS) {
            ConfigNode value = node.get(key.name());
            if (!value.isMissing()) {
                key.reader().read(b, value);
            }
        }
        return b.build();
    }

    /** A size, or {@code none}: the same limit as {@code max-header-size}. */
    private static void maxHeaderListSize(Http2Settings.Builder b, ConfigNode n) {
        if (n.isString() && n.string().trim().equalsIgnoreCase("none")) {
            b.maxHeaderListSize(null);
            return;
        }
        b.maxHeaderListSize((int) n.bytes(256, 16L * 1024 * 1024));
    }

    /** Whole seconds, at least one: Netty counts resets per window of seconds. */
    private static void resetWindow(Http2Settings.Builder b, ConfigNode n) {
        Duration d = n.positiveDuration(Duration.ofSeconds(30), MAX_INTERVAL);
        if (d.toMillis() % 1000 != 0) {
            throw n.problem(n.describeValue() + " (expected: whole seconds, such as 30s)");
        }
        b.resetWindow(d);
    }
}
