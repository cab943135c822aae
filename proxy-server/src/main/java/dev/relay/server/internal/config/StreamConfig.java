package dev.relay.server.internal.config;

import dev.relay.transport.StreamOptions;
import dev.relay.transport.TlsSettings;
import org.jspecify.annotations.Nullable;

import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * One stream (layer-4 TCP) service, {@code proxy.streams[i]}: a listener whose connections are
 * relayed byte for byte to a backend of an upstream group.
 *
 * @param name           its name in metrics and logs ({@code name}, else {@code stream-INDEX})
 * @param address        {@code host:port} to listen on, as written
 * @param upstream       the upstream group whose backends take the connections
 * @param idleTimeout    {@code idle-timeout}: close a relay that moved no byte for this long; zero: never
 * @param connectTimeout {@code connect-timeout}: the bound on each connect attempt (TCP and TLS)
 * @param maxAttempts    {@code max-attempts}: connect attempts per connection, the first included
 * @param tls            {@code tls}: the TLS the listener terminates; null: plain TCP
 * @param origin         {@code file:line}, for start-up errors
 */
public record StreamConfig(String name, String address, String upstream, Duration idleTimeout,
                           Duration connectTimeout, int maxAttempts, @Nullable TlsSettings tls, String origin) {
    public StreamConfig {
        requireNonNull(name, "name");
        requireNonNull(address, "address");
        requireNonNull(upstream, "upstream");
        requireNonNull(idleTimeout, "idleTimeout");
        requireNonNull(connectTimeout, "connectTimeout");
    }

    /** The transport's view of these settings. */
    public StreamOptions streamOptions() {
        return StreamOptions.builder().idleTimeout(idleTimeout).connectTimeout(connectTimeout)
                .maxAttempts(maxAttempts).build();
    }
}
