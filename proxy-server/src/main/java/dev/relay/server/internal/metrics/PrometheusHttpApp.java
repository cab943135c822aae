package dev.relay.server.internal.metrics;

import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.ProxyHttp;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.jspecify.annotations.Nullable;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * The application of {@code Services.prometheusHttp()}: answers every {@code GET} (or {@code HEAD}),
 * whatever its path, with a registry's metrics in the Prometheus text format, as Pingora's
 * {@code prometheus_http_service} does; other methods get 405. Nothing goes upstream: every request
 * is answered in {@link #requestFilter}.
 *
 * <p>The scrape runs on a thread of the app's own, never on the proxy's event loop: it walks the whole
 * registry and runs its collectors' callbacks (user code: a gauge that reads a file, a queue, a pool),
 * and the loop it would block carries other connections. One thread is enough for a scrape every few
 * seconds; it ends after a minute without one.
 */
public final class PrometheusHttpApp implements ProxyHttp<@Nullable Void> {
    private final PrometheusRegistry registry;
    private final ExecutorService scraper;

    /** Serves {@code registry}. */
    public PrometheusHttpApp(PrometheusRegistry registry) {
        this.registry = requireNonNull(registry, "registry");
        ThreadPoolExecutor executor = new ThreadPoolExecutor(1, 1, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                runnable -> {
                    Thread thread = new Thread(runnable, "relay-metrics-scrape");
                    thread.setDaemon(true);
                    return thread;
                });
        // The app has no close: an idle thread goes away by itself rather than living as long as the JVM.
        executor.allowCoreThreadTimeOut(true);
        this.scraper = executor;
    }

    @Override
    public @Nullable Void newCtx() {
        return null;
    }

    @Override
    public CompletionStage<Boolean> requestFilter(Session session, @Nullable Void ctx) {
        String method = session.requestHeader().method();
        if (!method.equals("GET") && !method.equals("HEAD")) {
            ResponseHeader notAllowed = ResponseHeader.of(405);
            notAllowed.insertHeader("Allow", "GET, HEAD");
            notAllowed.insertHeader("Content-Type", "text/plain; charset=utf-8");
            return session.respond(notAllowed, "405 Method Not Allowed\n".getBytes(java.nio.charset.StandardCharsets.UTF_8))
                    .thenApply(ignored -> true);
        }
        ResponseHeader ok = ResponseHeader.of(200);
        ok.insertHeader("Content-Type", PrometheusTextFormatWriter.CONTENT_TYPE);
        return CompletableFuture.supplyAsync(this::scrape, scraper)
                .thenComposeAsync(text -> session.respond(ok, text), session.eventLoop())
                .thenApply(ignored -> true);
    }

    /** Never reached: {@link #requestFilter} answers every request. */
    @Override
    public CompletionStage<HttpPeer> upstreamPeer(Session session, @Nullable Void ctx) {
        return Stages.failed(ProxyError.of(ErrorType.INTERNAL, ErrorSource.INTERNAL,
                "the metrics service has no upstream", null));
    }

    private byte[] scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        try {
            PrometheusTextFormatWriter.create().write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
