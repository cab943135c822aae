package dev.relay.transport.internal;

import dev.relay.transport.Http2Settings;
import io.netty.channel.socket.SocketChannel;
import io.netty.resolver.AddressResolverGroup;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * The upstream half of an engine, built once: the HTTP/1.1 pool, the connector, the HTTP/2 pool and the
 * streams of both protocols behind one {@link UpstreamStreams}. The proxy's {@link ProxyEngine} and the
 * standalone {@link ClientEngine} each have one, so a request of either goes out through the same
 * connector, pools and protocol code.
 */
final class UpstreamStack {
    final UpstreamConnectionPool pool;
    final Http2Streams http2;
    final UpstreamStreams streams;
    private final Http1Streams http1;

    /**
     * @param maxIdle            idle HTTP/1.1 connections kept across the process
     * @param idleTimeout        how long an idle connection is kept when its peer does not say
     * @param maxHeaderBytes     the largest response header section accepted
     * @param http2Windows       the stream and connection windows the HTTP/2 connections advertise
     * @param limits             connections per pool key and event loop, and waiters beyond them
     */
    UpstreamStack(Class<? extends SocketChannel> channelType, DomainSockets domainSockets,
                  AddressResolverGroup<InetSocketAddress> resolver, int maxIdle, Duration idleTimeout,
                  int maxHeaderBytes, Http2Settings http2Windows, EngineClock clock, PeerLimits limits) {
        this.pool = new UpstreamConnectionPool(maxIdle, idleTimeout);
        UpstreamConnector connector = new UpstreamConnector(channelType, domainSockets, resolver, pool,
                maxHeaderBytes, clock);
        ChosenProtocols chosen = new ChosenProtocols();
        this.http2 = new Http2Streams(connector, clock, pool::isRetiredGroup, idleTimeout, maxHeaderBytes,
                http2Windows, chosen, limits);
        this.http1 = new Http1Streams(pool, connector, clock, http2, chosen, limits);
        this.streams = new ProtocolStreams(http1, http2, chosen);
    }

    /**
     * Marks pool group {@code groupKey} retired, process-wide: a connection of it released from now on is
     * closed, never pooled. Then {@link #closeIdle} on every loop.
     */
    void retire(long groupKey) {
        pool.retire(groupKey);
    }

    /**
     * Closes the idle HTTP/1.1 connections of pool group {@code groupKey} in the calling event loop's
     * partition and retires its HTTP/2 connections there (closed when their streams are done).
     *
     * @return how many connections it closed at once
     */
    int closeIdle(long groupKey) {
        return pool.closeIdle(groupKey) + http2.retire(groupKey);
    }

    /**
     * Drops the per-loop state of both pools on the calling event loop: for a stack whose loops outlive it
     * (a client on a shared runtime), once its connections are closed.
     */
    void forgetLoopState() {
        pool.forgetPartition();
        http1.forgetPartition();
        http2.forgetPartition();
    }
}
