package dev.relay.server.internal.proxy;

import dev.relay.core.Backend;
import dev.relay.core.PeerOptions;
import dev.relay.core.RequestHeader;
import dev.relay.server.internal.config.ProxyConfig.Selection;
import dev.relay.server.internal.config.ProxyConfig.UpstreamConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

@Timeout(10)
class RouterTest {
    private static UpstreamGroup group(String name) {
        return UpstreamGroup.of(new UpstreamConfig(name, List.of(Backend.parse("127.0.0.1:1")), Selection.ROUND_ROBIN,
                false, null, true, null, PeerOptions.defaults()));
    }

    private static final UpstreamGroup API = group("api");
    private static final UpstreamGroup WWW = group("www");
    private static final UpstreamGroup WILD = group("wild");
    private static final UpstreamGroup REST = group("rest");

    private final Router router = new Router(List.of(
            new Route(0, List.of("example.com"), "/api", API, List.of()),
            new Route(1, List.of("example.com", "www.example.com"), null, WWW, List.of()),
            new Route(2, List.of("*.example.org"), null, WILD, List.of()),
            new Route(3, List.of(), "/static/", REST, List.of())));

    private static RequestHeader request(String host, String uri) {
        RequestHeader header = RequestHeader.of("GET", uri);
        if (host != null) {
            header.headers().set("Host", host);
        }
        return header;
    }

    private String upstreamOf(String host, String uri) {
        Route route = router.match(request(host, uri));
        return route == null ? null : route.upstream().name();
    }

    @Test
    void theLongestPathPrefixOfAnExactHostWinsOverNoPath() {
        assertEquals("api", upstreamOf("example.com", "/api/users"));
        assertEquals("www", upstreamOf("example.com", "/"));
    }

    @Test
    void pathPrefixMatchesWholeSegmentsOnly() {
        assertEquals("api", upstreamOf("example.com", "/api"));
        assertEquals("api", upstreamOf("example.com", "/api?x=1"));
        assertEquals("api", upstreamOf("example.com", "/api/"));
        assertEquals("www", upstreamOf("example.com", "/apix"));
    }

    @Test
    void aPrefixEndingInSlashIsAPlainPrefix() {
        assertEquals("rest", upstreamOf("other.net", "/static/app.js"));
        assertNull(upstreamOf("other.net", "/static"));
    }

    @Test
    void hostMatchingIgnoresCasePortAndTrailingDot() {
        assertEquals("www", upstreamOf("WWW.Example.COM:8080", "/"));
        assertEquals("www", upstreamOf("example.com.", "/"));
    }

    @Test
    void wildcardMatchesSubdomainsButNotTheDomainItself() {
        assertEquals("wild", upstreamOf("a.example.org", "/"));
        assertEquals("wild", upstreamOf("a.b.example.org", "/"));
        assertNull(upstreamOf("example.org", "/"));
        assertNull(upstreamOf("badexample.org", "/"));
    }

    @Test
    void noMatchingRouteGivesNull() {
        assertNull(upstreamOf("nowhere.test", "/"));
        assertNull(upstreamOf(null, "/"));
    }

    @Test
    void aRouteWithoutMatchTakesEverything() {
        Router catchAll = new Router(List.of(new Route(0, List.of(), null, REST, List.of())));
        assertEquals(REST, catchAll.match(request(null, "/anything")).upstream());
        assertEquals(REST, catchAll.match(request("any.host", "/")).upstream());
    }

    @Test
    void anAbsoluteFormTargetGivesHostAndPath() {
        assertEquals("api", upstreamOf(null, "http://example.com:80/api/x?q"));
        assertEquals("/a/b", Router.pathOf("https://h/a/b?c"));
        assertEquals("/", Router.pathOf("http://h"));
        assertEquals("/p", Router.pathOf("/p?q=http://x/y"));
    }

    @Test
    void ipv6HostsKeepTheirBrackets() {
        assertEquals("[::1]", Router.hostOf(request("[::1]:8080", "/")));
    }
}
