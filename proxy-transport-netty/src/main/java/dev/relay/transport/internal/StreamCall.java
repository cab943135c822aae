package dev.relay.transport.internal;

import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.StreamProxy;
import dev.relay.core.StreamSession;
import dev.relay.core.StreamSummary;
import dev.relay.core.TlsInfo;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.Future;
import org.jspecify.annotations.Nullable;

import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * One accepted client connection of a stream proxy: the phase driver of {@link StreamProxy} (the
 * only caller of its methods). It asks for a peer, connects (trying again while the proxy's
 * {@code failToConnect} says so, up to the attempt limit), then hands both channels to a
 * {@link ByteRelay} and reports the end once. The client channel reads nothing (auto-read off) until
 * the relay starts, so no byte is taken from the client before there is somewhere to send it; on a
 * TLS listener the handshake comes first, and the phases start when it is done (what the client
 * sends meanwhile waits in {@link ByteRelay#holdingHandler()}).
 *
 * <p>It sits in the client pipeline as {@value #HANDLER} until the relay replaces it. Confined to the
 * client channel's event loop; user callbacks that throw end the connection with their error.
 */
final class StreamCall<C> extends ChannelInboundHandlerAdapter implements StreamSession, ByteRelay.Listener {
    private static final System.Logger LOG = System.getLogger(StreamCall.class.getName());

    /** Its name in the client pipeline; a TLS terminator goes before it. */
    static final String HANDLER = "stream";

    private final StreamProxy<C> proxy;
    private final StreamEngine engine;
    private final Channel client;
    private final long startNanos;
    private @Nullable C ctx;
    /** Whether {@code newCtx} returned (its context may be null, a {@code StreamProxy<Void>}'s). */
    private boolean ctxCreated;
    private int attempts;
    private @Nullable HttpPeer peer;
    private @Nullable Channel upstream;
    private @Nullable ByteRelay relay;
    private boolean done;
    /** What the TLS handshake settled; null on a plain listener. */
    private @Nullable TlsInfo tls;
    /** The client's end of input (FIN or close_notify) when it came before the relay started. */
    private @Nullable Object clientInputEnded;

    StreamCall(StreamProxy<C> proxy, StreamEngine engine, Channel client) {
        this.proxy = proxy;
        this.engine = engine;
        this.client = client;
        this.startNanos = engine.clock().nanoTime();
    }

    @Override
    public void channelActive(ChannelHandlerContext chc) {
        engine.opened(this);
        if (chc.pipeline().get(ListenerTls.HANDLER_NAME) != null) {
            // The handshake comes first: read the ClientHello (auto-read is off) and start once it
            // is done, so the phases see who the client is and a failed handshake costs no upstream.
            // What the client sends after it waits for the relay in the holding handler.
            chc.pipeline().addAfter(HANDLER, ByteRelay.HANDLER, ByteRelay.holdingHandler());
            chc.read();
            chc.fireChannelActive();
            return;
        }
        start();
        chc.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext chc, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent handshake && handshake.isSuccess() && !ctxCreated && !done) {
            TlsHandshakeHandler.DownstreamTls settled = TlsHandshakeHandler.of(client);
            tls = settled == null ? null : settled.info();
            start();
        } else if (relay == null && (evt == ChannelInputShutdownEvent.INSTANCE || evt instanceof SslCloseCompletionEvent)) {
            // The client ended its output before the relay exists: the relay hears it once it starts.
            clientInputEnded = evt;
        }
        chc.fireUserEventTriggered(evt);
    }

    /** Creates the context and makes the first attempt. */
    private void start() {
        try {
            ctx = proxy.newCtx();
            ctxCreated = true;
        } catch (RuntimeException e) {
            finish(StreamSummary.End.CONNECT_FAILED, ProxyError.from(e, "newCtx"));
            return;
        }
        attempt();
    }

    @Override
    public void channelInactive(ChannelHandlerContext chc) {
        // The client left before an upstream was connected.
        if (relay == null && !done) {
            finish(StreamSummary.End.COMPLETED, null);
        }
        chc.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext chc, Throwable cause) {
        if (relay == null && !done) {
            finish(StreamSummary.End.CLIENT_ERROR, ProxyError.from(cause, "client connection"));
        }
    }

    private void attempt() {
        attempts++;
        CompletionStage<HttpPeer> stage;
        try {
            stage = proxy.upstreamPeer(this, ctx);
        } catch (RuntimeException e) {
            finish(StreamSummary.End.CONNECT_FAILED, ProxyError.from(e, "upstreamPeer"));
            return;
        }
        if (stage instanceof CompletableFuture<HttpPeer> f && f.isDone() && !f.isCompletedExceptionally()) {
            connect(f.join());
            return;
        }
        stage.whenComplete((p, e) -> client.eventLoop().execute(() -> {
            if (e != null || p == null) {
                finish(StreamSummary.End.CONNECT_FAILED, e == null
                        ? ProxyError.of(ErrorType.NO_PEER, ErrorSource.INTERNAL, "upstreamPeer: null", null)
                        : ProxyError.from(unwrap(e), "upstreamPeer"));
            } else {
                connect(p);
            }
        }));
    }

    private void connect(HttpPeer next) {
        if (done) {
            return;
        }
        peer = next;
        engine.connector().connect(next, client.eventLoop(), engine.options().connectTimeout().toNanos())
                .addListener((Future<Channel> f) -> connected(next, f));
    }

    private void connected(HttpPeer tried, Future<Channel> f) {
        if (done) {
            if (f.isSuccess()) {
                f.getNow().close();
            }
            return;
        }
        if (f.isSuccess()) {
            upstream = f.getNow();
            client.pipeline().remove(this);
            relay = ByteRelay.start(client, upstream, engine.options().idleTimeout().toNanos(), engine.clock(), this);
            if (clientInputEnded != null && !relay.isEnded()) {
                // Fired from the TLS handler's place, so that the relay (right after it) is the first to see it.
                ChannelHandlerContext tlsContext = client.pipeline().context(ListenerTls.HANDLER_NAME);
                if (tlsContext != null) {
                    tlsContext.fireUserEventTriggered(clientInputEnded);
                }
            }
            return;
        }
        ProxyError error = Errors.connectFailure(f.cause(), "connect " + tried);
        try {
            error = proxy.failToConnect(this, tried, ctx, error);
        } catch (RuntimeException e) {
            error = ProxyError.from(e, "failToConnect");
            error.setRetry(false);
        }
        if (error.isRetry() && attempts < engine.options().maxAttempts() && client.isActive()) {
            attempt();
        } else {
            finish(StreamSummary.End.CONNECT_FAILED, error);
        }
    }

    @Override
    public void relayEnded(ByteRelay ended, ByteRelay.End end, @Nullable Throwable cause) {
        StreamSummary.End how = switch (end) {
            case COMPLETED -> StreamSummary.End.COMPLETED;
            case IDLE_TIMEOUT -> StreamSummary.End.IDLE_TIMEOUT;
            case DOWNSTREAM_ERROR -> StreamSummary.End.CLIENT_ERROR;
            case UPSTREAM_ERROR -> StreamSummary.End.UPSTREAM_ERROR;
            case ABORTED -> StreamSummary.End.SHUTDOWN;
        };
        ProxyError error = null;
        if (cause != null) {
            error = Errors.io(cause, end == ByteRelay.End.UPSTREAM_ERROR ? ErrorSource.UPSTREAM : ErrorSource.DOWNSTREAM,
                    "relay " + client.remoteAddress() + " <-> " + peer);
        } else if (end == ByteRelay.End.IDLE_TIMEOUT) {
            error = ProxyError.of(ErrorType.READ_TIMEDOUT, ErrorSource.INTERNAL, "no byte either way for "
                    + engine.options().idleTimeout().toMillis() + " ms", null);
        }
        finish(how, error);
    }

    /** Ends the connection now (the server's grace period is over). */
    void abort() {
        if (relay != null) {
            relay.abort();
        } else if (!done) {
            finish(StreamSummary.End.SHUTDOWN, null);
        }
    }

    private void finish(StreamSummary.End end, @Nullable ProxyError error) {
        if (done) {
            return;
        }
        done = true;
        if (relay == null) {
            // A relay closes its channels itself, after flushing what it read: closing here would
            // drop the bytes still queued for a slow reader.
            client.close();
            if (upstream != null) {
                upstream.close();
            }
        }
        long bytesFromClient = relay == null ? 0 : relay.downstreamBytes();
        long bytesToClient = relay == null ? 0 : relay.upstreamBytes();
        StreamSummary summary = new StreamSummary(client.remoteAddress() == null ? client.localAddress() : client.remoteAddress(),
                upstream == null ? null : peer, bytesFromClient, bytesToClient,
                Duration.ofNanos(engine.clock().nanoTime() - startNanos), attempts, end, error);
        engine.closed(this);
        if (ctxCreated) {
            try {
                proxy.streamDone(this, summary, ctx);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "streamDone failed for " + summary + ": " + e, e);
            }
        }
    }

    private static Throwable unwrap(Throwable e) {
        return e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    @Override
    public SocketAddress clientAddress() {
        return client.remoteAddress();
    }

    @Override
    public SocketAddress serverAddress() {
        return client.localAddress();
    }

    @Override
    public @Nullable TlsInfo downstreamTls() {
        return tls;
    }

    @Override
    public int attempts() {
        return attempts;
    }

    @Override
    public long startNanos() {
        return startNanos;
    }

    @Override
    public Executor eventLoop() {
        return client.eventLoop();
    }
}
