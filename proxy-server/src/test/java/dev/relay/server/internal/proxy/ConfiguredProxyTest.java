package dev.relay.server.internal.proxy;

import com.google.inject.Injector;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.internal.FilterRegistry;
import dev.relay.server.internal.ServerAssembly;
import dev.relay.server.internal.config.ConfigLoader;
import dev.relay.server.internal.config.ProxyConfig;
import dev.relay.server.testing.Origins;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.RawHttpConnection.Response;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The configured proxy end to end, in process: Guice assembly, real sockets on loopback. */
@Timeout(60)
class ConfiguredProxyTest {
    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private final FilterRegistry registry = FilterRegistry.load(getClass().getClassLoader());
    private InetSocketAddress proxy;

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    private TestOrigin origin(String name) throws IOException {
        TestOrigin origin = Origins.start(name);
        cleanup.add(origin);
        return origin;
    }

    /** The Host header of every request {@code origin} received, in order. */
    private static List<String> hosts(TestOrigin origin) {
        return origin.requests().stream().map(r -> r.header("Host")).toList();
    }

    private void start(String conf) {
        ProxyConfig config = new ConfigLoader(registry).parseString(conf, "test.conf");
        Injector injector = ServerAssembly.injector(config, registry);
        Server server = injector.getInstance(Server.class);
        server.start();
        cleanup.add(server::close);
        proxy = injector.getInstance(HttpProxyService.class).boundAddresses().get(0);
    }

    private Response get(String host, String path) throws IOException {
        return RawHttpConnection.get(proxy, host, path);
    }

    @Test
    void roundRobinAlternatesBetweenBackends() throws IOException {
        TestOrigin a = origin("a");
        TestOrigin b = origin("b");
        start("""
                proxy {
                  listeners = [ { address = "127.0.0.1:0" } ]
                  upstreams { web { backends = [ "%s", "%s" ], selection = round-robin, tls = false } }
                  routes = [ { upstream = web } ]
                }
                """.formatted(a.address(), b.address()));

        List<String> served = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Response r = get("site.test", "/");
            assertEquals(200, r.status());
            served.add(r.header("X-Origin"));
        }
        assertNotEquals(served.get(0), served.get(1));
        assertEquals(served.get(0), served.get(2));
        assertEquals(served.get(1), served.get(3));
    }

    @Test
    void randomSelectionServesFromTheGroup() throws IOException {
        TestOrigin a = origin("a");
        start("""
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  upstreams { web { backends = [ "%s" ], selection = random } }
                }
                """.formatted(a.address()));

        assertEquals("a /x", get("site.test", "/x").bodyText());
    }

    @Test
    void retriesOnAnotherBackendWhenConnectIsRefused() throws IOException {
        TestOrigin live = origin("live");
        int dead = TestOrigin.closedPort();
        start("""
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  upstreams { web { backends = [ "127.0.0.1:%d", "%s" ] } }
                }
                """.formatted(dead, live.address()));

        for (int i = 0; i < 4; i++) {
            Response r = get("site.test", "/" + i);
            assertEquals(200, r.status(), "request " + i);
            assertEquals("live /" + i, r.bodyText());
        }
    }

    @Test
    void answers502WhenEveryBackendRefuses() throws IOException {
        start("""
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  upstreams { web { backends = [ "127.0.0.1:%d", "127.0.0.1:%d" ] } }
                }
                """.formatted(TestOrigin.closedPort(), TestOrigin.closedPort()));

        assertEquals(502, get("site.test", "/").status());
    }

    @Test
    void answers404WhenNoRouteMatches() throws IOException {
        TestOrigin a = origin("a");
        start("""
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  upstreams { web { backends = [ "%s" ] } }
                  routes = [ { match { host = "known.test" }, upstream = web } ]
                }
                """.formatted(a.address()));

        assertEquals(404, get("unknown.test", "/").status());
        assertEquals(200, get("known.test", "/").status());
        assertEquals(List.of("known.test"), hosts(a));
    }

    @Test
    void routesByHostAndPathPrefixInFileOrder() throws IOException {
        TestOrigin api = origin("api");
        TestOrigin web = origin("web");
        start("""
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  upstreams {
                    api { backends = [ "%s" ] }
                    web { backends = [ "%s" ] }
                  }
                  routes = [
                    { match { host = "*.example.test", path-prefix = "/api" }, upstream = api }
                    { match { host = [ "example.test", "*.example.test" ] }, upstream = web }
                  ]
                }
                """.formatted(api.address(), web.address()));

        assertEquals("api /api/v1", get("www.example.test", "/api/v1").bodyText());
        assertEquals("web /apiary", get("www.example.test", "/apiary").bodyText());
        assertEquals("web /api", get("example.test", "/api").bodyText());
        assertEquals(404, get("example.other", "/api").status());
    }

    @Test
    void keepsTheClientsHostUnlessTheGroupSetsHostHeader() throws IOException {
        TestOrigin plain = origin("plain");
        TestOrigin rewritten = origin("rewritten");
        start("""
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  upstreams {
                    plain { backends = [ "%s" ] }
                    rewritten { backends = [ "%s" ], host-header = "origin.internal" }
                  }
                  routes = [
                    { match.path-prefix = "/r", upstream = rewritten }
                    { upstream = plain }
                  ]
                }
                """.formatted(plain.address(), rewritten.address()));

        assertEquals(200, get("client.test:8080", "/").status());
        assertEquals(200, get("client.test", "/r").status());
        assertEquals(List.of("client.test:8080"), hosts(plain));
        assertEquals(List.of("origin.internal"), hosts(rewritten));
    }

    @Test
    void runsRouteFiltersOnlyOnTheirRouteAndGlobalFiltersEverywhere() throws IOException {
        TestOrigin a = origin("a");
        start("""
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  upstreams { web { backends = [ "%s" ] } }
                  filters = [ { name = test-add-header, header = X-Global, value = g } ]
                  routes = [
                    { match { host = "known.test", path-prefix = "/f" }, upstream = web,
                      filters = [ { name = test-add-header, header = X-Route, value = f } ] }
                    { match.host = "known.test", upstream = web }
                  ]
                }
                """.formatted(a.address()));

        Response filtered = get("known.test", "/f");
        assertEquals(200, filtered.status());
        assertEquals("f", filtered.header("X-Route"));
        assertEquals("g", filtered.header("X-Global"));

        Response plain = get("known.test", "/");
        assertEquals(200, plain.status());
        assertNull(plain.header("X-Route"));
        assertEquals("g", plain.header("X-Global"));
    }

    @Test
    void aRouteFilterMaySendTheTrailersAsBodyBytes() throws IOException {
        TestOrigin a = origin("a");
        start("""
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  upstreams { web { backends = [ "%s" ] } }
                  filters = [ { name = test-add-header, header = X-Global, value = g } ]
                  routes = [ { upstream = web, filters = [ { name = test-trailers-as-body } ] } ]
                }
                """.formatted(a.address()));

        // The origin's /trailers: "hello" chunked, then the trailer field X-Checksum.
        Response response = get("known.test", "/trailers");
        assertEquals(200, response.status());
        assertEquals("g", response.header("X-Global"));
        assertEquals("hello|X-Checksum=5d41402a", response.bodyText());
    }

    @Test
    void globalFiltersSeeResponsesTheProxyWritesItself() throws IOException {
        TestOrigin a = origin("a");
        start("""
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  upstreams { web { backends = [ "%s" ] } }
                  filters = [ { name = test-add-header, header = X-Global, value = g } ]
                  routes = [ { match.host = "known.test", upstream = web } ]
                }
                """.formatted(a.address()));

        Response notFound = get("unknown.test", "/");
        assertEquals(404, notFound.status());
        assertEquals("g", notFound.header("X-Global"));
    }

    @Test
    void demoModeAlternatesBetweenTheDemoOrigins() throws IOException {
        start("""
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  demo.origins = 2
                }
                """);

        Response first = get("localhost", "/");
        Response second = get("localhost", "/");
        assertEquals(200, first.status());
        assertEquals("Hello from demo origin 1\n", first.bodyText());
        assertEquals("1", first.header("X-Demo-Origin"));
        assertEquals("text/plain; charset=utf-8", first.header("Content-Type"));
        assertEquals("Hello from demo origin 2\n", second.bodyText());
        assertEquals("2", second.header("X-Demo-Origin"));
    }
}
