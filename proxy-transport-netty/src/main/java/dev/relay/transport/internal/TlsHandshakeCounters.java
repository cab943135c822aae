package dev.relay.transport.internal;

import java.util.concurrent.atomic.LongAdder;

/** Handshakes completed and failed on a server's TLS listeners, for metrics. Thread-safe. */
public final class TlsHandshakeCounters {
    private final LongAdder completed = new LongAdder();
    private final LongAdder failed = new LongAdder();

    void completed() {
        completed.increment();
    }

    void failed() {
        failed.increment();
    }

    /** Handshakes that completed. */
    public long completedCount() {
        return completed.sum();
    }

    /** Handshakes that failed (including clients that left or timed out during one). */
    public long failedCount() {
        return failed.sum();
    }
}
