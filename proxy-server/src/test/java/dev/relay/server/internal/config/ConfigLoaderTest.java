package dev.relay.server.internal.config;

import dev.relay.core.Backend;
import dev.relay.server.internal.FilterRegistry;
import dev.relay.server.internal.config.ProxyConfig.Selection;
import dev.relay.server.internal.config.ProxyConfig.UpstreamConfig;
import dev.relay.transport.TransportRuntime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(30)
class ConfigLoaderTest {
    private static final String CONTRACT = """
            proxy {
              listeners = [ { address = "127.0.0.1:6188" } ]
              upstreams {
                web {
                  backends = [ "127.0.0.1:9001", "127.0.0.1:9002" ]
                  selection = round-robin
                  tls = false
                }
              }
              routes = [ { upstream = web } ]
            }
            """;

    @TempDir
    Path dir;

    private final ConfigLoader loader = new ConfigLoader(FilterRegistry.load(getClass().getClassLoader()));

    private Path write(String name, String text) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, text);
        return file;
    }

    private ConfigProblem problemOf(String text) throws IOException {
        Path file = write("relay.conf", text);
        try {
            loader.load(file);
        } catch (ConfigProblem p) {
            assertEquals(file.toString(), p.file());
            return p;
        }
        throw new AssertionError("expected a ConfigProblem for:\n" + text);
    }

    @Test
    void parsesTheFixedContractWithDefaults() throws IOException {
        ProxyConfig config = loader.load(write("relay.conf", CONTRACT));

        assertEquals(List.of("127.0.0.1:6188"), config.listeners().stream().map(ProxyConfig.ListenerConfig::address).toList());
        assertEquals(List.of("web"), List.copyOf(config.upstreams().keySet()));
        UpstreamConfig web = config.upstreams().get("web");
        assertEquals(List.of(Backend.parse("127.0.0.1:9001"), Backend.parse("127.0.0.1:9002")), web.backends());
        assertEquals(Selection.ROUND_ROBIN, web.selection());
        assertFalse(web.tls());
        assertTrue(web.verify());
        assertNull(web.hostHeader());
        assertEquals(Duration.ofSeconds(10), web.options().connectTimeout());
        assertEquals(Duration.ofSeconds(60), web.options().readTimeout());
        assertEquals(Duration.ofSeconds(60), web.options().writeTimeout());
        assertEquals(Duration.ofSeconds(60), web.options().idleTimeout());
        assertEquals(1, config.routes().size());
        ProxyConfig.RouteConfig route = config.routes().get(0);
        assertEquals("web", route.upstream());
        assertTrue(route.hosts().isEmpty());
        assertNull(route.pathPrefix());
        assertEquals(new ProxyConfig.ServerSettings(0, Duration.ofSeconds(30), 16, TransportRuntime.Kind.AUTO, true,
                        ProxyConfig.AccessLogFormat.COMBINED, Duration.ofSeconds(5), null, 1024, null,
                        "/tmp/relay-upgrade.sock"),
                config.server());
        assertEquals(0, config.demoOrigins());
    }

    @Test
    void parsesEveryOptionalKey() throws IOException {
        ProxyConfig config = loader.load(write("full.conf", """
                proxy {
                  listeners = [ "127.0.0.1:0", { address = "[::1]:0" } ]
                  server { threads = 2, grace-period = 5s, max-attempts = 3, transport = nio, access-log = false }
                  upstream-defaults { connect-timeout = 2s }
                  upstreams {
                    api {
                      backends = [ { address = "10.0.0.1:443", weight = 3 }, "api.example.com:443" ]
                      selection = random
                      tls = true
                      sni = "api.example.com"
                      verify = false
                      host-header = "api.example.com"
                      read-timeout = 250ms
                      write-timeout = none
                      idle-timeout = 0
                    }
                    web { backends = [ "127.0.0.1:9001" ] }
                  }
                  routes = [
                    { match { host = "*.example.com", path-prefix = "/api" }, upstream = api,
                      filters = [ { name = test-add-header, header = X-Route, value = api } ] }
                    { match { host = [ "example.com", "WWW.example.com" ] }, upstream = web }
                    { upstream = web }
                  ]
                  filters = [ { name = test-add-header, header = X-Global, value = yes } ]
                }
                """));

        assertEquals(2, config.listeners().size());
        assertEquals(new ProxyConfig.ServerSettings(2, Duration.ofSeconds(5), 3, TransportRuntime.Kind.NIO, false,
                        ProxyConfig.AccessLogFormat.COMBINED, Duration.ofSeconds(5), null, 1024, null,
                        "/tmp/relay-upgrade.sock"),
                config.server());
        UpstreamConfig api = config.upstreams().get("api");
        assertEquals(3, api.backends().get(0).weight());
        assertTrue(api.backends().get(1).address().isUnresolved(), "host names resolve at connect time");
        assertEquals(Selection.RANDOM, api.selection());
        assertTrue(api.tls());
        assertEquals("api.example.com", api.sni());
        assertFalse(api.options().verifyCert());
        assertFalse(api.options().verifyHostname());
        assertEquals("api.example.com", api.hostHeader());
        assertEquals(Duration.ofSeconds(2), api.options().connectTimeout());
        assertEquals(Duration.ofMillis(250), api.options().readTimeout());
        assertNull(api.options().writeTimeout());
        assertEquals(Duration.ZERO, api.options().idleTimeout());
        assertEquals(Duration.ofSeconds(2), config.upstreams().get("web").options().connectTimeout());
        assertEquals(3, config.routes().size());
        assertEquals(List.of("*.example.com"), config.routes().get(0).hosts());
        assertEquals("/api", config.routes().get(0).pathPrefix());
        assertEquals(List.of("test-add-header"),
                config.routes().get(0).filters().stream().map(ProxyConfig.FilterConfig::name).toList());
        assertEquals(List.of("example.com", "www.example.com"), config.routes().get(1).hosts());
        assertEquals(1, config.filters().size());
    }

    @Test
    void reportsAnUnknownSelectionWithFileLineAndKey() throws IOException {
        ConfigProblem p = problemOf(CONTRACT.replace("selection = round-robin", "selection = foo"));

        assertEquals(6, p.line());
        assertEquals("proxy.upstreams.web.selection", p.key());
        assertEquals(dir.resolve("relay.conf") + ":6: key 'proxy.upstreams.web.selection': "
                + "unknown value 'foo' (expected: round-robin, random, fnv, ketama, maglev, least-connections or peak-ewma)", p.getMessage());
    }

    @Test
    void reportsMissingBackendsAtTheUpstreamBlock() throws IOException {
        ConfigProblem p = problemOf(CONTRACT.replace("backends = [ \"127.0.0.1:9001\", \"127.0.0.1:9002\" ]", ""));

        assertEquals("proxy.upstreams.web.backends", p.key());
        assertEquals(4, p.line());
        assertTrue(p.detail().startsWith("missing (expected: a list of"), p.detail());
    }

    @Test
    void reportsEmptyBackends() throws IOException {
        ConfigProblem p = problemOf(CONTRACT.replace("[ \"127.0.0.1:9001\", \"127.0.0.1:9002\" ]", "[]"));

        assertEquals("proxy.upstreams.web.backends", p.key());
        assertEquals("empty (expected: at least one backend)", p.detail());
    }

    @Test
    void reportsABadBackendAddress() throws IOException {
        ConfigProblem p = problemOf(CONTRACT.replace("\"127.0.0.1:9002\"", "\"127.0.0.1:http\""));

        assertEquals(5, p.line());
        assertEquals("proxy.upstreams.web.backends[1]", p.key());
        assertEquals("bad address '127.0.0.1:http' (expected: host:port)", p.detail());
    }

    @Test
    void reportsABackendOnPortZero() throws IOException {
        ConfigProblem p = problemOf(CONTRACT.replace("\"127.0.0.1:9002\"", "{ address = \"127.0.0.1:0\" }"));

        assertEquals("proxy.upstreams.web.backends[1].address", p.key());
        assertEquals("bad address '127.0.0.1:0' (expected: a port in 1..65535)", p.detail());
    }

    @Test
    void reportsABadListenerAddress() throws IOException {
        ConfigProblem p = problemOf(CONTRACT.replace("\"127.0.0.1:6188\"", "\"127.0.0.1\""));

        assertEquals(2, p.line());
        assertEquals("proxy.listeners[0].address", p.key());
        assertEquals("bad address '127.0.0.1' (expected: host:port)", p.detail());
    }

    @Test
    void reportsMissingListeners() throws IOException {
        ConfigProblem p = problemOf(CONTRACT.replace("listeners = [ { address = \"127.0.0.1:6188\" } ]", ""));

        assertEquals("proxy.listeners", p.key());
        assertTrue(p.detail().startsWith("missing"), p.detail());
    }

    /** Found by ConfigLoaderFuzzTest: the problem named reference.conf (its proxy block) instead of the user's file. */
    @Test
    void reportsAFileWithoutAProxyBlockAtThatFile() throws IOException {
        for (String text : List.of("", "# nothing yet\n", "other { a = 1 }")) {
            ConfigProblem p = problemOf(text);

            assertEquals("proxy", p.key());
            assertTrue(p.detail().startsWith("missing"), p.detail());
        }
    }

    /** Found by ConfigLoaderFuzzTest: typesafe-config put the fault of a "+=" onto a default at reference.conf's line. */
    @Test
    void reportsAValueThatDoesNotCombineWithItsDefaultAtTheUserFile() throws IOException {
        ConfigProblem p = problemOf(CONTRACT + "proxy.server.http2.max-frame-size += 1KiB\n");

        assertTrue(p.detail().startsWith("does not combine with the defaults: "), p.detail());
        assertTrue(p.detail().contains("reference.conf"), p.detail());
    }

    @Test
    void aSubstitutionThatCannotBeResolvedInAnIncludedFileIsReportedAtThatFile() throws IOException {
        Path included = write("upstreams.conf", "proxy.server.threads = 1\nproxy.server.grace-period = ${NO_SUCH_RELAY_VAR}\n");
        Path file = write("relay.conf", "include \"upstreams.conf\"\n" + CONTRACT);
        ConfigProblem p = assertThrows(ConfigProblem.class, () -> loader.load(file));

        assertEquals(included.toString(), p.file());
        assertEquals(2, p.line());
        assertFalse(p.detail().startsWith("does not combine with the defaults"), p.detail());
    }

    /** Found by ConfigLoaderFuzzTest: a block given twice in text has an origin with a line range ("a.conf: 1-3"). */
    @Test
    void namesTheFileOfABlockGivenTwiceInConfigurationText() {
        ConfigProblem p = assertThrows(ConfigProblem.class,
                () -> loader.parseString("proxy {\n}\nproxy {\n}\n", "a.conf"));

        assertEquals("a.conf", p.file());
        assertEquals("proxy.listeners", p.key());
    }

    @Test
    void reportsAnUnknownFilterName() throws IOException {
        ConfigProblem p = problemOf(CONTRACT.replace("routes = [ { upstream = web } ]",
                "routes = [ {\n upstream = web\n filters = [ { name = gzip-everything } ]\n} ]"));

        assertEquals(12, p.line());
        assertEquals("proxy.routes[0].filters[0].name", p.key());
        assertTrue(p.detail().startsWith("unknown filter 'gzip-everything' (expected: "), p.detail());
        assertTrue(p.detail().contains("test-add-header"), p.detail());
    }

    @Test
    void reportsAMissingFilterSettingAtTheFilterBlock() throws IOException {
        ConfigProblem p = problemOf(CONTRACT.replace("routes = [ { upstream = web } ]", """
                routes = [ {
                  upstream = web
                  filters = [ {
                    name = test-add-header
                    value = yes
                  } ]
                } ]"""));

        assertEquals("proxy.routes[0].filters[0].header", p.key());
        assertEquals("missing (expected: a header name)", p.detail());
        assertEquals(12, p.line());
    }

    @Test
    void reportsAFilterSettingOfTheWrongTypeAtItsLine() throws IOException {
        ConfigProblem p = problemOf(CONTRACT.replace("routes = [ { upstream = web } ]", """
                routes = [ {
                  upstream = web
                  filters = [ {
                    name = test-add-header
                    header = X-A
                    value = [ 1, 2 ]
                  } ]
                } ]"""));

        assertEquals("proxy.routes[0].filters[0].value", p.key());
        assertEquals(15, p.line());
        assertEquals("a list (expected: a text value)", p.detail());
    }

    @Test
    void reportsARouteToAnUnknownUpstream() throws IOException {
        ConfigProblem p = problemOf(CONTRACT.replace("routes = [ { upstream = web } ]", "routes = [ { upstream = api } ]"));

        assertEquals(10, p.line());
        assertEquals("proxy.routes[0].upstream", p.key());
        assertEquals("unknown upstream 'api' (expected: web)", p.detail());
    }

    @Test
    void reportsAnUnknownKeyNamingTheAllowedOnes() throws IOException {
        ConfigProblem p = problemOf(CONTRACT.replace("tls = false", "tls = false\n      selction = random"));

        assertEquals("proxy.upstreams.web.selction", p.key());
        assertEquals(8, p.line());
        assertTrue(p.detail().startsWith("unknown key (expected one of: alpn, backends, ca-file, client-cert, client-key, connect-timeout,"), p.detail());
    }

    @Test
    void reportsSniWithoutTls() throws IOException {
        ConfigProblem p = problemOf(CONTRACT.replace("tls = false", "tls = false, sni = \"a.example\""));

        assertEquals("proxy.upstreams.web.sni", p.key());
        assertEquals("'a.example' is set but tls = false (expected: tls = true, or no sni)", p.detail());
    }

    @Test
    void reportsABadDurationAndABadNumber() throws IOException {
        ConfigProblem duration = problemOf(CONTRACT.replace("tls = false", "tls = false, read-timeout = soon"));
        assertEquals("proxy.upstreams.web.read-timeout", duration.key());
        assertEquals("'soon' (expected: a duration such as 250ms, 10s or 2m)", duration.detail());

        ConfigProblem number = problemOf(CONTRACT + "proxy.server.max-attempts = 0\n");
        assertEquals("proxy.server.max-attempts", number.key());
        assertEquals(12, number.line());
        assertEquals("0 (expected: 1..1000)", number.detail());
    }

    @Test
    void reportsAnUnknownTransport() throws IOException {
        ConfigProblem p = problemOf(CONTRACT + "proxy.server.transport = kqueue\n");

        assertEquals("proxy.server.transport", p.key());
        assertEquals("unknown value 'kqueue' (expected: auto, io_uring, epoll or nio)", p.detail());
    }

    @Test
    void reportsABadHostPatternAndPathPrefix() throws IOException {
        ConfigProblem host = problemOf(CONTRACT.replace("routes = [ { upstream = web } ]",
                "routes = [ { match { host = \"www.*\" }, upstream = web } ]"));
        assertEquals("proxy.routes[0].match.host", host.key());
        assertTrue(host.detail().startsWith("bad host pattern 'www.*'"), host.detail());

        ConfigProblem path = problemOf(CONTRACT.replace("routes = [ { upstream = web } ]",
                "routes = [ { match { path-prefix = api }, upstream = web } ]"));
        assertEquals("proxy.routes[0].match.path-prefix", path.key());
        assertEquals("'api' (expected: a path starting with /)", path.detail());
    }

    @Test
    void reportsASyntaxErrorWithItsLine() throws IOException {
        ConfigProblem p = problemOf("proxy {\n  listeners = [ { address = \"127.0.0.1:1\" ]\n}\n");

        assertEquals(2, p.line());
        assertNull(p.key());
        assertTrue(p.getMessage().startsWith(dir.resolve("relay.conf") + ":2: "), p.getMessage());
    }

    @Test
    void reportsAMissingFile() {
        Path missing = dir.resolve("nope.conf");
        ConfigProblem p = assertThrows(ConfigProblem.class, () -> loader.load(missing));
        assertEquals(missing + ": cannot read the file: no such file", p.getMessage());
    }

    @Test
    void anUnsetOptionalSubstitutionKeepsTheValueBeforeIt() throws IOException {
        ProxyConfig config = loader.load(write("env.conf", CONTRACT.replace("{ address = \"127.0.0.1:6188\" }",
                "{ address = \"127.0.0.1:6188\", address = ${?RELAY_TEST_SURELY_UNSET_VARIABLE} }")));

        assertEquals("127.0.0.1:6188", config.listeners().get(0).address());
    }

    @Test
    void substitutesEnvironmentVariables() throws IOException {
        // PATH is set in every environment the build runs in; HOCON falls back to the environment.
        ProxyConfig config = loader.load(write("env.conf", CONTRACT.replace("tls = false",
                "tls = false, host-header = ${?PATH}")));

        assertEquals(System.getenv("PATH"), config.upstreams().get("web").hostHeader());
    }

    @Test
    void substitutesValuesFromElsewhereInTheFile() throws IOException {
        ProxyConfig config = loader.load(write("subst.conf", "origin = \"127.0.0.1:7001\"\n"
                + CONTRACT.replace("\"127.0.0.1:9001\", \"127.0.0.1:9002\"", "${origin}")));

        assertEquals(List.of(Backend.parse("127.0.0.1:7001")), config.upstreams().get("web").backends());
    }

    @Test
    void oneUpstreamWithoutRoutesTakesEverything() throws IOException {
        ProxyConfig config = loader.load(write("r.conf", CONTRACT.replace("routes = [ { upstream = web } ]", "")));

        assertEquals(List.of("web"), config.routes().stream().map(ProxyConfig.RouteConfig::upstream).toList());
    }

    @Test
    void severalUpstreamsNeedRoutes() throws IOException {
        ConfigProblem p = problemOf(CONTRACT.replace("routes = [ { upstream = web } ]",
                "upstreams.api.backends = [ \"127.0.0.1:1\" ]"));

        assertEquals("proxy.routes", p.key());
        assertTrue(p.detail().startsWith("missing (expected: routes = ["), p.detail());
    }

    @Test
    void withoutUpstreamsTheDemoBlockStartsDemoMode() throws IOException {
        ProxyConfig config = loader.load(write("demo.conf", """
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  demo.origins = 2
                }
                """));

        assertEquals(2, config.demoOrigins());
        assertTrue(config.upstreams().isEmpty());
        assertEquals(List.of("demo"), config.routes().stream().map(ProxyConfig.RouteConfig::upstream).toList());
    }

    @Test
    void upstreamsReplaceTheDemo() throws IOException {
        ProxyConfig config = loader.load(write("both.conf", CONTRACT + "proxy.demo.origins = 2\n"));

        assertEquals(0, config.demoOrigins());
    }

    @Test
    void withoutUpstreamsOrDemoTheUpstreamsAreMissing() throws IOException {
        ConfigProblem p = problemOf("proxy { listeners = [ \"127.0.0.1:0\" ] }\n");

        assertEquals("proxy.upstreams", p.key());
        assertTrue(p.detail().startsWith("missing"), p.detail());
    }

    @Test
    void theBundledDefaultIsDemoModeOnPort6188() {
        ProxyConfig config = loader.loadDefault();

        assertEquals(ConfigLoader.DEFAULT_RESOURCE, config.source());
        assertEquals(2, config.demoOrigins());
        assertEquals(List.of(System.getenv().getOrDefault("RELAY_LISTEN", "127.0.0.1:6188")),
                config.listeners().stream().map(ProxyConfig.ListenerConfig::address).toList());
        assertEquals(List.of("demo"), config.routes().stream().map(ProxyConfig.RouteConfig::upstream).toList());
    }

    @Test
    void locatesNestedFilterKeys() {
        com.typesafe.config.ConfigObject block = com.typesafe.config.ConfigFactory.parseString(
                "name = x\nrequest-set {\n  X-A = 1\n}\nlist = [\n a\n b\n]\n").root();

        assertEquals(3, FiltersReader.locate(block, "request-set.X-A").origin().lineNumber());
        assertEquals(7, FiltersReader.locate(block, "list[1]").origin().lineNumber());
        assertEquals(2, FiltersReader.locate(block, "request-set.X-B").origin().lineNumber());
    }

    @Test
    void validatesHostPatterns() {
        for (String ok : List.of("example.com", "*.example.com", "*", "a-b.c_d.example")) {
            assertTrue(RoutesReader.validHostPattern(ok), ok);
        }
        for (String bad : List.of("", "www.*", "*example.com", "example.com:80", "a..b", ".a", "a/b")) {
            assertFalse(RoutesReader.validHostPattern(bad), bad);
        }
    }

    @Test
    void parsesTheNewRouteMatchesAdminAndServerKeys() throws IOException {
        ProxyConfig config = loader.load(write("new.conf", """
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  admin.address = "127.0.0.1:6190"
                  server { access-log-format = json, shutdown-timeout = 2s, retry-backoff = 10ms,
                           max-idle-upstream-connections = 10, pid-file = "/run/relay.pid", upgrade-socket = none }
                  upstreams { web { backends = [ "127.0.0.1:9001" ], tls = true, alpn = h2-or-h1, tcp-keepalive = on,
                                    total-connect-timeout = 3s } }
                  routes = [
                    { name = users, match { host = "api.test", path-regex = "^/users/[0-9]+$", method = [ get, HEAD ],
                                            headers { X-Canary = "1" } }, upstream = web }
                    { match { path = "/exact" }, upstream = web }
                  ]
                }
                """));
        assertEquals("127.0.0.1:6190", config.admin().address());
        assertEquals(ProxyConfig.AccessLogFormat.JSON, config.server().accessLogFormat());
        assertEquals(Duration.ofSeconds(2), config.server().shutdownTimeout());
        assertEquals(Duration.ofMillis(10), config.server().retryBackoff());
        assertEquals(10, config.server().maxIdleUpstreamConnections());
        assertEquals("/run/relay.pid", config.server().pidFile());
        assertNull(config.server().upgradeSocket());
        UpstreamConfig web = config.upstreams().get("web");
        assertEquals(dev.relay.core.Alpn.H2_OR_H1, web.options().alpn());
        assertTrue(web.options().tcpKeepAlive());
        assertEquals(Duration.ofSeconds(3), web.options().totalConnectionTimeout());
        ProxyConfig.RouteConfig users = config.routes().get(0);
        assertEquals("users", users.name());
        assertEquals("^/users/[0-9]+$", users.pathRegex().pattern());
        assertEquals(List.of("GET", "HEAD"), users.methods());
        assertEquals(java.util.Map.of("x-canary", "1"), users.headers());
        assertEquals("route-1", config.routes().get(1).name());
        assertEquals("/exact", config.routes().get(1).path());
    }

    @Test
    void reportsErrorsOfTheNewKeysWithFileLineAndKey() throws IOException {
        String base = """
                proxy {
                  listeners = [ "127.0.0.1:8080" ]
                  upstreams { web { backends = [ "127.0.0.1:9001" ] } }
                  routes = [ { upstream = web, match { MATCH } } ]
                  ADMIN
                }
                """;
        assertProblem(base.replace("MATCH", "path-regex = \"([a-z\"").replace("ADMIN", ""), 4,
                "proxy.routes[0].match.path-regex", "bad regular expression '([a-z': Unclosed character class");
        assertProblem(base.replace("MATCH", "path = \"/a\", path-prefix = \"/b\"").replace("ADMIN", ""), 4,
                "proxy.routes[0].match.path", "set together with path-prefix");
        assertProblem(base.replace("MATCH", "method = \"GE T\"").replace("ADMIN", ""), 4,
                "proxy.routes[0].match.method", "bad method 'GE T'");
        assertProblem(base.replace("MATCH", "path = a").replace("ADMIN", ""), 4,
                "proxy.routes[0].match.path", "'a' (expected: a path starting with /)");
        assertProblem(base.replace("MATCH", "path = \"/\"").replace("ADMIN", "admin.address = \"127.0.0.1:8080\""), 5,
                "proxy.admin.address", "'127.0.0.1:8080' is also a proxy listener");
        assertProblem(base.replace("MATCH", "path = \"/\"").replace("ADMIN", "server.access-log-format = xml"), 5,
                "proxy.server.access-log-format", "unknown value 'xml' (expected: combined or json)");
        assertProblem(base.replace("MATCH", "path = \"/\"").replace("ADMIN", "upstreams.web.alpn = h2-or-h1"), 5,
                "proxy.upstreams.web.alpn", "'h2-or-h1' needs tls = true");
    }

    @Test
    void readsTheAccessLogPathAndRefusesAFileThatCannotBeMade() throws IOException {
        String base = """
                proxy {
                  listeners = [ "127.0.0.1:8080" ]
                  upstreams { web { backends = [ "127.0.0.1:9001" ] } }
                  server { PATH }
                }
                """;
        assertEquals(ProxyConfig.AccessLogDestination.STDOUT, loader.load(write("a.conf", base.replace("PATH", ""))).server().accessLogDestination());
        assertEquals(ProxyConfig.AccessLogDestination.LOGGER,
                loader.load(write("a.conf", base.replace("PATH", "access-log-path = logger"))).server().accessLogDestination());
        // A relative path is relative to the configuration file, as an include is.
        Files.createDirectories(dir.resolve("logs"));
        assertEquals(ProxyConfig.AccessLogDestination.file(dir.resolve("logs/access.log").toAbsolutePath()),
                loader.load(write("a.conf", base.replace("PATH", "access-log-path = logs/access.log"))).server().accessLogDestination());

        assertProblem(base.replace("PATH", "access-log-path = \"missing/access.log\""), 4, "proxy.server.access-log-path",
                "no directory '" + dir.resolve("missing").toAbsolutePath() + "'");
        assertProblem(base.replace("PATH", "access-log-path = logs"), 4, "proxy.server.access-log-path",
                "'" + dir.resolve("logs").toAbsolutePath() + "' is a directory (expected: stdout, logger or a file path)");
    }

    private void assertProblem(String conf, int line, String key, String detailStart) throws IOException {
        ConfigProblem p = assertThrows(ConfigProblem.class, () -> loader.load(write("bad.conf", conf)));
        assertEquals(key, p.key(), p.getMessage());
        assertEquals(line, p.line(), p.getMessage());
        assertTrue(p.detail().startsWith(detailStart), p.getMessage());
        assertTrue(p.getMessage().startsWith(p.file() + ":" + line + ": key '" + key + "': "), p.getMessage());
    }

    @Test
    void theShippedExampleConfigurationIsValid() {
        ProxyConfig config = loader.load(Path.of("src/dist/relay.conf"));
        assertEquals(8, config.routes().size());
        assertEquals(ProxyConfig.Selection.KETAMA, config.upstreams().get("sessions").selection());
        assertTrue(config.upstreams().get("batch").discovery() instanceof DiscoveryConfig.File);
        assertTrue(config.upstreams().get("search").discovery() instanceof DiscoveryConfig.Dns);
        assertEquals(HealthCheckConfig.Type.HTTP, config.upstreams().get("web").healthCheck().type());
        assertEquals(3, config.upstreams().get("web").outlierDetection().consecutiveFailures());
        assertNull(config.upstreams().get("batch").outlierDetection());
        assertEquals(java.time.Duration.ofSeconds(10), config.listeners().get(0).headerReadTimeout());
        assertEquals("127.0.0.1:6190", config.admin().address());
    }
}
