package dev.relay.examples;

import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyHttp;
import dev.relay.core.RequestHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.Services;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;

import static java.util.Objects.requireNonNull;

/**
 * Pingora's {@code ctx} example: state at three lifetimes. The per-request context ({@link MyCtx}) is
 * created by {@link #newCtx()} and filled in {@link #requestFilter} (is this a beta user? a
 * {@code beta-flag} header says so), then read in {@link #upstreamPeer} to pick the upstream; a counter of
 * the proxy instance counts beta users; a global (static) counter counts every request. The counters
 * are atomics because requests run on several event loops at once (the context needs no locking: one
 * request's phases run on one event loop).
 *
 * <pre>
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.CtxExample
 * curl 127.0.0.1:6190 -H "Host: one.one.one.one"
 * curl 127.0.0.1:6190 -H "Host: one.one.one.one" -H "beta-flag: 1"
 * </pre>
 */
public final class CtxExample implements ProxyHttp<CtxExample.MyCtx> {
    private static final Logger LOG = LoggerFactory.getLogger(CtxExample.class);
    /** Every request of every {@code CtxExample} in the process. */
    private static final AtomicLong REQ_COUNTER = new AtomicLong();

    /** The context of one request. */
    public static final class MyCtx {
        boolean betaUser;
    }

    /** The beta users of this proxy. */
    private final AtomicLong betaCounter = new AtomicLong();
    private final HttpPeer regularUpstream;
    private final HttpPeer betaUpstream;

    /** Sends beta users to {@code betaUpstream}, everyone else to {@code regularUpstream}. */
    public CtxExample(HttpPeer regularUpstream, HttpPeer betaUpstream) {
        this.regularUpstream = requireNonNull(regularUpstream, "regularUpstream");
        this.betaUpstream = requireNonNull(betaUpstream, "betaUpstream");
    }

    /** Requests that reached {@link #upstreamPeer} in this process, across every instance. */
    public static long requestCount() {
        return REQ_COUNTER.get();
    }

    /** Beta users this instance has sent upstream. */
    public long betaUserCount() {
        return betaCounter.get();
    }

    static boolean checkBetaUser(RequestHeader request) {
        return request.headers().contains("beta-flag");
    }

    @Override
    public MyCtx newCtx() {
        return new MyCtx();
    }

    @Override
    public CompletionStage<Boolean> requestFilter(Session session, MyCtx ctx) {
        ctx.betaUser = checkBetaUser(session.requestHeader());
        return Stages.completedFalse();
    }

    @Override
    public CompletionStage<HttpPeer> upstreamPeer(Session session, MyCtx ctx) {
        long requests = REQ_COUNTER.incrementAndGet();
        HttpPeer peer;
        if (ctx.betaUser) {
            LOG.info("I'm a beta user #{}", betaCounter.incrementAndGet());
            peer = betaUpstream;
        } else {
            LOG.info("I'm an user #{}", requests);
            peer = regularUpstream;
        }
        return CompletableFuture.completedFuture(peer);
    }

    /** Listens on 0.0.0.0:6190: beta users go to 1.0.0.1:443, the others to 1.1.1.1:443 (TLS, SNI one.one.one.one). */
    public static void main(String[] args) {
        Server server = Server.create();
        server.bootstrap();
        HttpProxyService proxy = Services.httpProxy(new CtxExample(
                HttpPeer.tls("1.1.1.1:443", "one.one.one.one"), HttpPeer.tls("1.0.0.1:443", "one.one.one.one")));
        proxy.addTcp("0.0.0.0:6190");
        server.addService(proxy);
        server.runForever();
    }
}
