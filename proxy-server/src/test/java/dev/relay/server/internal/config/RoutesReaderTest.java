package dev.relay.server.internal.config;

import dev.relay.server.internal.FilterRegistry;
import dev.relay.server.internal.config.ProxyConfig.RouteConfig;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static dev.relay.server.internal.config.SectionReaderTesting.problem;
import static dev.relay.server.internal.config.SectionReaderTesting.proxy;
import static org.junit.jupiter.api.Assertions.assertEquals;

class RoutesReaderTest {
    private final RoutesReader reader =
            new RoutesReader(new FiltersReader(FilterRegistry.load(getClass().getClassLoader())));

    @Test
    void aMatchTakesOneOrSeveralValues() {
        List<RouteConfig> routes = reader.routes(proxy(
                "proxy.routes = [ { upstream = a, match { method = get, host = [ \"A.example\", \"*.b.example\" ] } } ]")
                .get("routes"), Set.of("a"));

        assertEquals(List.of("GET"), routes.get(0).methods());
        assertEquals(List.of("a.example", "*.b.example"), routes.get(0).hosts());
        assertEquals("route-0", routes.get(0).name());
    }

    @Test
    void onlyOnePathMatch() {
        assertEquals("relay.conf:1: key 'proxy.routes[0].match.path': set together with path-prefix "
                        + "(expected: one of path, path-prefix, path-regex)",
                problem(() -> reader.routes(proxy("proxy.routes = [ { upstream = a, match { path-prefix = \"/a\", "
                        + "path = \"/b\" } } ]").get("routes"), Set.of("a"))));
    }
}
