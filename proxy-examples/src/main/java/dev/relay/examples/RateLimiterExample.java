package dev.relay.examples;

import dev.relay.core.Backend;
import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.ProxyHttp;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.filters.limits.Rate;
import dev.relay.lb.LoadBalancer;
import dev.relay.lb.RoundRobin;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * Pingora's {@code rate_limiter} example in Java: requests carrying an {@code appid} header are counted
 * per app id in a {@link Rate} shared by every request, and {@link #requestFilter} answers {@code 429}
 * with {@code X-Rate-Limit-Limit}, {@code X-Rate-Limit-Remaining} and {@code X-Rate-Limit-Reset} once an
 * app id has sent more than its quota in the current window. Requests without the header are not
 * limited. (The {@code rate-limit} filter does the same from configuration, with a sliding window.)
 *
 * <pre>
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.RateLimiterExample 127.0.0.1:9001
 * curl -i 127.0.0.1:6188 -H "appid: 1"   # twice within a second: the second is a 429
 * </pre>
 */
public final class RateLimiterExample implements ProxyHttp<Void> {
    /** The header naming the client application, as in Pingora's example. */
    public static final String APP_ID = "appid";

    private final LoadBalancer<RoundRobin> upstreams;
    private final Rate rate;
    private final long maxPerWindow;
    private final String resetSeconds;

    /**
     * Balances over {@code upstreams} (plain HTTP) and lets each app id send {@code maxPerWindow}
     * requests per window of {@code rate}.
     */
    public RateLimiterExample(LoadBalancer<RoundRobin> upstreams, Rate rate, long maxPerWindow) {
        this.upstreams = requireNonNull(upstreams, "upstreams");
        this.rate = requireNonNull(rate, "rate");
        if (maxPerWindow < 1) {
            throw new IllegalArgumentException("maxPerWindow: " + maxPerWindow + " (expected: at least 1)");
        }
        this.maxPerWindow = maxPerWindow;
        long periodMillis = rate.period().toMillis();
        this.resetSeconds = Long.toString(Math.max(1, (periodMillis + 999) / 1000));
    }

    @Override
    public Void newCtx() {
        return null;
    }

    @Override
    public CompletionStage<Boolean> requestFilter(Session session, Void ctx) {
        String appId = session.requestHeader().headers().get(APP_ID);
        if (appId == null) {
            // No app id: not rate limited.
            return Stages.completedFalse();
        }
        long inThisWindow = rate.observe(appId, 1);
        if (inThisWindow <= maxPerWindow) {
            return Stages.completedFalse();
        }
        ResponseHeader header = ResponseHeader.of(429);
        header.headers().set("X-Rate-Limit-Limit", Long.toString(maxPerWindow));
        header.headers().set("X-Rate-Limit-Remaining", "0");
        header.headers().set("X-Rate-Limit-Reset", resetSeconds);
        // As Pingora's example does: a client this eager gets a fresh connection for its next try.
        session.disableKeepAlive();
        return session.writeResponseHeader(header, true).thenApply(written -> true);
    }

    @Override
    public CompletionStage<HttpPeer> upstreamPeer(Session session, Void ctx) {
        Backend upstream = upstreams.selectOrNull(LoadBalancer.NO_KEY, 256);
        if (upstream == null) {
            return Stages.failed(ProxyError.of(ErrorType.NO_PEER, ErrorSource.INTERNAL, "no healthy upstream", null));
        }
        return CompletableFuture.completedFuture(HttpPeer.plain(upstream));
    }

    /** Listens on 0.0.0.0:6188, one request per second per app id, to the addresses given (127.0.0.1:9001). */
    public static void main(String[] args) {
        Server server = Server.create();
        server.bootstrap();
        String[] addresses = args.length > 0 ? args : new String[] {"127.0.0.1:9001"};
        HttpProxyService proxy = HttpProxyService.create(new RateLimiterExample(
                LoadBalancer.tryFromIterable(RoundRobin.create(), addresses), Rate.of(Duration.ofSeconds(1)), 1));
        proxy.addTcp("0.0.0.0:6188");
        server.addService(proxy);
        server.runForever();
    }
}
