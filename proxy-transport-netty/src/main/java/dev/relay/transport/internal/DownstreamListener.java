package dev.relay.transport.internal;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;

/**
 * What the client connections of one listener share: the engine, the listener's client timeouts and
 * {@code CONNECT} destinations, and how a connection turns to HTTP/2. Made once per listener, so that
 * each connection's {@link DownstreamHandler} holds one reference instead of five fields (about 24
 * bytes less per connection), and each connection's {@link DownstreamProtocolSelector} needs no
 * installer lambda and no copy of the handler names of its own.
 */
public final class DownstreamListener {
    final ProxyEngine<?> engine;
    final long headerReadNanos;
    final long keepAliveNanos;
    final long bodyReadNanos;
    /** {@link dev.relay.transport.ProxyOptions#sendTimeout()}, converted once rather than on every flush. */
    final long sendTimeoutNanos;
    final ConnectAllowList connectAllow;
    private final String[] http1Handlers;
    private final DownstreamProtocolSelector.Http2Installer http2 = this::installHttp2;

    /**
     * @param http1Handlers the names of the HTTP/1.1 handlers a connection that turns to HTTP/2 loses
     */
    DownstreamListener(ProxyEngine<?> engine, long headerReadNanos, long keepAliveNanos, long bodyReadNanos,
                       ConnectAllowList connectAllow, String... http1Handlers) {
        this.engine = engine;
        this.headerReadNanos = headerReadNanos;
        this.keepAliveNanos = keepAliveNanos;
        this.bodyReadNanos = bodyReadNanos;
        this.sendTimeoutNanos = engine.options.sendTimeout().toNanos();
        this.connectAllow = connectAllow;
        this.http1Handlers = http1Handlers.clone();
    }

    /** The handler of a newly accepted HTTP/1.1 connection of this listener. */
    public DownstreamHandler newHandler() {
        return new DownstreamHandler(this);
    }

    /**
     * The handler that chooses HTTP/1.1 or HTTP/2 for a new connection of this listener (by ALPN when
     * {@code tls}, by the prior-knowledge preface otherwise); for HTTP/2 it removes the HTTP/1.1
     * handlers and installs {@link Http2DownstreamPipeline}'s.
     */
    public ChannelHandler newProtocolSelector(boolean tls) {
        return new DownstreamProtocolSelector(tls, http1Handlers, http2);
    }

    private void installHttp2(ChannelPipeline pipeline) {
        Http2DownstreamPipeline.install(pipeline, engine, headerReadNanos, keepAliveNanos, bodyReadNanos);
    }
}
