package dev.relay.filters;

import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class HeadersFilterProviderTest {
    private final HeadersFilterProvider provider = new HeadersFilterProvider();
    private RequestHeader request;
    private Session session;

    @BeforeEach
    void setUp() {
        request = RequestHeader.of("GET", "/index.html");
        session = mock(Session.class);
        when(session.requestHeader()).thenReturn(request);
    }

    private HttpModule module(Map<String, ?> settings) {
        return provider.create(FilterSettings.of(settings)).newModule();
    }

    private static Map<String, Object> ordered(Object... keysAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }

    private InvalidSettingException invalid(Map<String, ?> settings) {
        return assertThrows(InvalidSettingException.class, () -> provider.create(FilterSettings.of(settings)));
    }

    @Test
    void isFoundByServiceLoaderUnderItsName() {
        List<String> names = ServiceLoader.load(FilterProvider.class).stream()
                .map(p -> p.get().name()).toList();
        assertTrue(names.contains("headers"), names.toString());
        HttpModuleFactory factory = provider.create(FilterSettings.of(Map.of()));
        assertEquals("headers", factory.name());
    }

    @Test
    void setsAddsAndRemovesRequestFields() {
        request.headers().add("Cookie2", "x").add("Via", "1.1 edge").add("x-forwarded-proto", "http");
        HttpModule module = module(ordered(
                "request-set", Map.of("X-Forwarded-Proto", "https"),
                "request-add", Map.of("Via", "1.1 relay"),
                "request-remove", List.of("cookie2")));

        assertTrue(module.requestHeaderFilter(session).toCompletableFuture().isDone());

        assertFalse(request.headers().contains("Cookie2"));
        assertEquals(List.of("https"), request.headers().getAll("X-Forwarded-Proto"));
        assertEquals(List.of("1.1 edge", "1.1 relay"), request.headers().getAll("Via"));
    }

    @Test
    void setsAddsAndRemovesResponseFields() {
        ResponseHeader response = ResponseHeader.of(200);
        response.headers().add("Server", "origin/1.0").add("X-Powered-By", "php").add("Cache-Control", "no-store");
        HttpModule module = module(ordered(
                "response-set", Map.of("Cache-Control", "max-age=60", "Strict-Transport-Security", "max-age=63072000"),
                "response-add", Map.of("Cache-Status", "relay; hit"),
                "response-remove", List.of("Server", "X-Powered-By")));

        module.responseHeaderFilter(session, response, false);

        assertNull(response.headers().get("Server"));
        assertNull(response.headers().get("X-Powered-By"));
        assertEquals(List.of("max-age=60"), response.headers().getAll("cache-control"));
        assertEquals("max-age=63072000", response.headers().get("Strict-Transport-Security"));
        assertEquals("relay; hit", response.headers().get("Cache-Status"));
    }

    @Test
    void writesNamesAsConfigured() {
        HttpModule module = module(Map.of("request-set", Map.of("X-Request-ID", "abc")));
        module.requestHeaderFilter(session);

        List<String> names = new java.util.ArrayList<>();
        request.headers().forEach((name, value) -> names.add(name));
        assertEquals(List.of("X-Request-ID"), names);
    }

    @Test
    void requestRulesDoNotTouchTheResponseAndViceVersa() {
        ResponseHeader response = ResponseHeader.of(404);
        response.headers().add("X-Side", "response");
        request.headers().add("X-Side", "request");
        HttpModule module = module(ordered("request-remove", List.of("X-Side"), "response-set", Map.of("X-Other", "1")));

        module.requestHeaderFilter(session);
        module.responseHeaderFilter(session, response, true);

        assertFalse(request.headers().contains("X-Side"));
        assertFalse(request.headers().contains("X-Other"));
        assertEquals("response", response.headers().get("X-Side"));
    }

    @Test
    void numericValuesAreText() {
        HttpModule module = module(Map.of("response-set", Map.of("X-Shard", 7)));
        ResponseHeader response = ResponseHeader.of(200);
        module.responseHeaderFilter(session, response, false);
        assertEquals("7", response.headers().get("X-Shard"));
    }

    @Test
    void modulesAreSharedBecauseTheyAreStateless() {
        HttpModuleFactory factory = provider.create(FilterSettings.of(Map.of("request-set", Map.of("A", "b"))));
        assertSame(factory.newModule(), factory.newModule());
    }

    @Test
    void rejectsAnUnknownKeyListingTheAllowedOnes() {
        InvalidSettingException e = invalid(Map.of("request-sett", Map.of("A", "b")));
        assertEquals("request-sett", e.key());
        assertTrue(e.getMessage().contains("request-set, request-add, request-remove, response-set, response-add, response-remove"),
                e.getMessage());
    }

    @Test
    void rejectsABlockWhereAListIsExpectedAndTheReverse() {
        assertEquals("request-remove", invalid(Map.of("request-remove", Map.of("A", "b"))).key());
        assertEquals("response-set", invalid(Map.of("response-set", List.of("A"))).key());
    }

    @Test
    void rejectsANonTextValueNamingItsPath() {
        InvalidSettingException e = invalid(Map.of("response-add", Map.of("X-List", List.of("a", "b"))));
        assertEquals("response-add.X-List", e.key());
    }

    @Test
    void rejectsAValueThatCouldSplitTheHeader() {
        InvalidSettingException e = invalid(Map.of("response-set", Map.of("X-Evil", "a\r\nSet-Cookie: session=stolen")));
        assertEquals("response-set.X-Evil", e.key());
        assertTrue(e.getMessage().contains("U+000D"), e.getMessage());
        assertEquals("request-add.X-Name", invalid(Map.of("request-add", Map.of("X-Name", "caf\u00e9"))).key());
        assertEquals("request-set.X-Pad", invalid(Map.of("request-set", Map.of("X-Pad", " padded "))).key());
    }

    @Test
    void rejectsANameThatIsNotAToken() {
        assertEquals("request-set.Bad Name", invalid(Map.of("request-set", Map.of("Bad Name", "x"))).key());
        assertEquals("response-remove[1]", invalid(Map.of("response-remove", List.of("Server", "X:Y"))).key());
        assertEquals("request-remove[0]", invalid(Map.of("request-remove", List.of(""))).key());
    }

    @Test
    void rejectsRulesOnMessageFraming() {
        InvalidSettingException e = invalid(Map.of("response-set", Map.of("Content-Length", "0")));
        assertEquals("response-set.Content-Length", e.key());
        assertEquals("request-remove[0]", invalid(Map.of("request-remove", List.of("transfer-encoding"))).key());
    }

    @Test
    void rejectsAFieldBothRemovedAndWrittenOnTheSameSide() {
        InvalidSettingException e = invalid(ordered("response-set", Map.of("Server", "relay"), "response-remove", List.of("server")));
        assertEquals("response-remove", e.key());
        assertTrue(e.getMessage().contains("response-set"), e.getMessage());
        assertEquals("request-remove", invalid(ordered("request-add", Map.of("Via", "relay"), "request-remove", List.of("Via"))).key());
        // Removing on one side and writing on the other is fine.
        provider.create(FilterSettings.of(ordered("request-remove", List.of("Server"), "response-set", Map.of("Server", "relay"))));
    }

    @Test
    void rejectsTheSameFieldSetTwiceIgnoringCase() {
        InvalidSettingException e = invalid(Map.of("request-set", ordered("X-A", "1", "x-a", "2")));
        assertEquals("request-set.x-a", e.key());
    }

    @Test
    void emptySettingsMakeAFilterThatChangesNothing() {
        request.headers().add("A", "1");
        ResponseHeader response = ResponseHeader.of(200);
        response.headers().add("B", "2");
        HttpModule module = module(Map.of());

        module.requestHeaderFilter(session);
        module.responseHeaderFilter(session, response, false);

        assertEquals(1, request.headers().size());
        assertEquals(1, response.headers().size());
    }
}
