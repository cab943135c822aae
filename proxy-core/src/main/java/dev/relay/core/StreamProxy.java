package dev.relay.core;

import java.util.concurrent.CompletionStage;

/**
 * The user's logic of a layer-4 (TCP) proxy: Pingora's {@code ServerApp} for a byte stream. For each
 * accepted client connection the transport asks for a peer ({@link #upstreamPeer}), connects to it
 * (TCP, then TLS when the peer says so), and relays bytes both ways until both directions are done;
 * then it reports the end ({@link #streamDone}). The phases, in order:
 *
 * <ol>
 *   <li>{@link #newCtx()}: the per-connection state;</li>
 *   <li>{@link #upstreamPeer}: where to connect (may complete later, on any thread);</li>
 *   <li>{@link #failToConnect}, when that connect fails: whether to try again (the error's
 *       {@linkplain ProxyError#isRetry() retry flag}); a retry calls {@link #upstreamPeer} again, up to
 *       the service's attempt limit;</li>
 *   <li>{@link #streamDone}: once per connection, whatever happened.</li>
 * </ol>
 *
 * <p>Every callback runs on the connection's event loop and must not block. A callback that throws
 * (or whose stage fails) ends that connection with the error; it never breaks the service.
 *
 * <pre>{@code
 * final class PostgresBalancer implements StreamProxy<Void> {
 *     private final LoadBalancer<RoundRobin> lb = ...;
 *     public Void newCtx() { return null; }
 *     public CompletionStage<HttpPeer> upstreamPeer(StreamSession session, Void ctx) {
 *         return CompletableFuture.completedFuture(HttpPeer.plain(lb.select()));
 *     }
 * }
 * }</pre>
 *
 * @param <C> the per-connection context
 */
public interface StreamProxy<C> {

    /** A new context for one client connection. */
    C newCtx();

    /**
     * The peer to relay the connection of {@code session} to; called again for each retry
     * ({@link StreamSession#attempts()} counts them). The peer's TLS flag, SNI and
     * {@link PeerOptions} (verification, client certificate, connect timeouts) apply; HTTP settings do not.
     */
    CompletionStage<HttpPeer> upstreamPeer(StreamSession session, C ctx);

    /**
     * A connect to {@code peer} failed with {@code error}: return it (or another error) with the retry
     * flag saying whether to try again. Connect errors are retryable by default; the default keeps
     * the error as it is.
     */
    default ProxyError failToConnect(StreamSession session, HttpPeer peer, C ctx, ProxyError error) {
        return error;
    }

    /**
     * The connection is over: the relay ended, or no upstream could be connected. Called once per
     * accepted connection, after both sockets are closed or closing. For metrics and logs.
     */
    default void streamDone(StreamSession session, StreamSummary summary, C ctx) {}
}
