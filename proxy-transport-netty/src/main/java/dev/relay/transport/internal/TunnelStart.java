package dev.relay.transport.internal;

import dev.relay.core.AttemptOutcome;
import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.ResponseHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.jspecify.annotations.Nullable;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * Where a request's exchange turns into a tunnel (a {@link ByteRelay}), for the {@link ProxyCall} of a request the
 * downstream connection is held for (an upgrade, or an allowed {@code CONNECT}): the call runs the
 * phases as for any request and asks here, at two points, whether to switch.
 *
 * <ul>
 *   <li>{@code CONNECT}: once the connection to the peer is made, the client gets
 *       {@code 200 Connection Established} and the tunnel starts (the response phases do not run:
 *       there is no upstream response).</li>
 *   <li>Upgrade: after the response phases saw the origin's {@code 101}, it goes to the client and
 *       the tunnel starts. A phase that turned the {@code 101} into another status refused the
 *       upgrade: that status goes to the client, the origin connection closes.</li>
 * </ul>
 *
 * <p>The relay counts its bytes into the session ({@code requestBodyBytesRead} client to origin,
 * {@code responseBodyBytesSent} origin to client) and ends the call when it ends, so that
 * {@code logging} runs then, once. The request deadline does not apply to a tunnel; its idle
 * timeout ({@code ProxyOptions.tunnelIdleTimeout}) does.
 */
final class TunnelStart {
    private final ProxyCall<?> call;
    private final DownstreamStream downstream;
    private final EngineClock clock;
    private final long idleNanos;
    private final ProxyEngine<?> engine;
    /** The tunnel opened ({@link ProxyEngine#tunnelOpened}): the call says so when it ends. */
    private boolean opened;

    TunnelStart(ProxyCall<?> call, DownstreamStream downstream, EngineClock clock, long idleNanos, ProxyEngine<?> engine) {
        this.call = call;
        this.engine = engine;
        this.downstream = downstream;
        this.clock = clock;
        this.idleNanos = idleNanos;
    }

    /** The tunnel support of a call, or null when its request asks for none. */
    static @Nullable TunnelStart forCall(ProxyCall<?> call, DownstreamStream downstream, ProxyEngine<?> engine) {
        return downstream.tunnelKind() == TunnelRequests.Kind.NONE ? null : new TunnelStart(call, downstream,
                engine.clock, engine.options.tunnelIdleTimeout().toNanos(), engine);
    }

    /** Whether the tunnel opened (and was counted as one). */
    boolean opened() {
        return opened;
    }

    /** Whether the upstream must be a connection of its own (a CONNECT tunnel never takes a pooled one). */
    boolean needsFreshConnection() {
        return downstream.tunnelKind() == TunnelRequests.Kind.CONNECT;
    }

    /**
     * The peer when {@code upstreamPeer} gave none: for {@code CONNECT}, the target the client named
     * (plain TCP; the listener's allow list already admitted it); otherwise none.
     */
    @Nullable HttpPeer defaultPeer() {
        if (downstream.tunnelKind() != TunnelRequests.Kind.CONNECT) {
            return null;
        }
        InetSocketAddress target = TunnelRequests.connectTarget(downstream.requestHeader().uri());
        return target == null ? null : HttpPeer.plain(target);
    }

    /** Attempt {@code a} is connected: a {@code CONNECT} switches now. Returns whether it did. */
    boolean onConnected(UpstreamAttempt a) {
        if (downstream.tunnelKind() != TunnelRequests.Kind.CONNECT) {
            return false;
        }
        a.headerSent = true;
        a.response = new NettyResponseHeader(new DefaultHttpResponse(HttpVersion.HTTP_1_1,
                new HttpResponseStatus(200, "Connection Established")));
        start(a);
        return true;
    }

    /**
     * The response phases are done with {@code a}'s response: switches when the origin switched
     * protocols. Returns whether it took the response over (the call writes nothing itself then).
     */
    boolean afterResponsePhases(UpstreamAttempt a) {
        UpstreamStream stream = a.stream;
        if (stream == null || !stream.switchedProtocols()) {
            return false;
        }
        ResponseHeader header = a.response;
        if (header.status() != 101) {
            // A phase refused the upgrade: its answer ends the exchange; the origin already switched,
            // so its connection cannot be used for anything else.
            a.observeEnd(AttemptOutcome.SUCCESS);
            a.abandon();
            call.response().writeHeader(header, true);
            call.response().writeLast(Unpooled.EMPTY_BUFFER, null);
            call.tunnelEnded(null);
            return true;
        }
        start(a);
        return true;
    }

    private void start(UpstreamAttempt a) {
        UpstreamStream stream = a.stream;
        ResponseHeader header = a.response;
        // The tunnel owns the upstream connection from now on: the attempt must not abort or pool it.
        a.stream = null;
        a.observeEnd(AttemptOutcome.SUCCESS);
        CallSession session = call.session();
        session.keepAlive = false;
        session.responseWritten = true;
        session.responseStatus = header.status();
        call.tunnelStarted();
        if (!opened) {
            opened = true;
            engine.tunnelOpened();
        }
        ByteRelay relay = new ByteRelay(idleNanos, clock, this::onTunnelEnd);
        ByteBuf clientEarly = downstream.switchToTunnel(header, relay.downstreamHandler());
        ByteBuf originEarly;
        try {
            originEarly = stream.switchToTunnel(relay.upstreamHandler());
        } catch (RuntimeException e) {
            clientEarly.release();
            stream.abort();
            throw e;
        }
        relay.start(clientEarly, originEarly);
    }

    private void onTunnelEnd(ByteRelay relay, ByteRelay.End end, @Nullable Throwable cause) {
        CallSession session = call.session();
        session.requestBodyBytes += relay.downstreamBytes();
        session.responseBodyBytes += relay.upstreamBytes();
        ProxyError error = switch (end) {
            case IDLE_TIMEOUT -> ProxyError.of(ErrorType.READ_TIMEDOUT, ErrorSource.INTERNAL, "tunnel idle for "
                    + TimeUnit.NANOSECONDS.toMillis(idleNanos) + " ms", null);
            case DOWNSTREAM_ERROR -> Errors.io(cause, ErrorSource.DOWNSTREAM, "tunnel");
            case UPSTREAM_ERROR -> Errors.io(cause, ErrorSource.UPSTREAM, "tunnel");
            case COMPLETED, ABORTED -> null;
        };
        call.tunnelEnded(error);
    }
}
