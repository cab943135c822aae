package dev.relay.transport;

import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.RequestHeader;
import dev.relay.transport.internal.ClientEngine;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import org.jspecify.annotations.Nullable;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static java.util.Objects.requireNonNull;

/**
 * An HTTP client over the proxy's own upstream side (Pingora's connectors used on their own, as in its
 * {@code client} example): the same connector, pools and protocol code that carry the proxy's requests,
 * without the phases. Whatever the {@link HttpPeer} says holds: TLS with SNI, certificate and hostname
 * verification, client certificates, ALPN (HTTP/1.1 with keep-alive, HTTP/2 multiplexed, or the origin's
 * choice), a Unix socket, and the {@link dev.relay.core.PeerOptions} timeouts (connect, total connection,
 * read, write) and idle pooling; {@link Builder#requestTimeout(Duration)} (or a per-request timeout) bounds
 * a request as a whole. Thread-safe.
 *
 * <pre>{@code
 * try (UpstreamClient client = UpstreamClient.create()) {
 *     HttpPeer peer = HttpPeer.tls("example.org:443", "example.org");
 *     RequestHeader request = RequestHeader.of("GET", "/").insertHeader("Host", "example.org");
 *     UpstreamResponse response = client.send(peer, request, new byte[0]).toCompletableFuture().join();
 *     System.out.println(response.status() + ": " + response.bodyText());
 * }
 * }</pre>
 *
 * <p>A request is one exchange, sent whole (the body as given, with its {@code Content-Length}); the
 * request header goes as given plus a {@code Host} when it has none (the peer's authority), without
 * connection-specific fields. A request that fails on a pooled connection before any response byte (the
 * origin closed the idle connection as the request went out: it never processed it) is sent once more on
 * another connection, unless {@link Builder#retryStaleConnections(boolean)} says not to; nothing else is
 * retried. Failures complete the stage with a {@link ProxyError} (its {@link ProxyError#type()} tells a
 * refused connect from a read timeout).
 *
 * <p>Per peer (per {@link HttpPeer#reuseKey()}), the client opens at most
 * {@link Builder#maxConnectionsPerPeer(int)} connections (default {@value Builder#DEFAULT_MAX_CONNECTIONS_PER_PEER}):
 * an HTTP/1.1 request beyond them waits for one of them to come back to the pool, an HTTP/2 request for
 * a stream to close; at most {@link Builder#maxPendingPerPeer(int)} wait (default
 * {@value Builder#DEFAULT_MAX_PENDING_PER_PEER}), first come first served, and the next fails at once with
 * {@link dev.relay.core.ErrorType#OVERLOADED}. A waiting request's {@link Builder#requestTimeout(Duration)}
 * runs while it waits. The limits hold per event loop: requests sent from outside the client's loops go to
 * one loop per peer, those made on one of its loops stay there, so a client sharing a runtime of N loops
 * may open up to N times the limit to a peer its callers on every loop use.
 *
 * <p>The stages complete on an event loop: an action that blocks must run on an executor of its own
 * ({@code thenApplyAsync(f, executor)}). Requests made on one of the client's event loops (a proxy filter
 * on the loop of its request, when the client shares the proxy's {@link TransportRuntime}) stay on it.
 *
 * <p>Lifecycle: created open, {@link #close()} closes every connection (requests in flight fail) and,
 * for a standalone client, its event loops. A request sent after {@code close()}, or racing it, fails
 * with "client closed" ({@link dev.relay.core.ErrorType#INTERNAL}) and opens no connection.
 */
public final class UpstreamClient implements AutoCloseable {
    private final ClientEngine engine;
    private final DnsAddressResolverGroup resolver;
    private final @Nullable TransportRuntime ownRuntime;
    private final @Nullable Duration requestTimeout;

    private UpstreamClient(Builder b) {
        TransportRuntime runtime = b.runtime;
        this.ownRuntime = runtime == null ? TransportRuntime.create(TransportRuntime.Kind.AUTO,
                Math.max(1, b.threads)) : null;
        if (runtime == null) {
            runtime = ownRuntime;
        }
        this.requestTimeout = b.requestTimeout;
        this.resolver = runtime.newDnsResolver();
        this.engine = new ClientEngine(runtime.socketChannelType(), runtime.domainSockets(), resolver,
                runtime.workers(), b.maxIdleConnections, b.idleTimeout, b.maxResponseHeaderBytes, b.http2,
                b.maxResponseBodyBytes, b.retryStaleConnections, b.maxConnectionsPerPeer, b.maxPendingPerPeer);
    }

    /** A standalone client with the defaults, on an event loop of its own. */
    public static UpstreamClient create() {
        return builder().build();
    }

    /** A client with the defaults on {@code runtime}'s event loops (a server's: no threads of its own). */
    public static UpstreamClient create(TransportRuntime runtime) {
        return builder().runtime(runtime).build();
    }

    /** A builder with the defaults: standalone, one event loop, 8 MiB bodies, stale connections retried. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Sends {@code request} with {@code body} to {@code peer} and collects the whole response, body
     * included, up to {@link Builder#maxResponseBodyBytes(long)} (a longer body fails the stage, and its
     * connection is closed).
     *
     * @param request the request header; the client sends a copy, so it may be reused
     * @param body    the request body, empty for none; the client reads it while it sends, so the caller
     *                must not change it until the stage completes
     */
    public CompletionStage<UpstreamResponse> send(HttpPeer peer, RequestHeader request, byte[] body) {
        return send(peer, request, body, true, requestTimeout);
    }

    /**
     * Like {@link #send(HttpPeer, RequestHeader, byte[])}, with a deadline of its own for this request
     * instead of the {@link Builder#requestTimeout(Duration)}.
     */
    public CompletionStage<UpstreamResponse> send(HttpPeer peer, RequestHeader request, byte[] body,
                                                  Duration timeout) {
        return send(peer, request, body, true, checkTimeout(timeout));
    }

    /**
     * Like {@link #send}, but the response body is read and dropped as it arrives, whatever its length
     * (the connection stays reusable), and the response's {@link UpstreamResponse#body()} is empty: for
     * requests whose answer does not matter beyond its status, such as mirrored traffic.
     */
    public CompletionStage<UpstreamResponse> sendDiscardingBody(HttpPeer peer, RequestHeader request, byte[] body) {
        return send(peer, request, body, false, requestTimeout);
    }

    /** Like {@link #sendDiscardingBody(HttpPeer, RequestHeader, byte[])}, with a deadline of its own. */
    public CompletionStage<UpstreamResponse> sendDiscardingBody(HttpPeer peer, RequestHeader request, byte[] body,
                                                                Duration timeout) {
        return send(peer, request, body, false, checkTimeout(timeout));
    }

    private CompletionStage<UpstreamResponse> send(HttpPeer peer, RequestHeader request, byte[] body,
                                                   boolean keepBody, @Nullable Duration timeout) {
        return engine.send(requireNonNull(peer, "peer"), requireNonNull(request, "request"),
                requireNonNull(body, "body"), keepBody, timeout == null ? 0 : timeout.toNanos())
                .thenApply(UpstreamResponse::new).minimalCompletionStage();
    }

    private static Duration checkTimeout(Duration timeout) {
        requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout: " + timeout + " (expected: > 0)");
        }
        return timeout;
    }

    /** Connections opened since the client was created, HTTP/1.1 and HTTP/2. */
    public long connectionsOpened() {
        return engine.connectionsOpened();
    }

    /** Requests sent on a connection that was already open (pooled or multiplexed), since creation. */
    public long connectionsReused() {
        return engine.connectionsReused();
    }

    /** Idle pooled HTTP/1.1 connections now. */
    public int idleConnections() {
        return engine.idleConnections();
    }

    /**
     * Closes the idle connections to the peers of pool group {@code groupKey} ({@link HttpPeer#groupKey()})
     * on every event loop, asynchronously (returns at once): the group is gone, say dropped by a
     * configuration reload, and its connections would otherwise wait out their idle timeout. A connection
     * carrying a request finishes it and is then closed, never pooled again; an HTTP/2 connection takes no
     * new stream and closes when its open ones are done. The client's counterpart of
     * {@link HttpProxyServer#closeIdleUpstreamConnections(long)}.
     */
    public void closeIdleConnections(long groupKey) {
        engine.retireGroup(groupKey);
    }

    /**
     * Closes every connection (requests in flight fail) and waits up to five seconds for them to close;
     * a standalone client then stops its event loops. Requests sent from now on fail at once. Not to be
     * called on one of the client's event loops. Idempotent.
     */
    @Override
    public void close() {
        try {
            engine.close().get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // Closing goes on in the background; a stuck peer must not hold the caller up.
        }
        resolver.close();
        if (ownRuntime != null) {
            ownRuntime.close();
        }
    }

    @Override
    public String toString() {
        return "UpstreamClient{opened=" + connectionsOpened() + ", reused=" + connectionsReused()
                + (ownRuntime != null ? ", standalone" : "") + '}';
    }

    /** Settings of an {@link UpstreamClient}; the per-peer ones live in the {@link HttpPeer}'s options. */
    public static final class Builder {
        /** The default of {@link #maxConnectionsPerPeer(int)}. */
        public static final int DEFAULT_MAX_CONNECTIONS_PER_PEER = 64;
        /** The default of {@link #maxPendingPerPeer(int)}. */
        public static final int DEFAULT_MAX_PENDING_PER_PEER = 1024;

        private @Nullable TransportRuntime runtime;
        private int maxConnectionsPerPeer = DEFAULT_MAX_CONNECTIONS_PER_PEER;
        private int maxPendingPerPeer = DEFAULT_MAX_PENDING_PER_PEER;
        private int threads;
        private long maxResponseBodyBytes = 8L * 1024 * 1024;
        private int maxIdleConnections = 256;
        private Duration idleTimeout = Duration.ofSeconds(60);
        private int maxResponseHeaderBytes = 32 * 1024;
        private boolean retryStaleConnections = true;
        private Http2Settings http2 = Http2Settings.defaults();
        private @Nullable Duration requestTimeout;

        private Builder() {}

        /** Runs on {@code runtime}'s event loops, which the client does not close (default: a runtime of its own). */
        public Builder runtime(TransportRuntime runtime) {
            this.runtime = requireNonNull(runtime, "runtime");
            return this;
        }

        /** Event loops of a standalone client (default 1); conflicts with {@link #runtime}. */
        public Builder threads(int threads) {
            if (threads < 1) {
                throw new IllegalArgumentException("threads: " + threads + " (expected: >= 1)");
            }
            this.threads = threads;
            return this;
        }

        /** The longest response body {@link #send} collects (default 8 MiB); longer fails the request. */
        public Builder maxResponseBodyBytes(long bytes) {
            if (bytes < 0 || bytes > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("maxResponseBodyBytes: " + bytes
                        + " (expected: 0 to " + (Integer.MAX_VALUE - 8) + ")");
            }
            this.maxResponseBodyBytes = bytes;
            return this;
        }

        /** Idle HTTP/1.1 connections kept for reuse across all peers (default 256; 0: none kept). */
        public Builder maxIdleConnections(int connections) {
            if (connections < 0) {
                throw new IllegalArgumentException("maxIdleConnections: " + connections + " (expected: >= 0)");
            }
            this.maxIdleConnections = connections;
            return this;
        }

        /** How long an idle connection is kept when its peer's options do not say (default 60 s). */
        public Builder idleTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("idleTimeout: " + timeout + " (expected: > 0)");
            }
            this.idleTimeout = timeout;
            return this;
        }

        /** The largest response header section accepted (default 32 KiB). */
        public Builder maxResponseHeaderBytes(int bytes) {
            if (bytes < 256) {
                throw new IllegalArgumentException("maxResponseHeaderBytes: " + bytes + " (expected: >= 256)");
            }
            this.maxResponseHeaderBytes = bytes;
            return this;
        }

        /**
         * Whether a request that failed on a pooled connection before any response byte is sent once
         * more on another connection (default true). Off for traffic that must reach the origin at most
         * once, whatever happened.
         */
        public Builder retryStaleConnections(boolean retry) {
            this.retryStaleConnections = retry;
            return this;
        }

        /**
         * The most a request may take as a whole, from {@link UpstreamClient#send} to the last response
         * byte, connect and retry included (default: none). Past it the request is aborted, its connection
         * closed, and the stage fails with {@link dev.relay.core.ErrorType#DEADLINE_EXCEEDED}. The peer's
         * read timeout bounds each silence only: without a deadline an origin that trickles bytes, or
         * streams without end, holds the request for ever.
         */
        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = checkTimeout(timeout);
            return this;
        }

        /**
         * The most connections, open or being opened, to one peer ({@link HttpPeer#reuseKey()}) on one event
         * loop (default {@value #DEFAULT_MAX_CONNECTIONS_PER_PEER}). Beyond it an HTTP/1.1 request waits for
         * a connection to come back to the pool, an HTTP/2 request for a stream to close on one of them (each
         * carries up to min(the origin's limit, {@link dev.relay.core.PeerOptions#maxH2Streams()})), in the
         * queue that {@link #maxPendingPerPeer(int)} bounds. OkHttp's {@code Dispatcher.maxRequestsPerHost}.
         */
        public Builder maxConnectionsPerPeer(int connections) {
            if (connections < 1) {
                throw new IllegalArgumentException("maxConnectionsPerPeer: " + connections + " (expected: >= 1)");
            }
            this.maxConnectionsPerPeer = connections;
            return this;
        }

        /**
         * The most requests to one peer on one event loop that wait for a connection, or a stream, while
         * all {@link #maxConnectionsPerPeer(int)} are busy (default {@value #DEFAULT_MAX_PENDING_PER_PEER}; 0:
         * none waits). The next fails at once with {@link dev.relay.core.ErrorType#OVERLOADED}: a slow origin
         * must not pile up requests (and their bodies) without end. A waiting request leaves the queue when
         * its {@link #requestTimeout(Duration)} passes.
         */
        public Builder maxPendingPerPeer(int requests) {
            if (requests < 0) {
                throw new IllegalArgumentException("maxPendingPerPeer: " + requests + " (expected: >= 0)");
            }
            this.maxPendingPerPeer = requests;
            return this;
        }

        /** The windows the client's HTTP/2 connections advertise (default {@link Http2Settings#defaults()}). */
        public Builder http2(Http2Settings settings) {
            this.http2 = requireNonNull(settings, "settings");
            return this;
        }

        /**
         * The client.
         *
         * @throws IllegalStateException when both {@link #runtime} and {@link #threads} were set
         */
        public UpstreamClient build() {
            if (runtime != null && threads != 0) {
                throw new IllegalStateException("threads: " + threads + " (expected: not set with runtime, whose "
                        + "event loops the client uses)");
            }
            return new UpstreamClient(this);
        }
    }
}
