package dev.relay.lb;

import dev.relay.core.Backend;
import dev.relay.lb.internal.DaemonThreads;
import dev.relay.lb.internal.DnsClient;
import dev.relay.lb.internal.DnsMessage;
import org.jspecify.annotations.Nullable;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

import static java.util.Objects.requireNonNull;

/**
 * Service discovery by DNS, with a small resolver of its own (UDP, TCP on truncation) rather than
 * the JDK's cache: A and/or AAAA records of a name on a fixed port, or SRV records (RFC 2782) whose
 * targets, ports and weights become the backends.
 *
 * <p>Refresh follows the records: after a successful lookup, {@link #refreshAfter()} is the
 * smallest TTL of the records used, clamped to {@link Builder#minTtl} and {@link Builder#maxTtl};
 * after a failure (timeout, SERVFAIL, NXDOMAIN, no records) it is {@link Builder#retryInterval}, and
 * the failed lookup leaves the load balancer's set as it was (the last good set).
 *
 * <p>SRV: only the records of the lowest priority are used (higher priorities are backups, which
 * load balancing does not model); a record's weight is the backend's weight (0 counts as 1); a
 * target's addresses come from the additional section when the server sent them, else from A/AAAA
 * queries; a target of {@code .} (service not available) is skipped.
 *
 * <pre>{@code
 * DnsDiscovery dns = DnsDiscovery.builder("api.internal").port(8080).build();
 * DnsDiscovery srv = DnsDiscovery.builder("_http._tcp.api.internal").recordType(DnsDiscovery.RecordType.SRV).build();
 * LoadBalancer<RoundRobin> lb = LoadBalancer.builder(RoundRobin.create()).discovery(dns).build();
 * lb.start();
 * }</pre>
 */
public final class DnsDiscovery implements ServiceDiscovery {
    private static final int MAX_CNAME_DEPTH = 8;

    /** Which records to look up. */
    public enum RecordType {
        /** IPv4 addresses only. */
        A,
        /** IPv6 addresses only. */
        AAAA,
        /** Both (the default): IPv4 and IPv6 backends. */
        A_AND_AAAA,
        /** Service records: targets, ports and weights. */
        SRV
    }

    private final String name;
    private final RecordType recordType;
    private final int port;
    private final int weight;
    private final DnsClient client;
    private final long minTtlSeconds;
    private final long maxTtlSeconds;
    private final Duration retryInterval;
    private final Executor executor;
    private volatile @Nullable Duration refresh;

    private DnsDiscovery(Builder b, List<InetSocketAddress> servers) {
        this.name = b.name;
        this.recordType = b.recordType;
        this.port = b.port;
        this.weight = b.weight;
        this.client = new DnsClient(servers, (int) b.queryTimeout.toMillis(), b.attempts);
        this.minTtlSeconds = b.minTtl.toSeconds();
        this.maxTtlSeconds = b.maxTtl.toSeconds();
        this.retryInterval = b.retryInterval;
        this.executor = b.executor;
    }

    /** A builder for discovering {@code name} (for SRV, the full service name such as {@code _http._tcp.example.com}). */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    @Override
    public CompletionStage<List<Backend>> discover() {
        CompletableFuture<List<Backend>> result = new CompletableFuture<>();
        executor.execute(() -> {
            try {
                Lookup lookup = lookup();
                if (lookup.backends.isEmpty()) {
                    throw new IOException("no " + recordType + " records for " + name);
                }
                refresh = Duration.ofSeconds(Math.max(minTtlSeconds, Math.min(maxTtlSeconds, lookup.ttl)));
                result.complete(List.copyOf(lookup.backends));
            } catch (IOException | RuntimeException e) {
                refresh = retryInterval;
                result.completeExceptionally(new CompletionException("DNS discovery of " + name + " via " + client + ": " + e.getMessage(), e));
            }
        });
        return result;
    }

    /** The clamped TTL after a success, the retry interval after a failure; empty before the first lookup. */
    @Override
    public Optional<Duration> refreshAfter() {
        return Optional.ofNullable(refresh);
    }

    private static final class Lookup {
        final Set<Backend> backends = new LinkedHashSet<>();
        long ttl = Long.MAX_VALUE;

        void ttl(long seconds) {
            ttl = Math.min(ttl, seconds);
        }
    }

    private Lookup lookup() throws IOException {
        Lookup lookup = new Lookup();
        if (recordType == RecordType.SRV) {
            lookupSrv(lookup);
            return lookup;
        }
        for (InetAddress address : addresses(name, lookup)) {
            lookup.backends.add(Backend.of(new InetSocketAddress(address, port), weight));
        }
        return lookup;
    }

    private List<InetAddress> addresses(String host, Lookup lookup) throws IOException {
        List<InetAddress> out = new ArrayList<>();
        if (recordType != RecordType.AAAA) {
            out.addAll(addresses(host, DnsMessage.TYPE_A, lookup, 0));
        }
        if (recordType == RecordType.AAAA || recordType == RecordType.A_AND_AAAA
                || (recordType == RecordType.SRV && out.isEmpty())) {
            out.addAll(addresses(host, DnsMessage.TYPE_AAAA, lookup, 0));
        }
        return out;
    }

    private List<InetAddress> addresses(String host, int type, Lookup lookup, int depth) throws IOException {
        DnsMessage.Response response = client.query(host, type);
        List<InetAddress> out = new ArrayList<>();
        String owner = followCnames(host, response.answers(), lookup);
        for (DnsMessage.Record r : response.answers()) {
            if (r.type() == type && DnsMessage.sameName(r.name(), owner)) {
                out.add(r.address());
                lookup.ttl(r.ttlSeconds());
            }
        }
        if (out.isEmpty() && !DnsMessage.sameName(owner, host) && depth < MAX_CNAME_DEPTH) {
            return addresses(owner, type, lookup, depth + 1); // the server did not chase the alias for us
        }
        return out;
    }

    // The name at the end of the CNAME chain that starts at host, counting the aliases' TTLs.
    private static String followCnames(String host, List<DnsMessage.Record> answers, Lookup lookup) {
        String current = host;
        for (int hops = 0; hops < MAX_CNAME_DEPTH; hops++) {
            DnsMessage.Record alias = null;
            for (DnsMessage.Record r : answers) {
                if (r.type() == DnsMessage.TYPE_CNAME && DnsMessage.sameName(r.name(), current)) {
                    alias = r;
                    break;
                }
            }
            if (alias == null) {
                return current;
            }
            lookup.ttl(alias.ttlSeconds());
            current = alias.target();
        }
        return current;
    }

    private void lookupSrv(Lookup lookup) throws IOException {
        DnsMessage.Response response = client.query(name, DnsMessage.TYPE_SRV);
        String owner = followCnames(name, response.answers(), lookup);
        int lowest = Integer.MAX_VALUE;
        for (DnsMessage.Record r : response.answers()) {
            if (r.type() == DnsMessage.TYPE_SRV && DnsMessage.sameName(r.name(), owner) && !r.target().isEmpty()) {
                lowest = Math.min(lowest, r.priority());
            }
        }
        for (DnsMessage.Record srv : response.answers()) {
            if (srv.type() != DnsMessage.TYPE_SRV || !DnsMessage.sameName(srv.name(), owner)
                    || srv.priority() != lowest || srv.target().isEmpty() || srv.port() == 0) {
                continue;
            }
            lookup.ttl(srv.ttlSeconds());
            List<InetAddress> targets = new ArrayList<>();
            for (DnsMessage.Record extra : response.additionals()) {
                if ((extra.type() == DnsMessage.TYPE_A || extra.type() == DnsMessage.TYPE_AAAA)
                        && DnsMessage.sameName(extra.name(), srv.target())) {
                    targets.add(extra.address());
                    lookup.ttl(extra.ttlSeconds());
                }
            }
            if (targets.isEmpty()) {
                targets = addresses(srv.target(), lookup);
            }
            for (InetAddress address : targets) {
                lookup.backends.add(Backend.of(new InetSocketAddress(address, srv.port()), Math.max(1, srv.weight())));
            }
        }
    }

    @Override
    public String toString() {
        return "dns(" + name + " " + recordType + (recordType == RecordType.SRV ? "" : " port " + port) + " via " + client + ")";
    }

    /** The name servers of {@code /etc/resolv.conf} (port 53), in order; empty when there is none. */
    static List<InetSocketAddress> systemNameServers(Path resolvConf) {
        List<InetSocketAddress> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(resolvConf, StandardCharsets.UTF_8)) {
                String[] words = line.trim().split("\\s+");
                if (words.length >= 2 && words[0].equals("nameserver")) {
                    String host = words[1];
                    int zone = host.indexOf('%');
                    if (zone >= 0) {
                        host = host.substring(0, zone);
                    }
                    try {
                        out.add(new InetSocketAddress(InetAddress.getByName(host), 53));
                    } catch (IOException | IllegalArgumentException ignored) {
                        // not an IP literal: resolv.conf allows only addresses, skip the line
                    }
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        return out;
    }

    /** Settings of a {@link DnsDiscovery}. */
    public static final class Builder {
        private final String name;
        private RecordType recordType = RecordType.A_AND_AAAA;
        private int port;
        private int weight = 1;
        private @Nullable List<InetSocketAddress> nameServers;
        private Duration queryTimeout = Duration.ofSeconds(2);
        private int attempts = 2;
        private Duration minTtl = Duration.ofSeconds(1);
        private Duration maxTtl = Duration.ofMinutes(5);
        private Duration retryInterval = Duration.ofSeconds(5);
        private @Nullable Executor executor;

        private Builder(String name) {
            requireNonNull(name, "name");
            try {
                DnsMessage.encodeName(name);
            } catch (IOException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
            this.name = name;
        }

        /** Which records to look up (default {@link RecordType#A_AND_AAAA}). */
        public Builder recordType(RecordType recordType) {
            this.recordType = requireNonNull(recordType, "recordType");
            return this;
        }

        /** The backends' port for A/AAAA discovery (required there; SRV records carry their own). */
        public Builder port(int port) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port: " + port + " (expected: 1..65535)");
            }
            this.port = port;
            return this;
        }

        /** The weight of every backend found by A/AAAA discovery (default 1). */
        public Builder weight(int weight) {
            if (weight < 1) {
                throw new IllegalArgumentException("weight: " + weight + " (expected: >= 1)");
            }
            this.weight = weight;
            return this;
        }

        /** The name servers to ask, in order (default: those of {@code /etc/resolv.conf}). */
        public Builder nameServers(List<InetSocketAddress> servers) {
            requireNonNull(servers, "nameServers");
            if (servers.isEmpty()) {
                throw new IllegalArgumentException("nameServers: [] (expected: at least one)");
            }
            for (InetSocketAddress s : servers) {
                if (requireNonNull(s, "nameServers[]").isUnresolved()) {
                    throw new IllegalArgumentException("nameServers: " + s + " (expected: IP addresses)");
                }
            }
            this.nameServers = List.copyOf(servers);
            return this;
        }

        /** How long to wait for one answer (default 2 s). */
        public Builder queryTimeout(Duration timeout) {
            requireNonNull(timeout, "queryTimeout");
            if (timeout.toMillis() < 1 || timeout.compareTo(Duration.ofMinutes(1)) > 0) {
                throw new IllegalArgumentException("queryTimeout: " + timeout + " (expected: 1 ms to 1 minute)");
            }
            this.queryTimeout = timeout;
            return this;
        }

        /** Rounds over the name servers before a lookup fails (default 2). */
        public Builder attempts(int attempts) {
            if (attempts < 1 || attempts > 10) {
                throw new IllegalArgumentException("attempts: " + attempts + " (expected: 1..10)");
            }
            this.attempts = attempts;
            return this;
        }

        /** The shortest refresh interval, whatever the TTL says (default 1 s). */
        public Builder minTtl(Duration minTtl) {
            this.minTtl = seconds(minTtl, "minTtl");
            return this;
        }

        /** The longest refresh interval, whatever the TTL says (default 5 minutes). */
        public Builder maxTtl(Duration maxTtl) {
            this.maxTtl = seconds(maxTtl, "maxTtl");
            return this;
        }

        /** When to try again after a failed lookup (default 5 s). */
        public Builder retryInterval(Duration retryInterval) {
            requireNonNull(retryInterval, "retryInterval");
            if (retryInterval.isZero() || retryInterval.isNegative() || retryInterval.compareTo(Duration.ofDays(1)) > 0) {
                throw new IllegalArgumentException("retryInterval: " + retryInterval + " (expected: > 0 and <= 1 day)");
            }
            this.retryInterval = retryInterval;
            return this;
        }

        /**
         * Where lookups run (they block on sockets); default: a shared pool of daemon threads. A
         * direct executor ({@code Runnable::run}) resolves on the caller's thread: for tests.
         */
        public Builder executor(Executor executor) {
            this.executor = requireNonNull(executor, "executor");
            return this;
        }

        /**
         * The discovery.
         *
         * @throws IllegalStateException naming the setting: no port for A/AAAA, a port for SRV,
         *     minTtl above maxTtl, or no name server configured nor in {@code /etc/resolv.conf}
         */
        public DnsDiscovery build() {
            if (recordType != RecordType.SRV && port == 0) {
                throw new IllegalStateException("port: not set (expected: 1..65535 for " + recordType + " discovery)");
            }
            if (recordType == RecordType.SRV && port != 0) {
                throw new IllegalStateException("port: " + port + " (expected: unset for SRV discovery, the records carry the ports)");
            }
            if (minTtl.compareTo(maxTtl) > 0) {
                throw new IllegalStateException("minTtl: " + minTtl + " (expected: <= maxTtl " + maxTtl + ")");
            }
            List<InetSocketAddress> servers = nameServers != null ? nameServers : systemNameServers(Path.of("/etc/resolv.conf"));
            if (servers.isEmpty()) {
                throw new IllegalStateException("nameServers: not set and none in /etc/resolv.conf (expected: at least one)");
            }
            if (executor == null) {
                executor = DaemonThreads.blockingPool();
            }
            return new DnsDiscovery(this, servers);
        }

        private static Duration seconds(Duration d, String name) {
            requireNonNull(d, name);
            if (d.isNegative() || d.compareTo(Duration.ofDays(1)) > 0 || d.toNanos() % 1_000_000_000L != 0) {
                throw new IllegalArgumentException(name + ": " + d + " (expected: whole seconds, 0 to 1 day)");
            }
            return d;
        }
    }
}
