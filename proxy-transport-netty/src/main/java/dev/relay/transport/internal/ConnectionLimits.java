package dev.relay.transport.internal;

import io.netty.channel.Channel;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The open-connection limits of one listener, in total and per client IP address, checked as each
 * connection is accepted (before TLS, PROXY protocol or HTTP see a byte). A connection over a limit
 * is closed unread and counted; an admitted one gives its place back when it closes. Shared by the
 * listener's connections across event loops, hence the atomics.
 */
public final class ConnectionLimits {
    private final int maxConnections;
    private final int maxPerClient;
    private final LongAdder overListenerLimit;
    private final LongAdder overClientLimit;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, Integer> openPerClient = new ConcurrentHashMap<>();

    ConnectionLimits(int maxConnections, int maxPerClient, LongAdder overListenerLimit, LongAdder overClientLimit) {
        this.maxConnections = maxConnections;
        this.maxPerClient = maxPerClient;
        this.overListenerLimit = overListenerLimit;
        this.overClientLimit = overClientLimit;
    }

    /** Whether either limit is set (else {@link #admit} has nothing to do). */
    public boolean isLimited() {
        return maxConnections > 0 || maxPerClient > 0;
    }

    /**
     * Admits {@code channel}, just accepted, or closes it when a limit is reached.
     *
     * @return whether it was admitted
     */
    public boolean admit(Channel channel) {
        if (maxConnections > 0 && open.incrementAndGet() > maxConnections) {
            open.decrementAndGet();
            refuse(channel, overListenerLimit);
            return false;
        }
        InetAddress client = maxPerClient > 0 && channel.remoteAddress() instanceof InetSocketAddress inet
                ? inet.getAddress() : null;
        if (client != null && !takeClientPlace(client)) {
            if (maxConnections > 0) {
                open.decrementAndGet();
            }
            refuse(channel, overClientLimit);
            return false;
        }
        channel.closeFuture().addListener(f -> {
            if (maxConnections > 0) {
                open.decrementAndGet();
            }
            if (client != null) {
                openPerClient.computeIfPresent(client, (address, count) -> count == 1 ? null : count - 1);
            }
        });
        return true;
    }

    private boolean takeClientPlace(InetAddress client) {
        boolean[] taken = new boolean[1];
        openPerClient.compute(client, (address, count) -> {
            int now = count == null ? 0 : count;
            if (now >= maxPerClient) {
                return count;
            }
            taken[0] = true;
            return now + 1;
        });
        return taken[0];
    }

    private static void refuse(Channel channel, LongAdder counter) {
        counter.increment();
        channel.close();
    }
}
