package dev.relay.server.internal.config;

import dev.relay.lb.DnsDiscovery;
import dev.relay.lb.HashKey;
import dev.relay.lb.SelectionAlgorithms;
import dev.relay.server.internal.FilterRegistry;
import dev.relay.server.internal.config.ProxyConfig.Selection;
import dev.relay.server.internal.config.ProxyConfig.UpstreamConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The load-balancing keys of an upstream group: selection, hash-key, health-check, outlier-detection, discovery. */
@Timeout(30)
class LoadBalancingConfigTest {
    @TempDir
    Path dir;

    private final ConfigLoader loader = new ConfigLoader(FilterRegistry.load(getClass().getClassLoader()));

    /** A file with one group {@code web} whose block holds {@code group} (one key a line from line 4). */
    private static String oneGroup(String group) {
        return """
                proxy {
                  listeners = [ "127.0.0.1:8080" ]
                  upstreams { web {
                %s
                  } }
                }
                """.formatted(group);
    }

    private UpstreamConfig web(String group) throws IOException {
        return load(oneGroup(group)).upstreams().get("web");
    }

    private ProxyConfig load(String text) throws IOException {
        return loader.load(write("relay.conf", text));
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private void assertProblem(String conf, int line, String key, String detailStart) throws IOException {
        Path file = write("bad.conf", conf);
        ConfigProblem p = assertThrows(ConfigProblem.class, () -> loader.load(file));
        assertEquals(key, p.key(), p.getMessage());
        assertEquals(line, p.line(), p.getMessage());
        assertTrue(p.detail().startsWith(detailStart), p.getMessage());
        assertTrue(p.getMessage().startsWith(file + ":" + line + ": key '" + key + "': "), p.getMessage());
    }

    // selection and hash-key -----------------------------------------------------------------------

    @Test
    void acceptsEverySelectionNameAndRequiresAHashKeyOnlyForTheHashingOnes() throws IOException {
        for (String name : SelectionAlgorithms.NAMES) {
            boolean hashing = SelectionAlgorithms.usesKey(name);
            UpstreamConfig web = web("backends = [ \"127.0.0.1:9001\" ]\nselection = " + name
                    + (hashing ? "\nhash-key = \"header:X-User\"" : ""));
            assertEquals(name, web.selection().configName());
            assertEquals(hashing, web.selection().usesKey());
            assertEquals(hashing ? HashKey.header("X-User") : null, web.hashKey(), name);
            assertEquals(SelectionAlgorithms.forName(name).getClass(), web.selection().algorithm().getClass(), name);
        }
    }

    @Test
    void parsesEveryHashKeyForm() throws IOException {
        for (String spec : List.of("uri", "client-ip", "header:X-User", "cookie:session")) {
            UpstreamConfig web = web("backends = [ \"127.0.0.1:9001\" ]\nselection = maglev\nhash-key = \"" + spec + "\"");
            assertEquals(HashKey.parse(spec), web.hashKey());
        }
    }

    @Test
    void aHashingSelectionWithoutHashKeyIsAnErrorAtTheGroup() throws IOException {
        assertProblem(oneGroup("backends = [ \"127.0.0.1:9001\" ]\nselection = ketama"), 3,
                "proxy.upstreams.web.hash-key", "missing (expected: what selection = ketama hashes: \"uri\", \"client-ip\"");
    }

    @Test
    void aHashKeyWithANonHashingSelectionIsAnErrorAtItsLine() throws IOException {
        assertProblem(oneGroup("backends = [ \"127.0.0.1:9001\" ]\nselection = least-connections\nhash-key = uri"), 6,
                "proxy.upstreams.web.hash-key", "'uri' is set but selection = least-connections does not hash");
        // round-robin is the default selection: the same.
        assertProblem(oneGroup("backends = [ \"127.0.0.1:9001\" ]\nhash-key = uri"), 5,
                "proxy.upstreams.web.hash-key", "'uri' is set but selection = round-robin does not hash");
    }

    @Test
    void aMalformedHashKeyIsAnError() throws IOException {
        assertProblem(oneGroup("backends = [ \"127.0.0.1:9001\" ]\nselection = fnv\nhash-key = \"ip\""), 6,
                "proxy.upstreams.web.hash-key", "unknown value 'ip' (expected: \"uri\", \"client-ip\", \"header:NAME\"");
        assertProblem(oneGroup("backends = [ \"127.0.0.1:9001\" ]\nselection = fnv\nhash-key = \"header:\""), 6,
                "proxy.upstreams.web.hash-key", "unknown value 'header:'");
    }

    @Test
    void aGroupInheritsSelectionAndHashKeyFromUpstreamDefaultsAndMayOverrideThem() throws IOException {
        ProxyConfig config = load("""
                proxy {
                  listeners = [ "127.0.0.1:8080" ]
                  upstream-defaults { selection = ketama, hash-key = "cookie:sid" }
                  upstreams {
                    a { backends = [ "127.0.0.1:9001" ] }
                    b { backends = [ "127.0.0.1:9002" ], selection = round-robin }
                    c { backends = [ "127.0.0.1:9003" ], hash-key = uri }
                  }
                  routes = [ { upstream = a } ]
                }
                """);
        assertEquals(Selection.KETAMA, config.upstreams().get("a").selection());
        assertEquals(HashKey.cookie("sid"), config.upstreams().get("a").hashKey());
        // An inherited hash-key does not bother a group that does not hash.
        assertEquals(Selection.ROUND_ROBIN, config.upstreams().get("b").selection());
        assertNull(config.upstreams().get("b").hashKey());
        assertEquals(HashKey.uri(), config.upstreams().get("c").hashKey());
    }

    // health-check ---------------------------------------------------------------------------------

    @Test
    void withoutAHealthCheckBlockThereAreNoActiveChecks() throws IOException {
        assertNull(web("backends = [ \"127.0.0.1:9001\" ]").healthCheck());
    }

    @Test
    void parsesAnHttpHealthCheckWithEveryKey() throws IOException {
        UpstreamConfig web = web("""
                backends = [ "127.0.0.1:9001" ]
                tls = true
                verify = false
                health-check {
                  type = http, interval = 2s, parallel = true, consecutive-success = 2, consecutive-failure = 3
                  connect-timeout = 300ms, read-timeout = 700ms, sni = "health.internal", verify-hostname = false
                  port = 8081, host = "svc.internal", method = head, path = "/healthz?deep=1"
                  headers { X-Probe = relay, "User-Agent" = "relay-check" }
                  expected-statuses = [ 200, "300-302" ], reuse-connection = true
                }""");
        HealthCheckConfig check = web.healthCheck();
        assertEquals(HealthCheckConfig.Type.HTTP, check.type());
        assertEquals(Duration.ofSeconds(2), check.interval());
        assertTrue(check.parallel());
        assertEquals(2, check.consecutiveSuccess());
        assertEquals(3, check.consecutiveFailure());
        assertEquals(Duration.ofMillis(300), check.connectTimeout());
        assertEquals(Duration.ofMillis(700), check.readTimeout());
        assertTrue(check.tls(), "from the group");
        assertEquals("health.internal", check.sni());
        assertFalse(check.verifyChain(), "the group's verify");
        assertFalse(check.verifyHostname());
        assertEquals(8081, check.port());
        assertEquals("svc.internal", check.host());
        assertEquals("HEAD", check.method());
        assertEquals("/healthz?deep=1", check.path());
        assertEquals(Map.of("X-Probe", "relay", "User-Agent", "relay-check"), check.headers());
        assertEquals(List.of(200, 300, 301, 302), check.expectedStatuses());
        assertTrue(check.reuseConnection());
        assertNotNull(check.create());
        assertEquals("http HEAD /healthz?deep=1 every 2s", check.describe());
    }

    @Test
    void anHttpHealthCheckHasPingoraLikeDefaults() throws IOException {
        HealthCheckConfig check = web("backends = [ \"127.0.0.1:9001\" ]\nhost-header = \"site.test\"\n"
                + "health-check { type = http }").healthCheck();
        assertEquals(Duration.ofSeconds(5), check.interval());
        assertFalse(check.parallel());
        assertEquals(1, check.consecutiveSuccess());
        assertEquals(1, check.consecutiveFailure());
        assertEquals(Duration.ofSeconds(1), check.connectTimeout());
        assertEquals(Duration.ofSeconds(1), check.readTimeout());
        assertFalse(check.tls());
        assertEquals(0, check.port());
        assertEquals("site.test", check.host(), "the group's host-header");
        assertEquals("GET", check.method());
        assertEquals("/", check.path());
        assertEquals(List.of(200), check.expectedStatuses());
        assertFalse(check.reuseConnection());
    }

    @Test
    void acceptsAStatusRangeOnItsOwn() throws IOException {
        HealthCheckConfig check = web("backends = [ \"127.0.0.1:9001\" ]\n"
                + "health-check { type = http, expected-statuses = \"200-399\" }").healthCheck();
        assertEquals(200, check.expectedStatuses().size());
        assertEquals(200, check.expectedStatuses().get(0));
        assertEquals(399, check.expectedStatuses().get(199));
    }

    @Test
    void parsesATcpHealthCheck() throws IOException {
        HealthCheckConfig check = web("backends = [ \"127.0.0.1:9001\" ]\n"
                + "health-check { type = tcp, interval = 500ms, consecutive-failure = 2, port = 9100 }").healthCheck();
        assertEquals(HealthCheckConfig.Type.TCP, check.type());
        assertEquals(Duration.ofMillis(500), check.interval());
        assertEquals(2, check.consecutiveFailure());
        assertEquals(9100, check.port());
        assertEquals("tcp every 500ms", check.describe());
        assertNotNull(check.create());
    }

    @Test
    void reportsHealthCheckErrorsWithFileLineAndKey() throws IOException {
        String base = "backends = [ \"127.0.0.1:9001\" ]\nhealth-check {\nCHECK\n}";
        assertProblem(oneGroup(base.replace("CHECK", "interval = 5s")), 5,
                "proxy.upstreams.web.health-check.type", "missing (expected: tcp or http)");
        assertProblem(oneGroup(base.replace("CHECK", "type = grpc")), 6,
                "proxy.upstreams.web.health-check.type", "unknown value 'grpc' (expected: tcp or http)");
        assertProblem(oneGroup(base.replace("CHECK", "type = tcp\npath = \"/healthz\"")), 7,
                "proxy.upstreams.web.health-check.path", "only for type = http");
        assertProblem(oneGroup(base.replace("CHECK", "type = http\nexpected-statuses = [ \"399-200\" ]")), 7,
                "proxy.upstreams.web.health-check.expected-statuses[0]", "'399-200' (expected: statuses from 100 to 599");
        assertProblem(oneGroup(base.replace("CHECK", "type = http\nexpected-statuses = [ ok ]")), 7,
                "proxy.upstreams.web.health-check.expected-statuses[0]", "'ok' (expected: a status such as 200");
        assertProblem(oneGroup(base.replace("CHECK", "type = http\npath = healthz")), 7,
                "proxy.upstreams.web.health-check.path", "path: healthz (expected: starts with /");
        assertProblem(oneGroup(base.replace("CHECK", "type = http\nheaders { Host = x }")), 7,
                "proxy.upstreams.web.health-check.headers.Host", "header: Host (expected: not Host");
        assertProblem(oneGroup(base.replace("CHECK", "type = tcp\ninterval = 0s")), 7,
                "proxy.upstreams.web.health-check.interval", "'0s' (expected: > 0 and <= 24h)");
        assertProblem(oneGroup(base.replace("CHECK", "type = tcp\nsni = \"a.test\"")), 7,
                "proxy.upstreams.web.health-check.sni", "'a.test' is set but the check's tls = false");
        assertProblem(oneGroup(base.replace("CHECK", "type = tcp\nconsecutive-failure = 0")), 7,
                "proxy.upstreams.web.health-check.consecutive-failure", "0 (expected: 1..1000)");
        assertProblem(oneGroup(base.replace("CHECK", "type = tcp\ntimeout = 1s")), 7,
                "proxy.upstreams.web.health-check.timeout", "unknown key (expected one of: connect-timeout, consecutive-failure");
        assertProblem(oneGroup("backends = [ \"127.0.0.1:9001\" ]\nhealth-check = on"), 5,
                "proxy.upstreams.web.health-check", "'on' (expected: a block { ... }, or off)");
    }

    @Test
    void aGroupTakesTheHealthCheckOfUpstreamDefaultsKeyByKeyOrTurnsItOff() throws IOException {
        ProxyConfig config = load("""
                proxy {
                  listeners = [ "127.0.0.1:8080" ]
                  upstream-defaults.health-check { type = http, path = "/healthz", interval = 10s }
                  upstreams {
                    a { backends = [ "127.0.0.1:9001" ] }
                    b { backends = [ "127.0.0.1:9002" ], health-check { interval = 1s } }
                    c { backends = [ "127.0.0.1:9003" ], health-check = off }
                    d { backends = [ "127.0.0.1:9004" ], health-check { type = tcp } }
                  }
                  routes = [ { upstream = a } ]
                }
                """);
        HealthCheckConfig a = config.upstreams().get("a").healthCheck();
        assertEquals("/healthz", a.path());
        assertEquals(Duration.ofSeconds(10), a.interval());
        HealthCheckConfig b = config.upstreams().get("b").healthCheck();
        assertEquals("/healthz", b.path());
        assertEquals(Duration.ofSeconds(1), b.interval());
        assertNull(config.upstreams().get("c").healthCheck());
        HealthCheckConfig d = config.upstreams().get("d").healthCheck();
        assertEquals(HealthCheckConfig.Type.TCP, d.type(), "the inherited path does not apply to a tcp check");
        assertEquals(Duration.ofSeconds(10), d.interval());
    }

    @Test
    void upstreamDefaultsMayGiveHealthCheckSettingsWithoutAType() throws IOException {
        ProxyConfig config = load("""
                proxy {
                  listeners = [ "127.0.0.1:8080" ]
                  upstream-defaults.health-check { interval = 2s, consecutive-failure = 3 }
                  upstreams {
                    a { backends = [ "127.0.0.1:9001" ], health-check.type = tcp }
                    b { backends = [ "127.0.0.1:9002" ], health-check = off }
                  }
                  routes = [ { upstream = a } ]
                }
                """);
        assertEquals(Duration.ofSeconds(2), config.upstreams().get("a").healthCheck().interval());
        assertEquals(3, config.upstreams().get("a").healthCheck().consecutiveFailure());
        assertNull(config.upstreams().get("b").healthCheck());
    }

    @Test
    void aTypoInAHealthCheckOfUpstreamDefaultsIsReportedEvenWhenNoGroupUsesIt() throws IOException {
        assertProblem("""
                proxy {
                  listeners = [ "127.0.0.1:8080" ]
                  upstream-defaults.health-check { type = http, pth = "/healthz" }
                  upstreams { web { backends = [ "127.0.0.1:9001" ], health-check = off } }
                }
                """, 3, "proxy.upstream-defaults.health-check.pth", "unknown key");
    }

    // outlier-detection ----------------------------------------------------------------------------

    @Test
    void outlierDetectionIsOnByDefaultWithEnvoysSettings() throws IOException {
        assertEquals(OutlierDetectionConfig.DEFAULTS, web("backends = [ \"127.0.0.1:9001\" ]").outlierDetection());
        assertEquals(5, OutlierDetectionConfig.DEFAULTS.consecutiveFailures());
        assertEquals(85, OutlierDetectionConfig.DEFAULTS.failureRatePercent());
        assertEquals(50, OutlierDetectionConfig.DEFAULTS.minimumRequests());
        assertEquals(Duration.ofSeconds(10), OutlierDetectionConfig.DEFAULTS.window());
        assertEquals(Duration.ofSeconds(30), OutlierDetectionConfig.DEFAULTS.baseEjectionTime());
        assertEquals(Duration.ofSeconds(300), OutlierDetectionConfig.DEFAULTS.maxEjectionTime());
        assertEquals(10, OutlierDetectionConfig.DEFAULTS.maxEjectionPercent());
    }

    @Test
    void parsesOutlierDetectionAndTurnsItOff() throws IOException {
        OutlierDetectionConfig od = web("backends = [ \"127.0.0.1:9001\" ]\noutlier-detection { consecutive-failures = 2, "
                + "failure-rate-percent = 0, minimum-requests = 10, window = 5s, base-ejection-time = 1s, "
                + "max-ejection-time = 20s, max-ejection-percent = 50 }").outlierDetection();
        assertEquals(new OutlierDetectionConfig(2, 0, 10, Duration.ofSeconds(5), Duration.ofSeconds(1),
                Duration.ofSeconds(20), 50), od);
        assertNotNull(od.create());
        for (String off : List.of("off", "false", "none", "null")) {
            assertNull(web("backends = [ \"127.0.0.1:9001\" ]\noutlier-detection = " + off).outlierDetection(), off);
        }
        // A group's block over upstream-defaults', key by key; "on" takes the defaults' block.
        ProxyConfig config = load("""
                proxy {
                  listeners = [ "127.0.0.1:8080" ]
                  upstream-defaults.outlier-detection.base-ejection-time = 5s
                  upstreams {
                    a { backends = [ "127.0.0.1:9001" ], outlier-detection.consecutive-failures = 1 }
                    b { backends = [ "127.0.0.1:9002" ], outlier-detection = on }
                  }
                  routes = [ { upstream = a } ]
                }
                """);
        OutlierDetectionConfig a = config.upstreams().get("a").outlierDetection();
        assertEquals(1, a.consecutiveFailures());
        assertEquals(Duration.ofSeconds(5), a.baseEjectionTime());
        assertEquals(85, a.failureRatePercent());
        assertEquals(Duration.ofSeconds(5), config.upstreams().get("b").outlierDetection().baseEjectionTime());
    }

    @Test
    void reportsOutlierDetectionErrorsWithFileLineAndKey() throws IOException {
        String base = "backends = [ \"127.0.0.1:9001\" ]\noutlier-detection {\nKEYS\n}";
        assertProblem(oneGroup(base.replace("KEYS", "max-ejection-percent = 101")), 6,
                "proxy.upstreams.web.outlier-detection.max-ejection-percent", "101 (expected: 0..100)");
        assertProblem(oneGroup(base.replace("KEYS", "base-ejection-time = 1m\nmax-ejection-time = 30s")), 7,
                "proxy.upstreams.web.outlier-detection.max-ejection-time",
                "max-ejection-time 30s is below base-ejection-time 1m");
        assertProblem(oneGroup(base.replace("KEYS", "consecutive-failures = -1")), 6,
                "proxy.upstreams.web.outlier-detection.consecutive-failures", "-1 (expected: 0..1000000)");
        assertProblem(oneGroup(base.replace("KEYS", "minimum-requests = 0")), 6,
                "proxy.upstreams.web.outlier-detection.minimum-requests", "0 (expected: 1..1000000)");
        assertProblem(oneGroup(base.replace("KEYS", "window = soon")), 6,
                "proxy.upstreams.web.outlier-detection.window", "'soon' (expected: a duration");
        assertProblem(oneGroup(base.replace("KEYS", "max-fails = 1")), 6,
                "proxy.upstreams.web.outlier-detection.max-fails", "unknown key");
        assertProblem(oneGroup("backends = [ \"127.0.0.1:9001\" ]\noutlier-detection = sometimes"), 5,
                "proxy.upstreams.web.outlier-detection", "'sometimes' (expected: a block { ... }, on or off)");
    }

    // discovery ------------------------------------------------------------------------------------

    @Test
    void parsesDnsDiscovery() throws IOException {
        UpstreamConfig web = web("discovery { type = dns, name = \"svc.example\", port = 8080, record = A, "
                + "servers = [ \"127.0.0.1:5353\", \"10.0.0.2\", \"[::1]:53\" ], min-ttl = 2s, max-ttl = 1m }");
        assertEquals(List.of(), web.backends());
        DiscoveryConfig.Dns dns = (DiscoveryConfig.Dns) web.discovery();
        assertEquals("svc.example", dns.name());
        assertEquals(8080, dns.port());
        assertEquals(DnsDiscovery.RecordType.A, dns.record());
        assertEquals(List.of(new InetSocketAddress("127.0.0.1", 5353), new InetSocketAddress("10.0.0.2", 53),
                new InetSocketAddress("::1", 53)), dns.servers());
        assertEquals(Duration.ofSeconds(2), dns.minTtl());
        assertEquals(Duration.ofMinutes(1), dns.maxTtl());
        assertNotNull(dns.create());

        DiscoveryConfig.Dns srv = (DiscoveryConfig.Dns) web("discovery { type = dns, name = \"_http._tcp.svc.example\", "
                + "record = SRV, servers = [ \"127.0.0.1\" ] }").discovery();
        assertEquals(DnsDiscovery.RecordType.SRV, srv.record());
        assertEquals(0, srv.port());
        assertEquals(Duration.ofSeconds(1), srv.minTtl());
        assertEquals(Duration.ofMinutes(5), srv.maxTtl());
        DiscoveryConfig.Dns both = (DiscoveryConfig.Dns) web("discovery { type = dns, name = a.test, port = 80, "
                + "servers = [ \"127.0.0.1\" ] }").discovery();
        assertEquals(DnsDiscovery.RecordType.A_AND_AAAA, both.record());
    }

    @Test
    void parsesFileDiscoveryRelativeToTheConfigurationFile() throws IOException {
        Files.writeString(dir.resolve("backends.txt"), "127.0.0.1:9001\n");
        UpstreamConfig web = web("discovery { type = file, path = \"backends.txt\", poll-interval = 250ms }");
        DiscoveryConfig.File file = (DiscoveryConfig.File) web.discovery();
        assertEquals(dir.resolve("backends.txt").toAbsolutePath().normalize(), file.path());
        assertEquals(Duration.ofMillis(250), file.pollInterval());
        assertEquals(Duration.ofSeconds(5), ((DiscoveryConfig.File) web("discovery { type = file, path = \""
                + dir.resolve("backends.txt") + "\" }").discovery()).pollInterval());
    }

    @Test
    void reportsDiscoveryErrorsWithFileLineAndKey() throws IOException {
        assertProblem(oneGroup("backends = [ \"127.0.0.1:9001\" ]\ndiscovery { type = file, path = x }"), 5,
                "proxy.upstreams.web.discovery", "set together with backends (expected: one of backends, discovery)");
        assertProblem(oneGroup("selection = random"), 3,
                "proxy.upstreams.web.backends", "missing (expected: a list of \"host:port\"");
        assertProblem(oneGroup("discovery { name = x }"), 4,
                "proxy.upstreams.web.discovery.type", "missing (expected: dns or file)");
        assertProblem(oneGroup("discovery { type = consul }"), 4,
                "proxy.upstreams.web.discovery.type", "unknown value 'consul' (expected: dns or file)");
        assertProblem(oneGroup("discovery {\ntype = dns\nname = \"svc.example\"\nservers = [ \"127.0.0.1\" ]\n}"), 4,
                "proxy.upstreams.web.discovery.port", "missing (expected: the backends' port, 1..65535, for record = A_AND_AAAA)");
        assertProblem(oneGroup("discovery {\ntype = dns\nname = \"svc.example\"\nrecord = SRV\nport = 80\n}"), 8,
                "proxy.upstreams.web.discovery.port", "'80' is set with record = SRV");
        assertProblem(oneGroup("discovery {\ntype = dns\nname = \"svc.example\"\nport = 80\nrecord = MX\n}"), 8,
                "proxy.upstreams.web.discovery.record", "unknown value 'MX' (expected: A, AAAA, A_AND_AAAA or SRV)");
        assertProblem(oneGroup("discovery {\ntype = dns\nname = \"svc.example\"\nport = 80\nservers = [ \"dns.example:53\" ]\n}"), 8,
                "proxy.upstreams.web.discovery.servers[0]", "bad address 'dns.example:53' (expected: an IP address");
        assertProblem(oneGroup("discovery {\ntype = dns\nname = \"svc..example\"\nport = 80\n}"), 6,
                "proxy.upstreams.web.discovery.name", "name: svc..example (expected: labels of 1 to 63 characters)");
        assertProblem(oneGroup("discovery {\ntype = dns\nname = a.test\nport = 80\nmin-ttl = 10m\nmax-ttl = 1m\n}"), 8,
                "proxy.upstreams.web.discovery.min-ttl", "min-ttl 10m is above max-ttl 1m");
        assertProblem(oneGroup("discovery {\ntype = dns\nname = a.test\nport = 80\nmin-ttl = 1500ms\n}"), 8,
                "proxy.upstreams.web.discovery.min-ttl", "'1500ms' (expected: whole seconds, 0 to 1 day)");
        assertProblem(oneGroup("discovery {\ntype = file\npath = \"missing.txt\"\n}"), 6,
                "proxy.upstreams.web.discovery.path", "cannot read '" + dir.resolve("missing.txt") + "': no such file");
        assertProblem(oneGroup("discovery {\ntype = file\npath = \"missing.txt\"\nname = x\n}"), 7,
                "proxy.upstreams.web.discovery.name", "unknown key (expected one of: path, poll-interval, type)");
        assertProblem("""
                proxy {
                  listeners = [ "127.0.0.1:8080" ]
                  upstream-defaults.discovery { type = file, path = x }
                  upstreams { web { backends = [ "127.0.0.1:9001" ] } }
                }
                """, 3, "proxy.upstream-defaults.discovery", "unknown key");
    }
}
