package dev.relay.transport.internal;

import dev.relay.core.StreamProxy;
import dev.relay.transport.StreamOptions;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.resolver.AddressResolverGroup;

import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the connections of one stream proxy share: the user's {@link StreamProxy}, the options, the
 * upstream connector (with its TLS contexts), the clock, and the connections alive now (a graceful
 * stop waits for them, then aborts what is left). Thread-safe.
 */
public final class StreamEngine {
    private final StreamProxy<?> proxy;
    private final StreamOptions options;
    private final StreamConnector connector;
    private final EngineClock clock;
    private final Set<StreamCall<?>> open = ConcurrentHashMap.newKeySet();
    private final LongAdder accepted = new LongAdder();

    public StreamEngine(StreamProxy<?> proxy, StreamOptions options, Class<? extends SocketChannel> channelType,
                        DomainSockets domainSockets, AddressResolverGroup<InetSocketAddress> resolver, EngineClock clock) {
        this.proxy = proxy;
        this.options = options;
        this.clock = clock;
        this.connector = new StreamConnector(channelType, domainSockets, resolver, clock);
    }

    /** The handler that drives one accepted client connection (named {@value StreamCall#HANDLER}). */
    public ChannelInboundHandler newConnection(Channel client) {
        return newCall(proxy, client);
    }

    private <C> StreamCall<C> newCall(StreamProxy<C> typed, Channel client) {
        return new StreamCall<>(typed, this, client);
    }

    /** The client pipeline's name for {@link #newConnection}'s handler. */
    public static String handlerName() {
        return StreamCall.HANDLER;
    }

    /** Ends every connection now (on its event loop): the grace period is over. */
    public void abortAll() {
        for (StreamCall<?> call : open) {
            call.eventLoop().execute(call::abort);
        }
    }

    /** Connections accepted and not yet ended. */
    public int openConnections() {
        return open.size();
    }

    /** Connections accepted since start. */
    public long connectionsAccepted() {
        return accepted.sum();
    }

    StreamOptions options() {
        return options;
    }

    StreamConnector connector() {
        return connector;
    }

    EngineClock clock() {
        return clock;
    }

    void opened(StreamCall<?> call) {
        accepted.increment();
        open.add(call);
    }

    void closed(StreamCall<?> call) {
        open.remove(call);
    }
}
