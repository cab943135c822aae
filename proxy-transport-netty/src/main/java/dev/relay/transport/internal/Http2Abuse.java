package dev.relay.transport.internal;

import java.util.Locale;
import java.util.Map;

/**
 * Why {@link Http2FloodGuard} ended a client's HTTP/2 connection, and how often each reason has, per
 * service (read by the server's metrics as {@code relay_http2_abuse_total{reason}}). Thread-safe.
 */
public final class Http2Abuse {
    /** A reason; {@link #label()} is the metric label and the word in the log line and the GOAWAY. */
    public enum Reason {
        SETTINGS_FLOOD,
        PING_FLOOD,
        PRIORITY_FLOOD,
        WINDOW_UPDATE_FLOOD,
        EMPTY_DATA_FLOOD,
        /** Streams reset, by either side (Rapid Reset: the client's; MadeYouReset: the server's, provoked). */
        STREAM_CHURN,
        /** A header block (HEADERS and its CONTINUATION frames) still open after the header read timeout. */
        HEADERS_TIMEOUT;

        /** The metric label value, the name in lower case, as in {@code reason="stream_churn"}. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final EnumCounts<Reason> counts = new EnumCounts<>(Reason.class);
    /** An attack on many connections is one log line a second, for all of them. */
    private final LogRateLimit logLines;

    /** Counts from zero; the first log line may be written at once (the time of {@code clock}). */
    public Http2Abuse(EngineClock clock) {
        this.logLines = new LogRateLimit(clock, 1);
    }

    void count(Reason reason) {
        counts.increment(reason);
    }

    /**
     * Whether a connection ended for abuse now may be logged: at most one line a second for all
     * connections. Returns -1 when not, else how many went unlogged since the last line.
     */
    long logPermit() {
        return logLines.permit();
    }

    /** Connections ended since start, by reason (every reason present, zero included). */
    public Map<Reason, Long> counts() {
        return counts.snapshot();
    }
}
