package dev.relay.transport.internal;

import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.RequestHeader;
import dev.relay.transport.Http2Settings;
import dev.relay.core.HttpHeaders;
import dev.relay.core.ResponseHeader;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.resolver.AddressResolverGroup;
import io.netty.util.concurrent.EventExecutor;
import org.jspecify.annotations.Nullable;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;

/**
 * The engine behind {@code dev.relay.transport.UpstreamClient}: an {@link UpstreamStack} of its own (pool,
 * connector, both protocols' streams) and the event loops its exchanges run on. Each request is one
 * {@link ClientExchange}. Thread-safe.
 */
public final class ClientEngine {
    private final UpstreamStack upstream;
    private final EventLoop[] loops;
    private final EngineClock clock = EngineClock.system();
    private final long maxResponseBodyBytes;
    private final boolean retryStaleConnections;
    /** Set once by {@link #close()}: from then on no request starts, none retries. */
    private volatile boolean closed;

    /**
     * @param loops                  the event loops requests run on
     * @param maxIdle                idle HTTP/1.1 connections kept
     * @param idleTimeout            how long an idle connection is kept when its peer does not say
     * @param maxResponseHeaderBytes the largest response header section accepted
     * @param maxResponseBodyBytes   the largest response body collected; a larger one fails the request
     * @param retryStaleConnections  whether a request that failed on a pooled connection before any
     *                               response byte is sent once more on another
     * @param maxConnectionsPerPeer  the most connections to one peer (pool key) on one event loop
     * @param maxPendingPerPeer      the most requests waiting there for a busy connection to free up
     */
    public ClientEngine(Class<? extends SocketChannel> channelType, DomainSockets domainSockets,
                        AddressResolverGroup<InetSocketAddress> resolver, EventLoopGroup loops, int maxIdle,
                        Duration idleTimeout, int maxResponseHeaderBytes, Http2Settings http2Windows,
                        long maxResponseBodyBytes, boolean retryStaleConnections, int maxConnectionsPerPeer,
                        int maxPendingPerPeer) {
        this.upstream = new UpstreamStack(channelType, domainSockets, resolver, maxIdle, idleTimeout,
                maxResponseHeaderBytes, http2Windows, clock, new PeerLimits(maxConnectionsPerPeer, maxPendingPerPeer));
        List<EventLoop> all = new ArrayList<>();
        for (EventExecutor executor : loops) {
            all.add((EventLoop) executor);
        }
        this.loops = all.toArray(new EventLoop[0]);
        this.maxResponseBodyBytes = maxResponseBodyBytes;
        this.retryStaleConnections = retryStaleConnections;
    }

    /**
     * Sends {@code request} with {@code body} to {@code peer}; the future completes on the event loop.
     *
     * @param keepBody     whether the response body is collected (up to the limit) or read and dropped
     * @param timeoutNanos the whole exchange's deadline (connect, retry and response body included); 0: none
     */
    public CompletableFuture<Response> send(HttpPeer peer, RequestHeader request, byte[] body,
                                                    boolean keepBody, long timeoutNanos) {
        EventLoop loop = loopFor(peer);
        ClientExchange exchange = new ClientExchange(this, loop, peer, request, body,
                keepBody ? maxResponseBodyBytes : -1, timeoutNanos, retryStaleConnections);
        if (closed) {
            exchange.fail(closedError());
        } else if (loop.inEventLoop()) {
            exchange.start();
        } else {
            try {
                loop.execute(exchange::start);
            } catch (RejectedExecutionException e) {
                // A standalone client's loops stopped with it (a send racing close): a failed stage, not a throw.
                exchange.fail(closedError());
            }
        }
        return exchange.result;
    }

    /**
     * What an exchange received, handed over whole: the client's public response type is built from it
     * (its construction stays out of the public API).
     *
     * @param body             the body bytes, given up by the exchange
     * @param connectionReused the request went on a connection that was already open
     */
    public record Response(ResponseHeader header, byte[] body, @Nullable HttpHeaders trailers,
                           boolean connectionReused) {}

    UpstreamStreams streams() {
        return upstream.streams;
    }

    EngineClock clock() {
        return clock;
    }

    /** Whether {@link #close()} was called; an exchange asks before it connects or retries. */
    boolean isClosed() {
        return closed;
    }

    static ProxyError closedError() {
        return ProxyError.internal("client closed", null).setRetry(false);
    }

    /**
     * The caller's own event loop when it runs on one of ours (a proxy's filter sending on the loop of
     * its request: no hop, and that loop's pool); else the loop the peer's pool key hashes to, so that
     * the requests of one caller to one peer meet the same pool partition and reuse its connections.
     */
    private EventLoop loopFor(HttpPeer peer) {
        for (EventLoop loop : loops) {
            if (loop.inEventLoop()) {
                return loop;
            }
        }
        return loops[Math.floorMod(peer.reuseKey().hashCode(), loops.length)];
    }

    /** Connections opened since start, HTTP/1.1 and HTTP/2. */
    public long connectionsOpened() {
        return upstream.pool.opened.sum() + upstream.http2.counters.connectionsOpened.sum();
    }

    /** Requests sent on a connection that was already open, since start. */
    public long connectionsReused() {
        return upstream.pool.reused.sum() + upstream.http2.counters.streamsReused.sum();
    }

    /** Idle pooled HTTP/1.1 connections now. */
    public int idleConnections() {
        return upstream.pool.idleConnections();
    }

    /**
     * Retires pool group {@code groupKey} (its connections are closed when released, never pooled again),
     * then closes its idle connections on every loop and drains its HTTP/2 ones (closed when their streams
     * are done); asynchronously, returns at once. For a group that a configuration reload dropped.
     */
    public void retireGroup(long groupKey) {
        // Retired first: a connection released while the loops close the idle ones is closed too.
        upstream.retire(groupKey);
        for (EventLoop loop : loops) {
            try {
                loop.execute(() -> {
                    if (!closed) {
                        // A closed engine's loops dropped its partitions: asking would make them anew.
                        upstream.closeIdle(groupKey);
                    }
                });
            } catch (RejectedExecutionException e) {
                // The loop stopped: its connections closed with it.
            }
        }
    }

    /**
     * Closes every connection, idle or in use, and any opened from now on; requests in flight fail, and so
     * do those sent later. Then each event loop drops the pools' state it holds for this engine (the
     * loops may belong to a runtime that outlives it). Completes when all that is done. Idempotent.
     */
    public CompletableFuture<Void> close() {
        closed = true;
        CompletableFuture<Void> done = new CompletableFuture<>();
        upstream.pool.closeAll().addListener(f -> {
            // After the closes: the channels' last events (a pool's bookkeeping) ran on the loops before this.
            List<CompletableFuture<Void>> forgotten = new ArrayList<>(loops.length);
            for (EventLoop loop : loops) {
                try {
                    forgotten.add(CompletableFuture.runAsync(upstream::forgetLoopState, loop));
                } catch (RejectedExecutionException e) {
                    // The loop stopped: its thread-locals went with its thread.
                }
            }
            CompletableFuture.allOf(forgotten.toArray(new CompletableFuture<?>[0]))
                    .whenComplete((ignored, error) -> done.complete(null));
        });
        return done;
    }
}
