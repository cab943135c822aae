package dev.relay.lb;

import dev.relay.core.Backend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * DNS discovery against a real DNS server on loopback: dnsmasq on an ephemeral port, serving A,
 * AAAA and SRV records from its command line and a hosts file. Skipped when dnsmasq is not
 * installed ({@code apt-get install -y dnsmasq}; CI installs it).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DnsDiscoveryTest {
    @TempDir
    Path dir;

    private Path dnsmasq;
    private int port;
    private ExternalProcess server;
    private final FakeScheduler clock = new FakeScheduler();

    @BeforeEach
    void findDnsmasq() throws Exception {
        Optional<Path> found = ExternalProcess.find("dnsmasq");
        assumeTrue(found.isPresent(), "dnsmasq is not installed (apt-get install -y dnsmasq): skipping the real-DNS-server tests");
        dnsmasq = found.get();
        port = ExternalProcess.freePort();
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    /** Starts dnsmasq with {@code hosts} as its hosts file, records of TTL {@code ttl} seconds, and {@code extra} options. */
    private void startDns(String hosts, int ttl, String... extra) throws Exception {
        if (server != null) {
            server.close();
        }
        Path hostsFile = dir.resolve("hosts");
        Files.writeString(hostsFile, hosts);
        List<String> command = new ArrayList<>(List.of(dnsmasq.toString(), "--no-daemon", "--port=" + port,
                "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                "--addn-hosts=" + hostsFile, "--local=/test/", "--local-ttl=" + ttl, "--pid-file=", "--log-facility=-"));
        if ("root".equals(System.getProperty("user.name"))) {
            command.add("--user=root"); // otherwise it drops to nobody, which is fine too but may lack a group
        }
        command.addAll(List.of(extra));
        server = ExternalProcess.start(command, dir.resolve("dnsmasq-" + System.nanoTime() + ".log"));
        server.awaitTcp(port, Duration.ofSeconds(10)); // dnsmasq serves TCP and UDP on the same port
    }

    private DnsDiscovery.Builder dns(String name) {
        return DnsDiscovery.builder(name).nameServers(List.of(new InetSocketAddress("127.0.0.1", port)))
                .queryTimeout(Duration.ofMillis(500)).attempts(1).executor(Runnable::run);
    }

    private static Backend b(String hostPort) {
        return Backend.parse(hostPort);
    }

    @Test
    void resolvesAAndAaaaRecordsOnThePort() throws Exception {
        startDns("10.0.0.1 api.test\n10.0.0.2 api.test\nfd00::7 api.test\n", 30);
        List<Backend> found = dns("api.test").port(8080).build().discover().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(List.of(b("10.0.0.1:8080"), b("10.0.0.2:8080"), b("[fd00::7]:8080")),
                found.stream().sorted(dev.relay.lb.internal.BackendSet.ORDER).toList());
        List<Backend> v4 = dns("api.test").port(8080).recordType(DnsDiscovery.RecordType.A).build()
                .discover().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(2, v4.size());
    }

    @Test
    void srvRecordsGiveTargetsPortsAndWeightsOfTheLowestPriority() throws Exception {
        startDns("", 30, "--host-record=a.svc.test,10.0.1.1", "--host-record=b.svc.test,10.0.1.2",
                "--host-record=c.svc.test,10.0.1.3",
                "--srv-host=_http._tcp.svc.test,a.svc.test,8081,0,10",
                "--srv-host=_http._tcp.svc.test,b.svc.test,8082,0,30",
                "--srv-host=_http._tcp.svc.test,c.svc.test,8083,1,5");
        List<Backend> found = dns("_http._tcp.svc.test").recordType(DnsDiscovery.RecordType.SRV).build()
                .discover().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(List.of(b("10.0.1.1:8081").withWeight(10), b("10.0.1.2:8082").withWeight(30)),
                found.stream().sorted(dev.relay.lb.internal.BackendSet.ORDER).toList());
        // Identity includes the weight: check it explicitly.
        assertEquals(List.of(10, 30), found.stream().sorted(dev.relay.lb.internal.BackendSet.ORDER).map(Backend::weight).toList());
    }

    @Test
    void refreshFollowsTheTtlWithinTheFloorAndCeiling() throws Exception {
        startDns("10.0.0.1 api.test\n", 7);
        DnsDiscovery dns = dns("api.test").port(80).minTtl(Duration.ofSeconds(2)).maxTtl(Duration.ofSeconds(60)).build();
        assertEquals(Optional.empty(), dns.refreshAfter());
        dns.discover().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(Optional.of(Duration.ofSeconds(7)), dns.refreshAfter());

        DnsDiscovery floored = dns("api.test").port(80).minTtl(Duration.ofSeconds(10)).build();
        floored.discover().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(Optional.of(Duration.ofSeconds(10)), floored.refreshAfter());

        DnsDiscovery capped = dns("api.test").port(80).maxTtl(Duration.ofSeconds(3)).build();
        capped.discover().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(Optional.of(Duration.ofSeconds(3)), capped.refreshAfter());
    }

    @Test
    void aStartedLoadBalancerReResolvesOnTheTtlAndKeepsTheLastGoodSetWhileDnsIsDown() throws Exception {
        startDns("10.0.0.1 api.test\n10.0.0.2 api.test\n", 5);
        LoadBalancer<RoundRobin> lb = LoadBalancer.builder(RoundRobin.create())
                .discovery(dns("api.test").port(80).retryInterval(Duration.ofSeconds(3)).build())
                .ticker(clock).scheduler(clock).build();
        lb.start().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(List.of(b("10.0.0.1:80"), b("10.0.0.2:80")), lb.backends().list());
        lb.backends().setEnabled(b("10.0.0.2:80"), false);
        assertEquals(Duration.ofSeconds(5), clock.nextDelay(), "the next lookup is due after the TTL");

        server.close(); // the DNS server goes away
        server = null;
        clock.advance(Duration.ofSeconds(5));
        assertEquals(List.of(b("10.0.0.1:80"), b("10.0.0.2:80")), lb.backends().list(), "the last good set stays");
        assertEquals(b("10.0.0.1:80"), lb.selectOrNull(LoadBalancer.NO_KEY, 4));
        assertEquals(Duration.ofSeconds(3), clock.nextDelay(), "a failed lookup is retried after the retry interval");

        startDns("10.0.0.2 api.test\n10.0.0.3 api.test\n", 5); // back, with other records
        clock.advance(Duration.ofSeconds(3));
        assertEquals(List.of(b("10.0.0.2:80"), b("10.0.0.3:80")), lb.backends().list());
        assertTrue(!lb.backends().isEnabled(b("10.0.0.2:80")), "a surviving backend keeps its state");
        assertEquals(b("10.0.0.3:80"), lb.selectOrNull(LoadBalancer.NO_KEY, 4));

        lb.close();
        assertEquals(0, clock.pending());
    }

    @Test
    void aNameThatStopsResolvingKeepsTheLastGoodSet() throws Exception {
        startDns("10.0.0.1 api.test\n", 5);
        LoadBalancer<RoundRobin> lb = LoadBalancer.builder(RoundRobin.create())
                .discovery(dns("api.test").port(80).build()).ticker(clock).scheduler(clock).build();
        lb.start().toCompletableFuture().get(5, TimeUnit.SECONDS);
        startDns("10.0.0.9 other.test\n", 5); // api.test is gone: NXDOMAIN
        clock.advance(Duration.ofSeconds(5));
        assertEquals(List.of(b("10.0.0.1:80")), lb.backends().list());
        lb.close();
    }
}
