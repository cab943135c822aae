package dev.relay.server.internal.metrics;

import dev.relay.server.Service;
import dev.relay.transport.TransportRuntime;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/** Runs the {@link AccessLog} for the life of the server: the first service, so it stops last and writes every line. */
public final class AccessLogService implements Service {
    private final AccessLog log;

    /** The service of {@code log}. */
    public AccessLogService(AccessLog log) {
        this.log = requireNonNull(log, "log");
    }

    @Override
    public String name() {
        return "access-log";
    }

    @Override
    public void start(TransportRuntime runtime) {
        // The writer thread runs from construction: lines of the first requests are not lost.
    }

    @Override
    public CompletionStage<Void> stop(Duration gracePeriod) {
        log.close();
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {
        log.close();
    }
}
