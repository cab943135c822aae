package dev.relay.lb;

import dev.relay.core.Backend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The DNS client's handling of the wire protocol and of failures, against {@link TestDnsServer}: a
 * server that can be silent, fail, truncate, or send strays; CNAME chains; TTLs.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DnsWireProtocolTest {
    private TestDnsServer dns;
    private final FakeScheduler clock = new FakeScheduler();

    @BeforeEach
    void start() throws Exception {
        dns = new TestDnsServer();
    }

    @AfterEach
    void stop() throws Exception {
        dns.close();
    }

    private DnsDiscovery.Builder discovery(String name) {
        return DnsDiscovery.builder(name).nameServers(List.of(dns.address())).queryTimeout(Duration.ofMillis(300))
                .attempts(1).executor(Runnable::run);
    }

    private static List<Backend> get(ServiceDiscovery d) throws Exception {
        return d.discover().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    @Test
    void followsACnameChainAndUsesTheSmallestTtl() throws Exception {
        dns.answer("www.test", 1, new TestDnsServer.Rr("www.test", 5, 300, "edge.test"),
                new TestDnsServer.Rr("edge.test", 5, 40, "pool.test"),
                new TestDnsServer.Rr("pool.test", 1, 120, "192.0.2.10"),
                new TestDnsServer.Rr("pool.test", 1, 90, "192.0.2.11"),
                new TestDnsServer.Rr("unrelated.test", 1, 1, "192.0.2.99"));
        DnsDiscovery d = discovery("www.test").port(443).recordType(DnsDiscovery.RecordType.A).build();
        assertEquals(List.of(Backend.parse("192.0.2.10:443"), Backend.parse("192.0.2.11:443")), get(d));
        assertEquals(Optional.of(Duration.ofSeconds(40)), d.refreshAfter());
    }

    @Test
    void chasesAnAliasTheServerDidNotResolve() throws Exception {
        dns.answer("alias.test", 28, new TestDnsServer.Rr("alias.test", 5, 60, "real.test"));
        dns.answer("real.test", 28, new TestDnsServer.Rr("real.test", 28, 60, "2001:db8::5"));
        assertEquals(List.of(Backend.parse("[2001:db8::5]:80")),
                get(discovery("alias.test").port(80).recordType(DnsDiscovery.RecordType.AAAA).build()));
    }

    @Test
    void truncatedAnswersAreRetriedOverTcp() throws Exception {
        dns.answer("big.test", 1, new TestDnsServer.Rr("big.test", 1, 60, "192.0.2.1"));
        dns.mode(TestDnsServer.Mode.TRUNCATE_UDP);
        assertEquals(List.of(Backend.parse("192.0.2.1:80")),
                get(discovery("big.test").port(80).recordType(DnsDiscovery.RecordType.A).build()));
        assertEquals(1, dns.tcpQueries.get());
    }

    @Test
    void strayAndMalformedPacketsAreIgnored() throws Exception {
        dns.answer("api.test", 1, new TestDnsServer.Rr("api.test", 1, 60, "192.0.2.7"));
        dns.mode(TestDnsServer.Mode.STRAY_FIRST);
        assertEquals(List.of(Backend.parse("192.0.2.7:80")),
                get(discovery("api.test").port(80).recordType(DnsDiscovery.RecordType.A).build()));
    }

    @Test
    void srvTargetsWithoutAdditionalRecordsAreResolved() throws Exception {
        dns.answer("_x._tcp.test", 33, new TestDnsServer.Rr("_x._tcp.test", 33, 30, "1 0 9000 n1.test"),
                new TestDnsServer.Rr("_x._tcp.test", 33, 30, "1 5 9001 n2.test"),
                new TestDnsServer.Rr("_x._tcp.test", 33, 30, "2 5 9002 n3.test"),
                new TestDnsServer.Rr("_x._tcp.test", 33, 30, "1 9 9003 ."));
        dns.answer("n1.test", 1, new TestDnsServer.Rr("n1.test", 1, 20, "192.0.2.1"));
        dns.answer("n2.test", 1, new TestDnsServer.Rr("n2.test", 1, 20, "192.0.2.2"));
        DnsDiscovery d = discovery("_x._tcp.test").recordType(DnsDiscovery.RecordType.SRV).build();
        List<Backend> found = get(d);
        assertEquals(List.of(Backend.parse("192.0.2.1:9000"), Backend.parse("192.0.2.2:9001").withWeight(5)), found);
        assertEquals(1, found.get(0).weight(), "SRV weight 0 counts as 1");
        assertEquals(Optional.of(Duration.ofSeconds(20)), d.refreshAfter());
    }

    @Test
    void failuresFailTheLookupAndAskForARetry() throws Exception {
        DnsDiscovery d = discovery("api.test").port(80).recordType(DnsDiscovery.RecordType.A)
                .retryInterval(Duration.ofSeconds(7)).build();
        dns.answer("api.test", 1, new TestDnsServer.Rr("api.test", 1, 60, "192.0.2.7"));
        for (TestDnsServer.Mode mode : List.of(TestDnsServer.Mode.SILENT, TestDnsServer.Mode.SERVFAIL)) {
            dns.mode(mode);
            ExecutionException e = assertThrows(ExecutionException.class, () -> get(d));
            assertTrue(e.getCause().getMessage().contains("api.test"), e.getCause().getMessage());
            assertEquals(Optional.of(Duration.ofSeconds(7)), d.refreshAfter());
        }
        dns.mode(TestDnsServer.Mode.ANSWER);
        dns.clear(); // NXDOMAIN
        assertThrows(ExecutionException.class, () -> get(d));
        dns.answer("api.test", 28, new TestDnsServer.Rr("api.test", 28, 60, "2001:db8::1")); // NODATA for A
        ExecutionException empty = assertThrows(ExecutionException.class, () -> get(d));
        assertTrue(empty.getCause().getMessage().contains("no A records"), empty.getCause().getMessage());
    }

    @Test
    void asksTheNextServerWhenOneDoesNotAnswer() throws Exception {
        dns.answer("api.test", 1, new TestDnsServer.Rr("api.test", 1, 60, "192.0.2.7"));
        try (TestDnsServer silent = new TestDnsServer()) {
            silent.mode(TestDnsServer.Mode.SILENT);
            DnsDiscovery d = DnsDiscovery.builder("api.test").port(80).recordType(DnsDiscovery.RecordType.A)
                    .nameServers(List.of(silent.address(), dns.address())).queryTimeout(Duration.ofMillis(200))
                    .attempts(1).executor(Runnable::run).build();
            assertEquals(List.of(Backend.parse("192.0.2.7:80")), get(d));
            assertEquals(1, silent.udpQueries.get());
        }
    }

    @Test
    void aLoadBalancerKeepsItsWorkingSetThroughResolverFailures() throws Exception {
        dns.answer("api.test", 1, new TestDnsServer.Rr("api.test", 1, 10, "192.0.2.1"),
                new TestDnsServer.Rr("api.test", 1, 10, "192.0.2.2"));
        LoadBalancer<RoundRobin> lb = LoadBalancer.builder(RoundRobin.create())
                .discovery(discovery("api.test").port(80).recordType(DnsDiscovery.RecordType.A)
                        .retryInterval(Duration.ofSeconds(2)).build())
                .ticker(clock).scheduler(clock).build();
        lb.start().toCompletableFuture().get(5, TimeUnit.SECONDS);
        List<Backend> good = lb.backends().list();
        assertEquals(2, good.size());

        for (TestDnsServer.Mode mode : List.of(TestDnsServer.Mode.SILENT, TestDnsServer.Mode.SERVFAIL)) {
            dns.mode(mode);
            clock.advance(Duration.ofSeconds(10));
            assertEquals(good, lb.backends().list(), mode + " keeps the last good set");
            assertEquals(Duration.ofSeconds(2), clock.nextDelay());
        }
        dns.mode(TestDnsServer.Mode.ANSWER);
        dns.answer("api.test", 1, new TestDnsServer.Rr("api.test", 1, 10, "192.0.2.3"));
        clock.advance(Duration.ofSeconds(2));
        assertEquals(List.of(Backend.parse("192.0.2.3:80")), lb.backends().list());
        assertEquals(Duration.ofSeconds(10), clock.nextDelay());
        lb.close();
        assertEquals(0, clock.pending());
    }

    @Test
    void systemNameServersComeFromResolvConf(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path conf = dir.resolve("resolv.conf");
        java.nio.file.Files.writeString(conf, "# comment\nsearch example\nnameserver 192.0.2.53\nnameserver fe80::1%eth0\noptions ndots:2\n");
        assertEquals(List.of(new InetSocketAddress("192.0.2.53", 53), new InetSocketAddress("fe80::1", 53)),
                DnsDiscovery.systemNameServers(conf));
        assertEquals(List.of(), DnsDiscovery.systemNameServers(dir.resolve("missing")));
    }

    @Test
    void builderRejectsConflictingSettings() {
        assertThrows(IllegalStateException.class, () -> DnsDiscovery.builder("a.test").nameServers(List.of(dns.address())).build());
        assertThrows(IllegalStateException.class, () -> DnsDiscovery.builder("_s._tcp.a.test").port(80)
                .recordType(DnsDiscovery.RecordType.SRV).nameServers(List.of(dns.address())).build());
        assertThrows(IllegalStateException.class, () -> DnsDiscovery.builder("a.test").port(80).nameServers(List.of(dns.address()))
                .minTtl(Duration.ofSeconds(10)).maxTtl(Duration.ofSeconds(5)).build());
        assertThrows(IllegalArgumentException.class, () -> DnsDiscovery.builder("bad..name"));
    }
}
