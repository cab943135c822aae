package dev.relay.transport.internal;

import dev.relay.core.HttpHeaders;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.TlsInfo;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoop;
import org.jspecify.annotations.Nullable;

import java.net.SocketAddress;

/**
 * The client side of a background refresh (Pingora's subrequest): a request the proxy makes of itself
 * to revalidate or refetch a stale cache entry that was served under stale-while-revalidate. It runs
 * every phase as the client's request did (so routing, authentication of the upstream and the cache
 * key are the same), on the client's event loop and with its addresses, but it has no connection:
 * the response is stored by the cache phases and its bytes go nowhere.
 */
final class RefreshDownstream implements DownstreamStream {
    private final DownstreamStream client;
    private final RequestHeader request;
    private boolean finished;

    /** A refresh of {@code request} (a GET, without body) for the client on {@code client}. */
    RefreshDownstream(DownstreamStream client, RequestHeader request) {
        this.client = client;
        this.request = request;
    }

    @Override
    public RequestHeader requestHeader() {
        return request;
    }

    @Override
    public boolean requestHasBody() {
        return false;
    }

    @Override
    public boolean expectsContinue() {
        return false;
    }

    @Override
    public boolean requestsKeepAlive() {
        return false;
    }

    @Override
    public boolean isConnectionReused() {
        return false;
    }

    @Override
    public SocketAddress clientAddress() {
        return client.clientAddress();
    }

    @Override
    public SocketAddress serverAddress() {
        return client.serverAddress();
    }

    @Override
    public boolean isTls() {
        return client.isTls();
    }

    @Override
    public @Nullable TlsInfo tls() {
        return client.tls();
    }

    @Override
    public EventLoop eventLoop() {
        return client.eventLoop();
    }

    @Override
    public long bodyReadTimeoutNanos() {
        return client.bodyReadTimeoutNanos();
    }

    @Override
    public boolean isOpen() {
        return !finished;
    }

    @Override
    public void writeInterim(ResponseHeader interim) {}

    @Override
    public boolean writeResponseHeader(ResponseHeader header, boolean endOfStream, boolean keepAlive) {
        return false;
    }

    @Override
    public void writeBody(ByteBuf data) {
        data.release();
    }

    @Override
    public ChannelFuture writeBodyAndFlush(ByteBuf data) {
        data.release();
        return client.succeededFuture();
    }

    @Override
    public ChannelFuture writeLast(ByteBuf data, @Nullable HttpHeaders trailers) {
        data.release();
        return client.succeededFuture();
    }

    @Override
    public void flush() {}

    @Override
    public ChannelFuture flushWithFuture() {
        return client.succeededFuture();
    }

    @Override
    public ChannelFuture succeededFuture() {
        return client.succeededFuture();
    }

    @Override
    public boolean isWritable() {
        return true;
    }

    @Override
    public void setReading(boolean on) {}

    @Override
    public boolean isReadingPaused() {
        return false;
    }

    @Override
    public TunnelRequests.Kind tunnelKind() {
        return TunnelRequests.Kind.NONE;
    }

    @Override
    public ByteBuf switchToTunnel(ResponseHeader header, ChannelHandler relay) {
        throw new IllegalStateException("a background refresh is no tunnel");
    }

    @Override
    public void finished(boolean reusable, boolean requestComplete) {
        finished = true;
    }

    @Override
    public String toString() {
        return "RefreshDownstream{" + request.method() + ' ' + request.uri() + '}';
    }
}
