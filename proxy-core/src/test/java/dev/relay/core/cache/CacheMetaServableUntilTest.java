package dev.relay.core.cache;

import dev.relay.core.ResponseHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link CacheMeta#servableUntilMillis()} agrees with the freshness and stale-window predicates. */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class CacheMetaServableUntilTest {
    private static final long RESPONSE_TIME = 1_700_000_000_500L;

    private static CacheMeta meta(long initialAge, long lifetime, long staleWhileRevalidate, long staleIfError,
                                  boolean mustRevalidate) {
        return new CacheMeta(200, ResponseHeader.of(200), RESPONSE_TIME - 100, RESPONSE_TIME, initialAge, lifetime,
                staleWhileRevalidate, staleIfError, mustRevalidate, List.of());
    }

    private static boolean servable(CacheMeta meta, long nowMillis) {
        return meta.isFresh(nowMillis) || meta.withinStaleWhileRevalidate(nowMillis)
                || meta.withinStaleIfError(nowMillis);
    }

    private static void assertServableUntil(long expected, CacheMeta meta) {
        assertEquals(expected, meta.servableUntilMillis());
        assertTrue(servable(meta, expected - 1), "servable a millisecond before");
        assertFalse(servable(meta, expected), "not servable from then on");
        assertFalse(servable(meta, expected + 60_000));
    }

    @Test
    void freshOnlyEndsWithTheLifetimeLessTheInitialAge() {
        assertServableUntil(RESPONSE_TIME + 50_000, meta(10, 60, 0, 0, false));
    }

    @Test
    void theLongerStaleWindowExtendsIt() {
        assertServableUntil(RESPONSE_TIME + 90_000, meta(0, 60, 30, 10, false));
        assertServableUntil(RESPONSE_TIME + 120_000, meta(0, 60, 5, 60, false));
    }

    @Test
    void mustRevalidateHasNoStaleWindow() {
        assertServableUntil(RESPONSE_TIME + 60_000, meta(0, 60, 30, 300, true));
    }

    @Test
    void anAgeBeyondTheWindowsIsNeverServable() {
        CacheMeta meta = meta(200, 60, 30, 0, false);
        assertEquals(RESPONSE_TIME - 110_000, meta.servableUntilMillis());
        assertFalse(servable(meta, RESPONSE_TIME));
    }

    @Test
    void saturatesInsteadOfOverflowing() {
        assertEquals(Long.MAX_VALUE, meta(0, Long.MAX_VALUE / 10, 0, 0, false).servableUntilMillis());
    }
}
