package dev.relay.transport;

import dev.relay.core.FailToProxy;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.ProxyHttp;
import dev.relay.core.Session;
import dev.relay.core.Stages;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A proxy that fails over through a list of peers, one per attempt ({@code peers[attempt % n]}, so a single
 * peer is simply tried again), remembering in its context what each attempt did, and handing a summary of
 * every finished request to the test through {@link #nextOutcome()}.
 */
class FailoverProxy implements ProxyHttp<FailoverProxy.Ctx> {
    final List<HttpPeer> peers;
    final BlockingQueue<Outcome> outcomes = new LinkedBlockingQueue<>();

    FailoverProxy(List<HttpPeer> peers) {
        this.peers = List.copyOf(peers);
    }

    FailoverProxy(HttpPeer... peers) {
        this(List.of(peers));
    }

    /** A plain-HTTP peer for {@code address} with {@code options}. */
    static HttpPeer peer(String address, dev.relay.core.PeerOptions options) {
        return HttpPeer.plain(address).withOptions(options);
    }

    /** A plain-HTTP peer for {@code address} with the default options. */
    static HttpPeer peer(String address) {
        return HttpPeer.plain(address);
    }

    /** What one request's context saw, attempt by attempt. */
    static final class Ctx {
        final List<String> tried = new ArrayList<>();
        final List<Boolean> reused = new ArrayList<>();
        final List<Long> attemptStartNanos = new ArrayList<>();
        final List<Long> attemptFailedNanos = new ArrayList<>();
        final List<String> failures = new ArrayList<>();
        FailToProxy failToProxy;
        /** Set by subclasses that read the body in a filter. */
        byte[] body;
    }

    /**
     * One finished request: the status sent, the error given to {@code logging}, the peers tried in order,
     * whether each connection came from the pool, {@code session.attempts()}, and what {@code failToProxy}
     * decided (null when it did not run).
     */
    record Outcome(int status, ProxyError error, List<String> tried, List<Boolean> reused, int attempts,
                   FailToProxy failToProxy, List<Long> attemptStartNanos, List<Long> attemptFailedNanos,
                   List<String> failures) {}

    @Override
    public Ctx newCtx() {
        return new Ctx();
    }

    /** The peer for the next attempt; by default the next one in the list. */
    protected HttpPeer choose(Session session, Ctx ctx) {
        return peers.get(ctx.tried.size() % peers.size());
    }

    @Override
    public CompletionStage<HttpPeer> upstreamPeer(Session session, Ctx ctx) {
        HttpPeer peer = choose(session, ctx);
        ctx.attemptStartNanos.add(System.nanoTime());
        if (peer != null) {
            ctx.tried.add(peer.hostAndPort());
        }
        return CompletableFuture.completedFuture(peer);
    }

    @Override
    public void connectedToUpstream(Session session, boolean reused, HttpPeer peer, Ctx ctx) {
        ctx.reused.add(reused);
    }

    @Override
    public ProxyError failToConnect(Session session, HttpPeer peer, Ctx ctx, ProxyError error) {
        ctx.attemptFailedNanos.add(System.nanoTime());
        ctx.failures.add("connect:" + error.type());
        return error;
    }

    @Override
    public ProxyError errorWhileProxy(HttpPeer peer, Session session, ProxyError error, Ctx ctx,
                                      boolean upstreamReused) {
        ctx.attemptFailedNanos.add(System.nanoTime());
        ctx.failures.add("proxy:" + error.type());
        return ProxyHttp.super.errorWhileProxy(peer, session, error, ctx, upstreamReused);
    }

    @Override
    public CompletionStage<FailToProxy> failToProxy(Session session, ProxyError error, Ctx ctx) {
        return ProxyHttp.super.failToProxy(session, error, ctx).thenApply(result -> {
            ctx.failToProxy = result;
            return result;
        });
    }

    @Override
    public CompletionStage<Void> logging(Session session, ProxyError error, Ctx ctx) {
        Ctx c = ctx == null ? new Ctx() : ctx;
        outcomes.add(new Outcome(session.responseStatus(), error, List.copyOf(c.tried), List.copyOf(c.reused),
                session.attempts(), c.failToProxy, List.copyOf(c.attemptStartNanos),
                List.copyOf(c.attemptFailedNanos), List.copyOf(c.failures)));
        return Stages.done();
    }

    /** The next finished request, waiting up to five seconds for it. */
    Outcome nextOutcome() throws InterruptedException {
        Outcome next = outcomes.poll(5, TimeUnit.SECONDS);
        if (next == null) {
            throw new AssertionError("logging was not called within 5 s");
        }
        return next;
    }

    /** Fails if another request was logged (waits briefly: logging runs after the response is written). */
    void assertNoMoreOutcomes() throws InterruptedException {
        Outcome extra = outcomes.poll(100, TimeUnit.MILLISECONDS);
        if (extra != null) {
            throw new AssertionError("logging called once more: " + extra);
        }
    }
}
