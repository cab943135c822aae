package dev.relay.server.internal.proxy;

import dev.relay.core.Backend;
import dev.relay.core.PeerOptions;
import dev.relay.core.RequestHeader;
import dev.relay.server.internal.config.ProxyConfig.Selection;
import dev.relay.server.internal.config.ProxyConfig.UpstreamConfig;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The documented route priority: host (exact, longer wildcard, any), then path (exact, regex, longest prefix, any), then conditions, then file order. */
class RoutePriorityTest {
    private static final UpstreamGroup G = UpstreamGroup.of(new UpstreamConfig("g", List.of(Backend.parse("127.0.0.1:1")),
            Selection.ROUND_ROBIN, false, null, false, null, PeerOptions.defaults()));

    private static Route route(int index, String name, List<String> hosts, String prefix, String exact, String regex,
                               List<String> methods, Map<String, String> headers) {
        return new Route(index, name, hosts, prefix, exact, regex == null ? null : Pattern.compile(regex), methods, headers,
                G, List.of());
    }

    // Listed on purpose from least to most specific: file order must not decide.
    private final Router router = new Router(List.of(
            route(0, "any", List.of(), null, null, null, List.of(), Map.of()),
            route(1, "any-prefix-short", List.of(), "/a", null, null, List.of(), Map.of()),
            route(2, "any-prefix-long", List.of(), "/a/b", null, null, List.of(), Map.of()),
            route(3, "any-regex", List.of(), null, null, "^/a/b/[0-9]+$", List.of(), Map.of()),
            route(4, "any-exact", List.of(), null, "/a/b/1", null, List.of(), Map.of()),
            route(5, "wild-short", List.of("*.example.com"), null, null, null, List.of(), Map.of()),
            route(6, "wild-long", List.of("*.eu.example.com"), null, null, null, List.of(), Map.of()),
            route(7, "exact-host", List.of("api.eu.example.com"), "/v1", null, null, List.of(), Map.of()),
            route(8, "exact-host-post", List.of("api.eu.example.com"), "/v1", null, null, List.of("POST"), Map.of()),
            route(9, "exact-host-canary", List.of("api.eu.example.com"), "/v1", null, null, List.of(),
                    Map.of("x-canary", "1")),
            route(10, "any-prefix-short-too", List.of(), "/a", null, null, List.of(), Map.of())));

    private String match(String method, String host, String uri, String... headers) {
        RequestHeader h = RequestHeader.of(method, uri);
        if (host != null) {
            h.headers().set("Host", host);
        }
        for (int i = 0; i < headers.length; i += 2) {
            h.headers().set(headers[i], headers[i + 1]);
        }
        Route r = router.match(h);
        return r == null ? null : r.name();
    }

    @Test
    void anExactPathBeatsARegexWhichBeatsTheLongestPrefix() {
        assertEquals("any-exact", match("GET", "x.test", "/a/b/1"));
        assertEquals("any-regex", match("GET", "x.test", "/a/b/22?q"));
        assertEquals("any-prefix-long", match("GET", "x.test", "/a/b/c"));
        assertEquals("any-prefix-short", match("GET", "x.test", "/a/c"));
        assertEquals("any", match("GET", "x.test", "/other"));
    }

    @Test
    void anExactHostBeatsALongerWildcardWhichBeatsAShorterOneWhichBeatsAnyHost() {
        assertEquals("exact-host", match("GET", "api.eu.example.com", "/v1/users"));
        assertEquals("wild-long", match("GET", "www.eu.example.com", "/a/b/1"));
        assertEquals("wild-short", match("GET", "www.example.com", "/a/b/1"));
        assertEquals("any-exact", match("GET", "example.com", "/a/b/1"));
    }

    @Test
    void aHostMatchWhosePathDoesNotMatchFallsThroughToTheNextRank() {
        assertEquals("wild-long", match("GET", "api.eu.example.com", "/v2"));
    }

    @Test
    void moreMethodAndHeaderConditionsWinThenFileOrder() {
        assertEquals("exact-host-post", match("POST", "api.eu.example.com", "/v1"));
        assertEquals("exact-host-canary", match("GET", "api.eu.example.com", "/v1", "X-Canary", "1"));
        assertEquals("exact-host", match("GET", "api.eu.example.com", "/v1", "X-Canary", "2"));
        // Two equal prefix routes: the first in the file.
        assertEquals("any-prefix-short", match("GET", null, "/a"));
    }

    @Test
    void aWildcardHeaderValueOnlyRequiresPresence() {
        Router r = new Router(List.of(route(0, "debug", List.of(), null, null, null, List.of(), Map.of("x-debug", "*"))));
        assertEquals("debug", r.match(withHeader("X-Debug", "anything")).name());
        assertNull(r.match(RequestHeader.of("GET", "/")));
    }

    private static RequestHeader withHeader(String name, String value) {
        RequestHeader h = RequestHeader.of("GET", "/");
        h.headers().set(name, value);
        return h;
    }
}
