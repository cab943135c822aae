package dev.relay.filters.access;

import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.ResponseHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(10)
class CorsFilterTest {
    private final CorsFilterProvider provider = new CorsFilterProvider();

    private static Map<String, Object> ordered(Object... keysAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }

    private HttpModuleFactory create(Object... keysAndValues) {
        return provider.create(FilterSettings.of(ordered(keysAndValues)));
    }

    private InvalidSettingException invalid(Object... keysAndValues) {
        return assertThrows(InvalidSettingException.class, () -> create(keysAndValues));
    }

    private static Exchange preflight(String origin, String method, String headers) {
        Exchange exchange = Exchange.of("OPTIONS", "/api/items").header("Origin", origin).header("Access-Control-Request-Method", method);
        return headers == null ? exchange : exchange.header("Access-Control-Request-Headers", headers);
    }

    /** The request hook, then the response hook on {@code upstream} as the origin sent it. */
    private static ResponseHeader actual(HttpModuleFactory cors, Exchange exchange, ResponseHeader upstream) {
        HttpModule module = exchange.run(cors);
        assertNull(exchange.response(), "an actual request goes on to the origin");
        module.responseHeaderFilter(exchange.session, upstream, false);
        return upstream;
    }

    @Test
    void anAllowedPreflightIsAnsweredAtTheProxy() {
        HttpModuleFactory cors = create("allow-origins", List.of("https://app.example"), "allow-methods", List.of("GET", "PUT"),
                "allow-headers", List.of("Content-Type", "X-Request-Id"), "allow-credentials", true, "max-age", "10m");

        Exchange preflight = preflight("https://app.example", "PUT", "content-type, x-request-id");
        HttpModule module = preflight.run(cors);
        ResponseHeader answer = preflight.response();
        assertEquals(204, answer.status());
        assertEquals("https://app.example", answer.headers().get("Access-Control-Allow-Origin"));
        assertEquals("true", answer.headers().get("Access-Control-Allow-Credentials"));
        assertEquals("GET, PUT", answer.headers().get("Access-Control-Allow-Methods"));
        assertEquals("Content-Type, X-Request-Id", answer.headers().get("Access-Control-Allow-Headers"));
        assertEquals("600", answer.headers().get("Access-Control-Max-Age"));
        assertTrue(answer.headers().get("Vary").startsWith("Origin"), answer.headers().get("Vary"));

        // The engine runs the response hooks on the filter's own answer too: nothing is added twice.
        module.responseHeaderFilter(preflight.session, answer, true);
        assertEquals(1, answer.headers().getAll("Access-Control-Allow-Origin").size());
        assertEquals(CorsFilter.ORDER, cors.order());
    }

    @Test
    void aPreflightForAnOriginMethodOrHeaderNotAllowedGets403SayingWhich() {
        HttpModuleFactory cors = create("allow-origins", List.of("https://app.example"), "allow-headers", List.of("Content-Type"));

        Exchange origin = preflight("https://evil.example", "GET", null);
        origin.run(cors);
        assertEquals(403, origin.status());
        assertTrue(origin.body().contains("the origin is not allowed"), origin.body());
        assertNull(origin.response().headers().get("Access-Control-Allow-Origin"));

        Exchange method = preflight("https://app.example", "DELETE", null);
        method.run(cors);
        assertEquals(403, method.status());
        assertTrue(method.body().contains("the method DELETE is not allowed"), method.body());

        Exchange header = preflight("https://app.example", "POST", "Content-Type, X-Secret");
        header.run(cors);
        assertEquals(403, header.status());
        assertTrue(header.body().contains("the header X-Secret is not allowed"), header.body());
    }

    @Test
    void anyHeaderEchoesWhatThePreflightAsksFor() {
        HttpModuleFactory cors = create("allow-origins", "*", "allow-headers", "*");
        Exchange preflight = preflight("https://anyone.example", "POST", "X-One, x-two");
        preflight.run(cors);
        assertEquals(204, preflight.status());
        assertEquals("*", preflight.response().headers().get("Access-Control-Allow-Origin"));
        assertEquals("X-One, x-two", preflight.response().headers().get("Access-Control-Allow-Headers"));
    }

    @Test
    void anAllowedActualRequestGetsTheFieldsAndTheOriginsOwnAreReplaced() {
        HttpModuleFactory cors = create("allow-origins", List.of("https://app.example"), "expose-headers", List.of("X-Request-Id"),
                "allow-credentials", true);
        ResponseHeader upstream = ResponseHeader.of(200);
        upstream.headers().set("Access-Control-Allow-Origin", "*").set("Vary", "Accept-Encoding");

        ResponseHeader response = actual(cors, Exchange.of("GET", "/api").header("Origin", "https://app.example"), upstream);

        assertEquals(List.of("https://app.example"), response.headers().getAll("Access-Control-Allow-Origin"));
        assertEquals("true", response.headers().get("Access-Control-Allow-Credentials"));
        assertEquals("X-Request-Id", response.headers().get("Access-Control-Expose-Headers"));
        assertEquals(List.of("Accept-Encoding", "Origin"), response.headers().getAll("Vary"));
    }

    @Test
    void aRequestFromAnotherOriginGetsNoCorsFieldsEvenFromTheOrigin() {
        HttpModuleFactory cors = create("allow-origins", List.of("https://app.example"));
        ResponseHeader upstream = ResponseHeader.of(200);
        upstream.headers().set("Access-Control-Allow-Origin", "*").set("Access-Control-Allow-Credentials", "true");

        ResponseHeader response = actual(cors, Exchange.of("GET", "/").header("Origin", "https://evil.example"), upstream);

        assertFalse(response.headers().contains("Access-Control-Allow-Origin"));
        assertFalse(response.headers().contains("Access-Control-Allow-Credentials"));
        assertEquals("Origin", response.headers().get("Vary"));

        ResponseHeader sameOrigin = actual(cors, Exchange.of("GET", "/"), ResponseHeader.of(200));
        assertEquals("Origin", sameOrigin.headers().get("Vary"), "a cache must not give this answer to a cross-origin request");
        ResponseHeader varyAll = ResponseHeader.of(200);
        varyAll.headers().set("Vary", "*");
        assertEquals(List.of("*"), actual(cors, Exchange.of("GET", "/"), varyAll).headers().getAll("Vary"));
    }

    @Test
    void everyOriginWithoutCredentialsIsAStarWithoutVary() {
        HttpModuleFactory cors = create("allow-origins", "*");
        ResponseHeader response = actual(cors, Exchange.of("GET", "/").header("Origin", "https://a.example"), ResponseHeader.of(200));
        assertEquals("*", response.headers().get("Access-Control-Allow-Origin"));
        assertNull(response.headers().get("Vary"));
    }

    @Test
    void subdomainPatternsMatchSubdomainsOnly() {
        CorsFilter cors = (CorsFilter) create("allow-origins", List.of("https://*.example.com", "http://localhost:3000"));
        assertTrue(cors.allowsOrigin("https://a.example.com"));
        assertTrue(cors.allowsOrigin("https://a.b.example.com"));
        assertTrue(cors.allowsOrigin("HTTPS://A.Example.COM"));
        assertFalse(cors.allowsOrigin("https://example.com"));
        assertFalse(cors.allowsOrigin("http://a.example.com"), "the scheme must match");
        assertFalse(cors.allowsOrigin("https://a.example.com:8443"), "the port must match");
        assertFalse(cors.allowsOrigin("https://evilexample.com"));
        assertFalse(cors.allowsOrigin("https://evil.com/.example.com"));
        assertFalse(cors.allowsOrigin("https://a.example.com.evil.net"));
        assertTrue(cors.allowsOrigin("http://localhost:3000"));
        assertFalse(cors.allowsOrigin("http://localhost:3001"));
        assertFalse(cors.allowsOrigin("null"));
    }

    @Test
    void badSettingsAreRefusedNamingTheKey() {
        InvalidSettingException star = invalid("allow-origins", "*", "allow-credentials", true);
        assertEquals("allow-credentials", star.key());
        assertTrue(star.getMessage().contains("browsers refuse credentials with a wildcard origin"), star.getMessage());
        assertEquals("allow-origins", invalid().key());
        assertEquals("allow-origins", invalid("allow-origins", "null").key());
        InvalidSettingException path = invalid("allow-origins", List.of("https://app.example", "https://app.example/path"));
        assertEquals("allow-origins[1]", path.key());
        assertTrue(path.getMessage().startsWith("allow-origins[1]: 'https://app.example/path' (expected: scheme://host[:port]"), path.getMessage());
        assertEquals("allow-origins[0]", invalid("allow-origins", List.of("https://*.com", "https://a.example")).key());
        assertEquals("allow-origins", invalid("allow-origins", List.of("*", "https://a.example")).key());
        assertEquals("allow-methods", invalid("allow-origins", "*", "allow-methods", List.of("GET", "PO ST")).key());
        assertEquals("max-age", invalid("allow-origins", "*", "max-age", "soon").key());
        assertEquals("allow-origin", invalid("allow-origin", "*").key());
    }
}
