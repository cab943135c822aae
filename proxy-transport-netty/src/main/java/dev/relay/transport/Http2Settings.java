package dev.relay.transport;

import org.jspecify.annotations.Nullable;

import java.time.Duration;
import java.util.Objects;

import static java.util.Objects.requireNonNull;

/**
 * HTTP/2 towards clients: whether listeners speak it (ALPN {@code h2} on TLS listeners, prior knowledge
 * {@code h2c} on plain ones), the SETTINGS the proxy announces, flow-control windows, PING-based idle
 * detection and the limits that refuse the HTTP/2 attacks Netty guards against (rapid reset,
 * MadeYouReset, control-frame, empty-DATA and CONTINUATION floods). Held by
 * {@link ProxyOptions#http2()}; a listener may turn HTTP/2 off with {@link ListenerOptions.Builder#http2}.
 * Immutable; equal when every setting is.
 *
 * <pre>{@code
 * ProxyOptions options = ProxyOptions.builder()
 *         .http2(Http2Settings.builder().maxConcurrentStreams(256).pingInterval(Duration.ofSeconds(30)).build())
 *         .build();
 * }</pre>
 */
public final class Http2Settings {
    private static final Http2Settings DEFAULTS = new Builder().build();

    private final boolean enabled;
    private final int maxConcurrentStreams;
    private final int initialStreamWindow;
    private final int connectionWindow;
    private final int maxFrameSize;
    private final @Nullable Integer maxHeaderListSize;
    private final Duration pingInterval;
    private final Duration pingTimeout;
    private final int maxResetsPerWindow;
    private final Duration resetWindow;
    private final int maxQueuedControlFrames;
    private final int maxConsecutiveEmptyDataFrames;
    private final int maxSmallContinuationFrames;

    private Http2Settings(Builder b) {
        this.enabled = b.enabled;
        this.maxConcurrentStreams = b.maxConcurrentStreams;
        this.initialStreamWindow = b.initialStreamWindow;
        this.connectionWindow = b.connectionWindow;
        this.maxFrameSize = b.maxFrameSize;
        this.maxHeaderListSize = b.maxHeaderListSize;
        this.pingInterval = b.pingInterval;
        this.pingTimeout = b.pingTimeout;
        this.maxResetsPerWindow = b.maxResetsPerWindow;
        this.resetWindow = b.resetWindow;
        this.maxQueuedControlFrames = b.maxQueuedControlFrames;
        this.maxConsecutiveEmptyDataFrames = b.maxConsecutiveEmptyDataFrames;
        this.maxSmallContinuationFrames = b.maxSmallContinuationFrames;
    }

    /** The defaults: HTTP/2 on, the values documented per setting. */
    public static Http2Settings defaults() {
        return DEFAULTS;
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these settings. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.enabled = enabled;
        b.maxConcurrentStreams = maxConcurrentStreams;
        b.initialStreamWindow = initialStreamWindow;
        b.connectionWindow = connectionWindow;
        b.maxFrameSize = maxFrameSize;
        b.maxHeaderListSize = maxHeaderListSize;
        b.pingInterval = pingInterval;
        b.pingTimeout = pingTimeout;
        b.maxResetsPerWindow = maxResetsPerWindow;
        b.resetWindow = resetWindow;
        b.maxQueuedControlFrames = maxQueuedControlFrames;
        b.maxConsecutiveEmptyDataFrames = maxConsecutiveEmptyDataFrames;
        b.maxSmallContinuationFrames = maxSmallContinuationFrames;
        return b;
    }

    /**
     * Whether listeners speak HTTP/2 (default true): TLS listeners offer {@code h2} before
     * {@code http/1.1} with ALPN, plain listeners accept prior-knowledge {@code h2c} next to HTTP/1.1.
     */
    public boolean enabled() {
        return enabled;
    }

    /** {@code SETTINGS_MAX_CONCURRENT_STREAMS}: streams a client may have open at once (default 128). */
    public int maxConcurrentStreams() {
        return maxConcurrentStreams;
    }

    /**
     * {@code SETTINGS_INITIAL_WINDOW_SIZE}: request-body bytes a client may send on one stream before
     * the proxy acknowledges them (default 1 MiB). Bytes are acknowledged as the call takes them, so
     * this is the most one stream can have buffered in the proxy; a window of 1 MiB keeps a loopback
     * or LAN upload at full speed (bandwidth-delay product far below it) while bounding memory.
     */
    public int initialStreamWindow() {
        return initialStreamWindow;
    }

    /**
     * The connection's receive window (default 16 MiB): the sum the streams of one connection may
     * have in flight towards the proxy; 16 streams at a full stream window each.
     */
    public int connectionWindow() {
        return connectionWindow;
    }

    /** {@code SETTINGS_MAX_FRAME_SIZE}: the largest frame payload the proxy accepts (default 16384). */
    public int maxFrameSize() {
        return maxFrameSize;
    }

    /**
     * {@code SETTINGS_MAX_HEADER_LIST_SIZE}: the largest decoded header list a request may have
     * (beyond: {@code 431}); null (the default) takes {@link ProxyOptions#maxHeaderBytes()}, the
     * HTTP/1.1 limit. An HPACK bomb (a small block that decodes to a huge list) stops here.
     */
    public @Nullable Integer maxHeaderListSize() {
        return maxHeaderListSize;
    }

    /** Send a PING after this long without a frame from the client (default 60 s). */
    public Duration pingInterval() {
        return pingInterval;
    }

    /** Close the connection when a PING is not acknowledged within this (default 20 s). */
    public Duration pingTimeout() {
        return pingTimeout;
    }

    /**
     * Streams a client may reset, and streams it may make the proxy reset, per {@link #resetWindow()}
     * before the connection is closed with GOAWAY {@code ENHANCE_YOUR_CALM} (default 200): rapid reset
     * (CVE-2023-44487) and MadeYouReset (CVE-2025-8671).
     */
    public int maxResetsPerWindow() {
        return maxResetsPerWindow;
    }

    /** The window {@link #maxResetsPerWindow()} counts over (default 30 s). */
    public Duration resetWindow() {
        return resetWindow;
    }

    /**
     * Control frames (PING and SETTINGS acknowledgements, RST_STREAM) the proxy may have queued for a
     * client that does not read them before the connection is closed (default 10000, Netty's).
     */
    public int maxQueuedControlFrames() {
        return maxQueuedControlFrames;
    }

    /** Empty DATA frames without end of stream a client may send in a row (default 2, Netty's). */
    public int maxConsecutiveEmptyDataFrames() {
        return maxConsecutiveEmptyDataFrames;
    }

    /** Small CONTINUATION frames a header block may take (default 16, Netty's): CONTINUATION floods. */
    public int maxSmallContinuationFrames() {
        return maxSmallContinuationFrames;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof Http2Settings s && enabled == s.enabled && maxConcurrentStreams == s.maxConcurrentStreams
                && initialStreamWindow == s.initialStreamWindow && connectionWindow == s.connectionWindow
                && maxFrameSize == s.maxFrameSize && Objects.equals(maxHeaderListSize, s.maxHeaderListSize)
                && pingInterval.equals(s.pingInterval) && pingTimeout.equals(s.pingTimeout)
                && maxResetsPerWindow == s.maxResetsPerWindow && resetWindow.equals(s.resetWindow)
                && maxQueuedControlFrames == s.maxQueuedControlFrames
                && maxConsecutiveEmptyDataFrames == s.maxConsecutiveEmptyDataFrames
                && maxSmallContinuationFrames == s.maxSmallContinuationFrames;
    }

    @Override
    public int hashCode() {
        return Objects.hash(enabled, maxConcurrentStreams, initialStreamWindow, connectionWindow, maxFrameSize,
                maxHeaderListSize, pingInterval, pingTimeout, maxResetsPerWindow, resetWindow, maxQueuedControlFrames,
                maxConsecutiveEmptyDataFrames, maxSmallContinuationFrames);
    }

    @Override
    public String toString() {
        return "Http2Settings{enabled=" + enabled + ", maxConcurrentStreams=" + maxConcurrentStreams
                + ", initialStreamWindow=" + initialStreamWindow + ", connectionWindow=" + connectionWindow
                + ", maxFrameSize=" + maxFrameSize + ", maxHeaderListSize="
                + (maxHeaderListSize == null ? "maxHeaderBytes" : maxHeaderListSize)
                + ", pingInterval=" + pingInterval + ", pingTimeout=" + pingTimeout
                + ", maxResetsPerWindow=" + maxResetsPerWindow + ", resetWindow=" + resetWindow + '}';
    }

    /** Builds {@link Http2Settings}; each setter validates its argument. Not thread-safe. */
    public static final class Builder {
        /** RFC 9113 §6.5.2: a window is at most 2^31-1 bytes. */
        private static final int MAX_WINDOW = Integer.MAX_VALUE;

        private boolean enabled = true;
        private int maxConcurrentStreams = 128;
        private int initialStreamWindow = 1024 * 1024;
        private int connectionWindow = 16 * 1024 * 1024;
        private int maxFrameSize = 16384;
        private @Nullable Integer maxHeaderListSize;
        private Duration pingInterval = Duration.ofSeconds(60);
        private Duration pingTimeout = Duration.ofSeconds(20);
        private int maxResetsPerWindow = 200;
        private Duration resetWindow = Duration.ofSeconds(30);
        private int maxQueuedControlFrames = 10_000;
        private int maxConsecutiveEmptyDataFrames = 2;
        private int maxSmallContinuationFrames = 16;

        private Builder() {}

        /** See {@link Http2Settings#enabled()}. */
        public Builder enabled(boolean enabled) {
            this.enabled = enabled;
            return this;
        }

        /** See {@link Http2Settings#maxConcurrentStreams()}; at least 1. */
        public Builder maxConcurrentStreams(int streams) {
            this.maxConcurrentStreams = between("maxConcurrentStreams", streams, 1, Integer.MAX_VALUE);
            return this;
        }

        /** See {@link Http2Settings#initialStreamWindow()}; 65535 .. 2^31-1. */
        public Builder initialStreamWindow(int bytes) {
            this.initialStreamWindow = between("initialStreamWindow", bytes, 65_535, MAX_WINDOW);
            return this;
        }

        /** See {@link Http2Settings#connectionWindow()}; 65535 .. 2^31-1. */
        public Builder connectionWindow(int bytes) {
            this.connectionWindow = between("connectionWindow", bytes, 65_535, MAX_WINDOW);
            return this;
        }

        /** See {@link Http2Settings#maxFrameSize()}; 16384 .. 16777215 (RFC 9113 §6.5.2). */
        public Builder maxFrameSize(int bytes) {
            this.maxFrameSize = between("maxFrameSize", bytes, 16_384, 16_777_215);
            return this;
        }

        /** See {@link Http2Settings#maxHeaderListSize()}; at least 256, or null for the HTTP/1.1 limit. */
        public Builder maxHeaderListSize(@Nullable Integer bytes) {
            this.maxHeaderListSize = bytes == null ? null : between("maxHeaderListSize", bytes, 256, Integer.MAX_VALUE);
            return this;
        }

        /** See {@link Http2Settings#pingInterval()}; {@code > 0}. */
        public Builder pingInterval(Duration interval) {
            this.pingInterval = positive("pingInterval", interval);
            return this;
        }

        /** See {@link Http2Settings#pingTimeout()}; {@code > 0}. */
        public Builder pingTimeout(Duration timeout) {
            this.pingTimeout = positive("pingTimeout", timeout);
            return this;
        }

        /** See {@link Http2Settings#maxResetsPerWindow()}; at least 1. */
        public Builder maxResetsPerWindow(int resets) {
            this.maxResetsPerWindow = between("maxResetsPerWindow", resets, 1, Integer.MAX_VALUE);
            return this;
        }

        /** See {@link Http2Settings#resetWindow()}; at least one second (Netty counts in whole seconds). */
        public Builder resetWindow(Duration window) {
            if (requireNonNull(window, "window").getSeconds() < 1 || window.getSeconds() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("resetWindow: " + window + " (expected: >= 1s)");
            }
            this.resetWindow = window;
            return this;
        }

        /** See {@link Http2Settings#maxQueuedControlFrames()}; at least 1. */
        public Builder maxQueuedControlFrames(int frames) {
            this.maxQueuedControlFrames = between("maxQueuedControlFrames", frames, 1, Integer.MAX_VALUE);
            return this;
        }

        /** See {@link Http2Settings#maxConsecutiveEmptyDataFrames()}; at least 1. */
        public Builder maxConsecutiveEmptyDataFrames(int frames) {
            this.maxConsecutiveEmptyDataFrames = between("maxConsecutiveEmptyDataFrames", frames, 1, Integer.MAX_VALUE);
            return this;
        }

        /** See {@link Http2Settings#maxSmallContinuationFrames()}; at least 1. */
        public Builder maxSmallContinuationFrames(int frames) {
            this.maxSmallContinuationFrames = between("maxSmallContinuationFrames", frames, 1, Integer.MAX_VALUE);
            return this;
        }

        /** The settings. */
        public Http2Settings build() {
            return new Http2Settings(this);
        }

        private static int between(String name, int value, int min, int max) {
            if (value < min || value > max) {
                throw new IllegalArgumentException(name + ": " + value + " (expected: " + min + ".." + max + ")");
            }
            return value;
        }

        private static Duration positive(String name, @Nullable Duration value) {
            if (value == null || value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
            }
            return value;
        }
    }
}
