package dev.relay.examples;

import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.ProxyHttp;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.Services;
import io.prometheus.metrics.core.metrics.Counter;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * Pingora's {@code gateway} example, an API gateway in four phases:
 * <ul>
 *   <li>{@link #requestFilter}: under {@code /login}, a request without {@code Authorization: password}
 *       is answered 403 right there ({@code true}: the response is written; nothing goes upstream);</li>
 *   <li>{@link #upstreamPeer}: {@code /family...} goes to 1.0.0.1:443, the rest to 1.1.1.1:443;</li>
 *   <li>{@link #responseFilter}: {@code Server: MyGateway} replaces the upstream's, and {@code alt-svc}
 *       is dropped (the gateway does not speak HTTP/3);</li>
 *   <li>{@link #logging}: one line per request with its status, and a Prometheus counter
 *       ({@code reg_counter}) served by {@link Services#prometheusHttp()} on 127.0.0.1:6192.</li>
 * </ul>
 *
 * <pre>
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.GatewayExample
 * curl 127.0.0.1:6191 -H "Host: one.one.one.one"
 * curl 127.0.0.1:6191/family/ -H "Host: one.one.one.one"
 * curl 127.0.0.1:6191/login/ -H "Host: one.one.one.one" -I -H "Authorization: password"
 * curl 127.0.0.1:6191/login/ -H "Host: one.one.one.one" -I -H "Authorization: bad"
 * curl 127.0.0.1:6192/        # the metrics
 * </pre>
 */
public final class GatewayExample implements ProxyHttp<@Nullable Void> {
    private static final Logger LOG = LoggerFactory.getLogger(GatewayExample.class);

    private final HttpPeer defaultUpstream;
    private final HttpPeer familyUpstream;
    private final Counter requests;

    /**
     * A gateway sending {@code /family} to {@code familyUpstream} and the rest to {@code defaultUpstream},
     * counting every request in {@code requests}.
     */
    public GatewayExample(HttpPeer defaultUpstream, HttpPeer familyUpstream, Counter requests) {
        this.defaultUpstream = requireNonNull(defaultUpstream, "defaultUpstream");
        this.familyUpstream = requireNonNull(familyUpstream, "familyUpstream");
        this.requests = requireNonNull(requests, "requests");
    }

    /** The login check: put real logic here. */
    static boolean checkLogin(RequestHeader request) {
        return "password".equals(request.headers().get("Authorization"));
    }

    @Override
    public @Nullable Void newCtx() {
        return null;
    }

    @Override
    public CompletionStage<Boolean> requestFilter(Session session, @Nullable Void ctx) {
        RequestHeader request = session.requestHeader();
        if (request.path().startsWith("/login") && !checkLogin(request)) {
            // true whether or not the 403 could be written: either way this request is over.
            return session.respondError(403).handle((written, error) -> true);
        }
        return Stages.completedFalse();
    }

    @Override
    public CompletionStage<HttpPeer> upstreamPeer(Session session, @Nullable Void ctx) {
        HttpPeer peer = session.requestHeader().path().startsWith("/family") ? familyUpstream : defaultUpstream;
        LOG.info("connecting to {}", peer.hostAndPort());
        return CompletableFuture.completedFuture(peer);
    }

    @Override
    public CompletionStage<Void> responseFilter(Session session, ResponseHeader upstreamResponse, @Nullable Void ctx) {
        upstreamResponse.insertHeader("Server", "MyGateway");
        upstreamResponse.removeHeader("alt-svc");
        return Stages.done();
    }

    @Override
    public CompletionStage<Void> logging(Session session, @Nullable ProxyError error, @Nullable Void ctx) {
        LOG.info("{} response code: {}", requestSummary(session, ctx), session.responseStatus());
        requests.inc();
        return Stages.done();
    }

    /** The proxy on 0.0.0.0:6191 and the Prometheus service on 127.0.0.1:6192. */
    public static void main(String[] args) {
        Server server = Server.create();
        server.bootstrap();
        Counter requests = Counter.builder().name("reg_counter").help("Number of requests").register();
        HttpProxyService gateway = Services.httpProxy(new GatewayExample(HttpPeer.tls("1.1.1.1:443", "one.one.one.one"),
                HttpPeer.tls("1.0.0.1:443", "one.one.one.one"), requests));
        gateway.addTcp("0.0.0.0:6191");
        server.addService(gateway);
        HttpProxyService metrics = Services.prometheusHttp();
        metrics.addTcp("127.0.0.1:6192");
        server.addService(metrics);
        server.runForever();
    }
}
