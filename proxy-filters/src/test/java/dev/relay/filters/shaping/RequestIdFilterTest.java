package dev.relay.filters.shaping;

import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.HttpModule;
import dev.relay.core.RequestHeader;
import dev.relay.core.RequestIdModuleFactory;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

@Timeout(10)
class RequestIdFilterTest {
    private static final String UUID_V4 = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";
    private final RequestIdFilterProvider provider = new RequestIdFilterProvider();
    private RequestHeader request;
    private Session session;

    @BeforeEach
    void setUp() {
        request = RequestHeader.of("GET", "/");
        session = mock(Session.class);
        when(session.requestHeader()).thenReturn(request);
    }

    private RequestIdFilter filter(Map<String, ?> settings) {
        return (RequestIdFilter) provider.create(FilterSettings.of(settings));
    }

    /** Runs the request and response hooks; returns the id the response carried. */
    private String run(RequestIdFilter filter) {
        HttpModule module = filter.newModule();
        assertTrue(module.requestHeaderFilter(session).toCompletableFuture().isDone());
        ResponseHeader response = ResponseHeader.of(200);
        module.responseHeaderFilter(session, response, false);
        return response.headers().get(filter.header());
    }

    @Test
    void allFourShapingFiltersAreFoundByServiceLoader() {
        List<String> names = ServiceLoader.load(FilterProvider.class).stream().map(p -> p.get().name()).toList();
        assertTrue(names.containsAll(List.of("request-id", "forwarded", "rewrite", "body-limit")), names.toString());
        assertTrue(filter(Map.of()) instanceof RequestIdModuleFactory);
    }

    @Test
    void generatesAUuidWhenTheRequestHasNoneAndSendsItUpstreamAndBack() {
        String id = run(filter(Map.of()));

        assertTrue(id.matches(UUID_V4), id);
        assertEquals(List.of(id), request.headers().getAll("X-Request-ID"));
    }

    @Test
    void hexIdsAre32DigitsAndDistinct() {
        RequestIdFilter filter = filter(Map.of("format", "hex"));
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            String id = filter.newId();
            assertTrue(id.matches("[0-9a-f]{32}"), id);
            ids.add(id);
        }
        assertEquals(1000, ids.size());
    }

    @Test
    void keepsAValidIncomingIdWhenTrusted() {
        request.headers().set("x-request-id", "Root=1-5759e988-bd862e3f:abc/def+g@h_i.j");

        assertEquals("Root=1-5759e988-bd862e3f:abc/def+g@h_i.j", run(filter(Map.of())));
    }

    @Test
    void replacesAnIncomingIdThatIsUnsafeTooLongOrRepeated() {
        RequestIdFilter filter = filter(Map.of("max-length", 16));
        for (List<String> incoming : List.of(List.of("has space"), List.of("quote\"d"), List.of("x".repeat(17)),
                List.of(""), List.of("a", "b"))) {
            request.headers().remove("X-Request-ID");
            incoming.forEach(v -> request.headers().add("X-Request-ID", v));

            String id = run(filter);

            assertTrue(id.matches(UUID_V4), incoming + " -> " + id);
            assertEquals(List.of(id), request.headers().getAll("X-Request-ID"));
        }
        assertTrue(filter.isValid("x".repeat(16)));
        assertFalse(filter.isValid("é"));
    }

    @Test
    void ignoresIncomingIdsWhenNotTrustedAndUsesTheConfiguredHeader() {
        request.headers().set("X-Correlation-ID", "client-chosen");
        RequestIdFilter filter = filter(Map.of("header", "X-Correlation-ID", "trust-incoming", false));

        String id = run(filter);

        assertNotEquals("client-chosen", id);
        assertEquals("X-Correlation-ID", filter.header());
        assertEquals(List.of(id), request.headers().getAll("X-Correlation-ID"));
    }

    @Test
    void theResponseCarriesTheIdEvenWhenALaterFilterRemovedItFromTheRequest() {
        HttpModule module = filter(Map.of()).newModule();
        module.requestHeaderFilter(session);
        String id = request.headers().get("X-Request-ID");
        request.headers().remove("X-Request-ID");
        ResponseHeader response = ResponseHeader.of(404);

        module.responseHeaderFilter(session, response, true);

        assertEquals(id, response.headers().get("X-Request-ID"));
    }

    @Test
    void badSettingsNameTheirKey() {
        assertEquals("format", assertThrows(InvalidSettingException.class, () -> filter(Map.of("format", "ulid"))).key());
        assertEquals("header", assertThrows(InvalidSettingException.class, () -> filter(Map.of("header", "X Id"))).key());
        assertEquals("header", assertThrows(InvalidSettingException.class, () -> filter(Map.of("header", "Host"))).key());
        assertEquals("max-length", assertThrows(InvalidSettingException.class, () -> filter(Map.of("max-length", 0))).key());
        assertEquals("max-length", assertThrows(InvalidSettingException.class,
                () -> filter(Map.of("max-length", 10_000_000_000L))).key());
        InvalidSettingException unknown = assertThrows(InvalidSettingException.class, () -> filter(Map.of("headr", "X")));
        assertEquals("headr", unknown.key());
        assertTrue(unknown.getMessage().contains("header, trust-incoming, format, max-length"), unknown.getMessage());
    }
}
