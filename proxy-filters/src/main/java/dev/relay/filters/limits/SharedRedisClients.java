package dev.relay.filters.limits;

import dev.relay.filters.redis.RedisClient;
import dev.relay.filters.redis.RedisUri;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The Redis clients that one {@link RateLimitFilterProvider} opened and that a configuration still holds,
 * one per server and timeout. The server loads each provider once per process, so a reload that keeps a
 * filter's {@code redis} URI keeps its client (its I/O thread and its connection); every rate limit of one
 * configuration on the same server shares one client, which pipelines their scripts on one connection.
 *
 * <p>Each filter holds its client until the server releases the filter; the last release closes it.
 * Thread-safe: clients are opened and closed under the lock, on the thread that loads or retires a
 * configuration (opening one starts its I/O thread and returns without waiting for the connection).
 */
final class SharedRedisClients {
    /** What makes two clients interchangeable: the server (address, login, database) and the command timeout. */
    private record ClientKey(RedisUri uri, Duration commandTimeout) {}

    /** One client and how many unreleased filters hold it. */
    private static final class Shared {
        final RedisClient client;
        int holders;

        Shared(RedisClient client) {
            this.client = client;
        }
    }

    private final Map<ClientKey, Shared> clients = new HashMap<>();

    /** A hold on one client: {@link #release()} it once the filter using it is released. */
    final class Hold {
        private final ClientKey key;
        private final Shared shared;
        private final AtomicBoolean released = new AtomicBoolean();

        private Hold(ClientKey key, Shared shared) {
            this.key = key;
            this.shared = shared;
        }

        RedisClient client() {
            return shared.client;
        }

        /** Drops this hold; the last one closes the client. Later calls do nothing. */
        void release() {
            if (released.compareAndSet(false, true)) {
                drop(key, shared);
            }
        }
    }

    /** A hold on the client of {@code uri} with {@code commandTimeout}: the open one, or a new one. */
    synchronized Hold acquire(RedisUri uri, Duration commandTimeout) {
        ClientKey key = new ClientKey(uri, commandTimeout);
        Shared shared = clients.computeIfAbsent(key, k -> new Shared(RedisClient.builder(uri)
                .commandTimeout(commandTimeout).build()));
        shared.holders++;
        return new Hold(key, shared);
    }

    private synchronized void drop(ClientKey key, Shared shared) {
        if (--shared.holders == 0 && clients.get(key) == shared) {
            clients.remove(key);
            shared.client.close();
        }
    }

    /** How many clients are open (tests). */
    synchronized int openClients() {
        return clients.size();
    }
}
