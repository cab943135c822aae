package dev.relay.filters.shaping;

import dev.relay.core.BodyChunk;
import dev.relay.core.ErrorSource;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.HttpModule;
import dev.relay.core.ProxyError;
import dev.relay.core.RequestHeader;
import dev.relay.core.Session;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

@Timeout(10)
class BodyLimitFilterTest {
    private final BodyLimitFilterProvider provider = new BodyLimitFilterProvider();
    private RequestHeader request;
    private Session session;

    @BeforeEach
    void setUp() {
        request = RequestHeader.of("POST", "/upload");
        session = mock(Session.class);
        when(session.requestHeader()).thenReturn(request);
    }

    private HttpModule module(Object maxSize) {
        return provider.create(FilterSettings.of(Map.of("max-size", maxSize))).newModule();
    }

    private static void assert413(ProxyError e) {
        assertEquals(413, e.httpStatus());
        assertEquals(ErrorSource.DOWNSTREAM, e.source());
    }

    @Test
    void aDeclaredLengthOverTheLimitFailsThe413BeforeAnyBodyAndClosesTheConnection() {
        request.headers().set("Content-Length", "1048577");

        CompletableFuture<Void> stage = module("1MiB").requestHeaderFilter(session).toCompletableFuture();

        CompletionException e = assertThrows(CompletionException.class, stage::join);
        assert413((ProxyError) e.getCause());
        assertTrue(e.getCause().getMessage().contains("Content-Length 1048577"), e.getCause().getMessage());
        verify(session).disableKeepAlive();
    }

    @Test
    void aDeclaredLengthAtTheLimitPasses() {
        request.headers().set("Content-Length", "1048576");

        CompletableFuture<Void> stage = module("1MiB").requestHeaderFilter(session).toCompletableFuture();

        assertTrue(stage.isDone() && !stage.isCompletedExceptionally());
        verify(session, never()).disableKeepAlive();
    }

    @Test
    void aBodyWithoutLengthFailsOnTheChunkThatPassesTheLimit() {
        HttpModule module = module(10);
        module.requestHeaderFilter(session);
        module.requestBodyFilter(session, BodyChunk.wrap(new byte[6]), false);
        module.requestBodyFilter(session, BodyChunk.wrap(new byte[4]), false);

        ProxyError e = assertThrows(ProxyError.class,
                () -> module.requestBodyFilter(session, BodyChunk.wrap(new byte[1]), false));

        assert413(e);
        verify(session).disableKeepAlive();
    }

    @Test
    void eachRequestCountsItsOwnBody() {
        BodyLimitFilter filter = BodyLimitFilter.of(8);
        filter.newModule().requestBodyFilter(session, BodyChunk.wrap(new byte[8]), true);
        filter.newModule().requestBodyFilter(session, BodyChunk.wrap(new byte[8]), true);
        verify(session, never()).disableKeepAlive();
    }

    @Test
    void readsTheDeclaredLengthStrictly() {
        assertEquals(-1, BodyLimitFilter.declaredLength(List.of()));
        assertEquals(-1, BodyLimitFilter.declaredLength(List.of("12", "12")));
        assertEquals(-1, BodyLimitFilter.declaredLength(List.of("-5")));
        assertEquals(42, BodyLimitFilter.declaredLength(List.of(" 42 ")));
        assertEquals(Long.MAX_VALUE, BodyLimitFilter.declaredLength(List.of("99999999999999999999999")));
    }

    @Test
    void maxSizeIsRequiredAndASize() {
        assertEquals(1L << 20, ((BodyLimitFilter) provider.create(FilterSettings.of(Map.of("max-size", "1MiB")))).maxSize());
        assertEquals("max-size", assertThrows(InvalidSettingException.class,
                () -> provider.create(FilterSettings.of(Map.of()))).key());
        assertEquals("max-size", assertThrows(InvalidSettingException.class, () -> module("lots")).key());
        assertEquals("max-size", assertThrows(InvalidSettingException.class, () -> module(-1)).key());
        assertEquals("max", assertThrows(InvalidSettingException.class,
                () -> provider.create(FilterSettings.of(Map.of("max", 1)))).key());
    }
}
