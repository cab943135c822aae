package dev.relay.examples;

import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.core.ProxyError;
import dev.relay.core.ProxyHttp;
import dev.relay.core.Session;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.Services;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * Pingora's {@code backoff_retry} example: connect failures are made retryable in {@link #failToConnect},
 * which counts them in the request's context, and {@link #upstreamPeer} waits before each retry:
 * 10 ms, 100 ms, 1 s, then 10 s (10^retries ms, at most 10 s). The wait does not block the event loop:
 * the peer comes in a stage completed by a timer. Attempts stop at {@code ProxyOptions.maxAttempts}
 * (16 by default, Pingora's {@code max_retries}), then the client gets 502.
 *
 * <p>The default upstream, {@code 10.0.0.1:80} with a 100 ms connect timeout, is usually unreachable,
 * so a request shows the whole schedule in the log. (For a fixed doubling backoff without code,
 * {@code ProxyOptions.builder().retryBackoff(...)} does it in the engine.)
 *
 * <pre>
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.BackoffRetryExample
 * curl -s 127.0.0.1:6195/
 * </pre>
 */
public final class BackoffRetryExample implements ProxyHttp<BackoffRetryExample.RetryCtx> {
    private static final Logger LOG = LoggerFactory.getLogger(BackoffRetryExample.class);
    /** The longest wait before a retry. */
    public static final Duration MAX_SLEEP = Duration.ofSeconds(10);

    /** The per-request context: how many connect attempts failed so far. */
    public static final class RetryCtx {
        int retries;
    }

    private final HttpPeer upstream;

    /** Retries connecting to {@code upstream} with backoff. */
    public BackoffRetryExample(HttpPeer upstream) {
        this.upstream = requireNonNull(upstream, "upstream");
    }

    /** The wait before retry number {@code retries} (1 for the first): 10^retries ms, at most {@link #MAX_SLEEP}. */
    public static Duration backoff(int retries) {
        if (retries < 1) {
            throw new IllegalArgumentException("retries: " + retries + " (expected: >= 1)");
        }
        long millis = 1;
        // 10^5 ms already exceeds the cap: stop there rather than overflow on large counts.
        for (int i = 0; i < retries && millis < MAX_SLEEP.toMillis(); i++) {
            millis *= 10;
        }
        return Duration.ofMillis(Math.min(millis, MAX_SLEEP.toMillis()));
    }

    @Override
    public RetryCtx newCtx() {
        return new RetryCtx();
    }

    @Override
    public ProxyError failToConnect(Session session, HttpPeer peer, RetryCtx ctx, ProxyError error) {
        ctx.retries++;
        return error.setRetry(true);
    }

    @Override
    public CompletionStage<HttpPeer> upstreamPeer(Session session, RetryCtx ctx) {
        if (ctx.retries == 0) {
            return CompletableFuture.completedFuture(upstream);
        }
        Duration sleep = backoff(ctx.retries);
        LOG.info("sleeping for {} ms", sleep.toMillis());
        // A timer, not a sleep; it completes the stage on the session's event loop, where the engine goes on.
        return CompletableFuture.supplyAsync(() -> upstream,
                CompletableFuture.delayedExecutor(sleep.toMillis(), TimeUnit.MILLISECONDS, session.eventLoop()));
    }

    /** Listens on 0.0.0.0:6195 and retries {@code 10.0.0.1:80} (or the {@code host:port} given). */
    public static void main(String[] args) {
        Server server = Server.create();
        server.bootstrap();
        HttpPeer upstream = HttpPeer.plain(args.length > 0 ? args[0] : "10.0.0.1:80")
                .withOptions(PeerOptions.builder().connectTimeout(Duration.ofMillis(100)).build());
        HttpProxyService proxy = Services.httpProxy(new BackoffRetryExample(upstream));
        proxy.addTcp("0.0.0.0:6195");
        server.addService(proxy);
        server.runForever();
    }
}
