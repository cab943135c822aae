package dev.relay.transport.internal;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Why {@link Http2FloodGuard} ended a client's HTTP/2 connection, and how often each reason has, per
 * service (read by the server's metrics as {@code relay_http2_abuse_total{reason}}). Thread-safe.
 */
public final class Http2Abuse {
    /** A reason; {@link #label()} is the metric label and the word in the log line and the GOAWAY. */
    public enum Reason {
        SETTINGS_FLOOD("settings_flood"),
        PING_FLOOD("ping_flood"),
        PRIORITY_FLOOD("priority_flood"),
        WINDOW_UPDATE_FLOOD("window_update_flood"),
        EMPTY_DATA_FLOOD("empty_data_flood"),
        /** Streams reset, by either side (Rapid Reset: the client's; MadeYouReset: the server's, provoked). */
        STREAM_CHURN("stream_churn"),
        /** A header block (HEADERS and its CONTINUATION frames) still open after the header read timeout. */
        HEADERS_TIMEOUT("headers_timeout");

        private final String label;

        Reason(String label) {
            this.label = label;
        }

        /** The metric label value, as in {@code reason="stream_churn"}. */
        public String label() {
            return label;
        }
    }

    private final LongAdder[] counts = new LongAdder[Reason.values().length];
    /** An attack on many connections is one log line a second, for all of them. */
    private final LogRateLimit logLines;

    /** Counts from zero; the first log line may be written at once (the time of {@code clock}). */
    public Http2Abuse(EngineClock clock) {
        this.logLines = new LogRateLimit(clock, 1);
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    void count(Reason reason) {
        counts[reason.ordinal()].increment();
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
        Map<Reason, Long> all = new EnumMap<>(Reason.class);
        for (Reason reason : Reason.values()) {
            all.put(reason, counts[reason.ordinal()].sum());
        }
        return all;
    }
}
