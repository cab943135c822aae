package dev.relay.server.internal.config;

import dev.relay.core.Addresses;
import dev.relay.lb.DnsDiscovery;
import dev.relay.lb.FileDiscovery;
import dev.relay.lb.ServiceDiscovery;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Where an upstream group's backends come from when they are not listed in the file
 * ({@code proxy.upstreams.NAME.discovery}): DNS records or a file that is polled. A value, so that a
 * reload can tell an unchanged group from a changed one.
 */
public sealed interface DiscoveryConfig permits DiscoveryConfig.Dns, DiscoveryConfig.File {

    /** A new discovery of these settings (nothing runs until its load balancer starts). */
    ServiceDiscovery create();

    /** {@code dns A_AND_AAAA svc.example:8080}, {@code file /etc/relay/backends.txt}: for logs and {@code /upstreams}. */
    String describe();

    /**
     * {@code discovery { type = dns ... }}.
     *
     * @param name    the name to look up
     * @param port    the backends' port for A/AAAA records; 0 for SRV (the records carry ports)
     * @param record  which records
     * @param servers the name servers to ask; empty: those of {@code /etc/resolv.conf}
     * @param minTtl  the shortest refresh interval
     * @param maxTtl  the longest refresh interval
     */
    record Dns(String name, int port, DnsDiscovery.RecordType record, List<InetSocketAddress> servers,
               Duration minTtl, Duration maxTtl) implements DiscoveryConfig {
        public Dns {
            requireNonNull(name, "name");
            requireNonNull(record, "record");
            servers = List.copyOf(servers);
            requireNonNull(minTtl, "minTtl");
            requireNonNull(maxTtl, "maxTtl");
        }

        /**
         * @throws IllegalStateException or IllegalArgumentException naming the setting the DNS
         *     discovery rejects (for example no name server configured nor in {@code /etc/resolv.conf})
         */
        @Override
        public DnsDiscovery create() {
            DnsDiscovery.Builder b = DnsDiscovery.builder(name).recordType(record).minTtl(minTtl).maxTtl(maxTtl);
            if (port != 0) {
                b.port(port);
            }
            if (!servers.isEmpty()) {
                b.nameServers(servers);
            }
            return b.build();
        }

        @Override
        public String describe() {
            return "dns " + record + " " + name + (port != 0 ? ":" + port : "")
                    + (servers.isEmpty() ? "" : " via " + servers.stream().map(Addresses::format).toList());
        }
    }

    /**
     * {@code discovery { type = file ... }}.
     *
     * @param path         the file: one {@code host:port [weight=N]} a line
     * @param pollInterval how often it is re-read
     */
    record File(Path path, Duration pollInterval) implements DiscoveryConfig {
        public File {
            requireNonNull(path, "path");
            requireNonNull(pollInterval, "pollInterval");
        }

        @Override
        public FileDiscovery create() {
            return FileDiscovery.builder(path).pollInterval(pollInterval).build();
        }

        @Override
        public String describe() {
            return "file " + path;
        }
    }
}
