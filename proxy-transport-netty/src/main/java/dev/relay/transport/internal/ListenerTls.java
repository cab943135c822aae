package dev.relay.transport.internal;

import dev.relay.transport.TlsSettings;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The TLS of one listening socket, replaceable while it stays bound: a configuration reload or
 * {@code HttpProxyServer.updateTls} swaps the {@link ServerTlsContexts} (or turns TLS on or off),
 * and connections accepted from then on get the new ones; those already open keep theirs. The
 * listener's session-ticket keys survive the swaps.
 *
 * <p>Per connection it adds, where the listener's pipeline is built, a handler named {@code tls}
 * (first Netty's {@code SniHandler}, which reads the ClientHello and asks {@link ServerTlsContexts}
 * for the context, then the {@code SslHandler} that replaces it under the same name) and
 * {@link TlsHandshakeHandler} right after it.
 */
public final class ListenerTls implements AutoCloseable {
    /** The name of the TLS handler in a downstream pipeline. */
    public static final String HANDLER_NAME = "tls";
    /** What an HTTP listener without HTTP/2 offers with ALPN. */
    public static final List<String> HTTP_ALPN = ServerTlsContexts.ALPN_PROTOCOLS;
    /** What an HTTP listener with HTTP/2 offers with ALPN: {@code h2}, then {@code http/1.1}. */
    public static final List<String> H2_ALPN = ServerTlsContexts.H2_ALPN_PROTOCOLS;

    private final TlsMaintenance maintenance;
    private final TlsHandshakeCounters counters;
    private final List<String> alpn;
    private final SessionTicketKeys ticketKeys = new SessionTicketKeys();
    private volatile @Nullable ServerTlsContexts contexts;

    /**
     * The TLS of a listener, off when {@code settings} is null, offering {@code alpn} with ALPN (empty:
     * no ALPN, as on a stream listener, where the bytes are not ours to interpret).
     *
     * @throws IllegalArgumentException when a certificate cannot be used by the TLS provider
     */
    public ListenerTls(@Nullable TlsSettings settings, List<String> alpn, TlsMaintenance maintenance,
                       TlsHandshakeCounters counters) {
        this.maintenance = maintenance;
        this.counters = counters;
        this.alpn = List.copyOf(alpn);
        update(settings);
    }

    /**
     * New handshakes use {@code settings} from now on (null: plain connections).
     *
     * @throws IllegalArgumentException when a certificate cannot be used; the previous settings stay
     */
    public synchronized void update(@Nullable TlsSettings settings) {
        ServerTlsContexts next = settings == null ? null : new ServerTlsContexts(settings, alpn, ticketKeys);
        ServerTlsContexts previous = contexts;
        if (next != null) {
            next.start(maintenance);
        }
        contexts = next;
        if (previous != null) {
            previous.close();
        }
    }

    /** Whether connections accepted now get TLS. */
    public boolean isEnabled() {
        return contexts != null;
    }

    /** Adds the TLS handlers at the end of a new connection's {@code pipeline}; nothing when TLS is off. */
    public void addHandlers(ChannelPipeline pipeline) {
        ServerTlsContexts now = contexts;
        if (now == null) {
            return;
        }
        TlsSettings settings = now.settings();
        pipeline.addLast(HANDLER_NAME, new TlsSniHandler(now, settings.handshakeTimeout().toMillis()))
                .addLast("tls-handshake", new TlsHandshakeHandler(now.clientVerifier(),
                        settings.forwardClientCertificate(), counters));
    }

    @Override
    public synchronized void close() {
        ServerTlsContexts now = contexts;
        contexts = null;
        if (now != null) {
            now.close();
        }
    }

    /**
     * Netty's SNI handler with the handshake deadline counted from accept (the ClientHello and the
     * rest of the handshake share it), and the {@code SslHandler} named as the pipeline expects.
     */
    private static final class TlsSniHandler extends SniHandler {
        private final long deadlineNanos;

        TlsSniHandler(ServerTlsContexts contexts, long handshakeTimeoutMillis) {
            super(contexts, handshakeTimeoutMillis);
            this.deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(handshakeTimeoutMillis);
        }

        @Override
        protected SslHandler newSslHandler(SslContext context, ByteBufAllocator allocator) {
            SslHandler handler = super.newSslHandler(context, allocator);
            long left = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
            handler.setHandshakeTimeoutMillis(Math.max(1, left));
            return handler;
        }

        @Override
        protected void replaceHandler(ChannelHandlerContext ctx, @Nullable String hostname, SslContext context) {
            SslHandler handler = newSslHandler(context, ctx.alloc());
            try {
                ctx.pipeline().replace(this, HANDLER_NAME, handler);
            } catch (RuntimeException e) {
                ReferenceCountUtil.safeRelease(handler.engine());
                throw e;
            }
        }
    }
}
