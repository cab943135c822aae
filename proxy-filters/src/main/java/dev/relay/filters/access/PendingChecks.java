package dev.relay.filters.access;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How many password checks each client address has waiting or running: the bcrypt pool is shared by
 * every {@code basic-auth} filter, so without a per-client bound one client's flood of guesses fills its
 * queue and every other user gets 503. An address is counted without its port (one host, many
 * connections); a client that is not an IP (a Unix socket) is counted as one. Thread-safe; an address
 * with nothing pending holds no entry.
 */
final class PendingChecks {
    /**
     * The bound {@link AccessExecutors#pendingChecks()} uses: a browser sends a few requests at once with
     * the same credentials before the first check is remembered; more than this from one address is a
     * guessing loop, or many users behind one NAT logging in at the same instant (they retry).
     */
    static final int PER_CLIENT = 8;

    private static final Object NOT_AN_IP = new Object();

    private final int perClient;
    private final ConcurrentHashMap<Object, Integer> pending = new ConcurrentHashMap<>();

    PendingChecks(int perClient) {
        if (perClient < 1) {
            throw new IllegalArgumentException("perClient: " + perClient + " (expected: 1 or more)");
        }
        this.perClient = perClient;
    }

    /** Counts one more check for {@code client}; false (nothing counted) when it already has the most allowed. */
    boolean tryAcquire(SocketAddress client) {
        boolean[] acquired = {false};
        pending.compute(clientKey(client), (key, count) -> {
            int now = count == null ? 0 : count;
            if (now >= perClient) {
                return count;
            }
            acquired[0] = true;
            return now + 1;
        });
        return acquired[0];
    }

    /** Ends one check counted by {@link #tryAcquire}. */
    void release(SocketAddress client) {
        pending.computeIfPresent(clientKey(client), (key, count) -> count <= 1 ? null : count - 1);
    }

    /** The checks {@code client} has pending (tests). */
    int pending(SocketAddress client) {
        return pending.getOrDefault(clientKey(client), 0);
    }

    private static Object clientKey(SocketAddress client) {
        if (client instanceof InetSocketAddress inet && inet.getAddress() != null) {
            return inet.getAddress();
        }
        return NOT_AN_IP;
    }
}
