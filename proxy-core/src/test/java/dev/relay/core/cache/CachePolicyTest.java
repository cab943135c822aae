package dev.relay.core.cache;

import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.relay.core.cache.CacheFixtures.T0;
import static dev.relay.core.cache.CacheFixtures.at;
import static dev.relay.core.cache.CacheFixtures.date;
import static dev.relay.core.cache.CacheFixtures.decide;
import static dev.relay.core.cache.CacheFixtures.get;
import static dev.relay.core.cache.CacheFixtures.refused;
import static dev.relay.core.cache.CacheFixtures.request;
import static dev.relay.core.cache.CacheFixtures.response;
import static dev.relay.core.cache.CacheFixtures.stored;
import static dev.relay.core.cache.CacheFixtures.storedAtT0;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a shared cache stores, for how long, and how a 304 refreshes it (RFC 9111 §3, §4.2, §4.3.4). */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class CachePolicyTest {
    private static final CacheDefaults HEURISTIC =
            new CacheDefaults(true, Duration.ofHours(2), Duration.ZERO, Duration.ZERO);

    // ---- which responses are stored (§3)

    @Test
    void onlyAGetResponseIsStored() {
        ResponseHeader fresh = response(200, "Cache-Control", "max-age=60");

        assertEquals(NoCacheReason.METHOD, refused(decide(request("HEAD"), fresh)));
        assertEquals(NoCacheReason.METHOD, refused(decide(request("POST"), fresh)));
        assertEquals(60, stored(decide(get(), fresh)).freshnessLifetimeSeconds());
    }

    @Test
    void noStoreInTheResponseForbidsStoring() {
        assertEquals(NoCacheReason.NO_STORE, refused(decide(get(), response(200, "Cache-Control", "max-age=60, no-store"))));
    }

    @Test
    void noStoreInTheRequestForbidsStoringTheResponse() {
        RequestHeader request = get("Cache-Control", "no-store");

        assertEquals(NoCacheReason.NO_STORE, refused(decide(request, response(200, "Cache-Control", "max-age=60"))));
    }

    @Test
    void privateResponseIsNotStoredByASharedCache() {
        assertEquals(NoCacheReason.PRIVATE, refused(decide(get(), response(200, "Cache-Control", "private, max-age=60"))));
        assertEquals(NoCacheReason.PRIVATE,
                refused(decide(get(), response(200, "Cache-Control", "private=\"X-User\", max-age=60"))));
    }

    @Test
    void authorizationRequestIsStoredOnlyWithPublicSMaxAgeOrMustRevalidate() {
        RequestHeader authorized = get("Authorization", "Bearer t");

        assertEquals(NoCacheReason.AUTHORIZATION, refused(decide(authorized, response(200, "Cache-Control", "max-age=60"))));
        assertEquals(60, stored(decide(authorized, response(200, "Cache-Control", "public, max-age=60")))
                .freshnessLifetimeSeconds());
        assertEquals(30, stored(decide(authorized, response(200, "Cache-Control", "s-maxage=30")))
                .freshnessLifetimeSeconds());
        assertTrue(stored(decide(authorized, response(200, "Cache-Control", "must-revalidate, max-age=5")))
                .mustRevalidate());
    }

    @Test
    void varyStarIsNeverStored() {
        ResponseHeader response = response(200, "Cache-Control", "max-age=60", "Vary", "Accept, *");

        assertEquals(NoCacheReason.VARY_STAR, refused(decide(get(), response)));
    }

    @Test
    void responseThatSetsACookieIsNotStored() {
        ResponseHeader response = response(200, "Cache-Control", "max-age=60", "Set-Cookie", "id=1");

        assertEquals(NoCacheReason.SET_COOKIE, refused(decide(get(), response)));
    }

    @Test
    void partialInterimNotModifiedAndUnknownStatusesAreNotStored() {
        for (int status : new int[] {100, 206, 304, 201, 500, 502, 299}) {
            assertEquals(NoCacheReason.STATUS, refused(decide(get(), response(status, "Cache-Control", "max-age=60"))),
                    "status " + status);
        }
    }

    @Test
    void everyUnderstoodStatusIsStoredWithExplicitFreshness() {
        for (int status : new int[] {200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 451, 501}) {
            assertEquals(status, storedAtT0(response(status, "Cache-Control", "max-age=60")).status());
        }
    }

    @Test
    void reasonsAreReportedInTheirOrder() {
        assertEquals(NoCacheReason.METHOD,
                refused(decide(request("POST"), response(200, "Cache-Control", "no-store"))));
        assertEquals(NoCacheReason.NO_STORE,
                refused(decide(get(), response(200, "Cache-Control", "no-store, private"))));
        assertEquals(NoCacheReason.PRIVATE,
                refused(decide(get("Authorization", "x"), response(200, "Cache-Control", "private"))));
        assertEquals(NoCacheReason.AUTHORIZATION,
                refused(decide(get("Authorization", "x"), response(200, "Vary", "*"))));
        assertEquals(NoCacheReason.VARY_STAR, refused(decide(get(), response(200, "Vary", "*", "Set-Cookie", "a=b"))));
        assertEquals(NoCacheReason.SET_COOKIE, refused(decide(get(), response(206, "Set-Cookie", "a=b"))));
        assertEquals(NoCacheReason.STATUS, refused(decide(get(), response(206))));
        assertEquals(NoCacheReason.NO_FRESHNESS, refused(decide(get(), response(200))));
    }

    // ---- freshness lifetime (§4.2.1, §4.2.2)

    @Test
    void maxAgeGivesTheFreshnessLifetime() {
        assertEquals(600, storedAtT0(response(200, "Cache-Control", "max-age=600")).freshnessLifetimeSeconds());
    }

    @Test
    void sMaxAgeOverridesMaxAgeForASharedCache() {
        CacheMeta meta = storedAtT0(response(200, "Cache-Control", "max-age=600, s-maxage=30"));

        assertEquals(30, meta.freshnessLifetimeSeconds());
    }

    @Test
    void maxAgeOverridesExpires() {
        CacheMeta meta = storedAtT0(response(200, "Cache-Control", "max-age=5", "Date", date(0), "Expires", date(3600)));

        assertEquals(5, meta.freshnessLifetimeSeconds());
    }

    @Test
    void expiresMinusDateIsTheLifetimeWithoutMaxAge() {
        CacheMeta meta = storedAtT0(response(200, "Date", date(-100), "Expires", date(200)));

        assertEquals(300, meta.freshnessLifetimeSeconds(), "counted from the origin's Date, not our clock");
    }

    @Test
    void expiresWithoutDateCountsFromTheResponseTime() {
        assertEquals(200, storedAtT0(response(200, "Expires", date(200))).freshnessLifetimeSeconds());
    }

    @Test
    void invalidExpiresMeansAlreadyExpired() {
        for (String invalid : new String[] {"0", "-1", "never"}) {
            CacheMeta meta = storedAtT0(response(200, "Expires", invalid, "Date", date(0)));

            assertEquals(0, meta.freshnessLifetimeSeconds(), invalid);
            assertFalse(meta.isFresh(T0));
        }
    }

    @Test
    void repeatedExpiresMeansAlreadyExpired() {
        CacheMeta meta = storedAtT0(response(200, "Expires", date(100), "Expires", date(200)));

        assertEquals(0, meta.freshnessLifetimeSeconds());
    }

    @Test
    void expiresInThePastGivesNoNegativeLifetime() {
        assertEquals(0, storedAtT0(response(200, "Date", date(0), "Expires", date(-60))).freshnessLifetimeSeconds());
    }

    @Test
    void invalidMaxAgeMeansStale() {
        CacheMeta meta = storedAtT0(response(200, "Cache-Control", "max-age=soon", "Expires", date(3600)));

        assertEquals(0, meta.freshnessLifetimeSeconds());
    }

    @Test
    void heuristicFreshnessIsATenthOfTheTimeSinceLastModified() {
        ResponseHeader response = response(200, "Date", date(0), "Last-Modified", date(-36_000));

        CacheMeta meta = stored(CachePolicy.decide(get(), response, T0, T0, HEURISTIC));

        assertEquals(3600, meta.freshnessLifetimeSeconds());
    }

    @Test
    void heuristicFreshnessIsCappedByTheDefaults() {
        ResponseHeader response = response(200, "Date", date(0), "Last-Modified", date(-10 * 86_400));

        CacheMeta meta = stored(CachePolicy.decide(get(), response, T0, T0, HEURISTIC));

        assertEquals(2 * 3600, meta.freshnessLifetimeSeconds());
    }

    @Test
    void heuristicFreshnessIsOffByDefaultSoALastModifiedOnlyMakesItRevalidatable() {
        CacheMeta meta = storedAtT0(response(200, "Date", date(0), "Last-Modified", date(-36_000)));

        assertEquals(0, meta.freshnessLifetimeSeconds());
        assertTrue(meta.hasValidator());
    }

    @Test
    void heuristicFreshnessIsNotGivenToTemporaryRedirects() {
        for (int status : new int[] {302, 303, 307}) {
            ResponseHeader response = response(status, "Date", date(0), "Last-Modified", date(-36_000));

            assertEquals(0, stored(CachePolicy.decide(get(), response, T0, T0, HEURISTIC)).freshnessLifetimeSeconds());
        }
        ResponseHeader permanent = response(301, "Date", date(0), "Last-Modified", date(-36_000));
        assertEquals(3600, stored(CachePolicy.decide(get(), permanent, T0, T0, HEURISTIC)).freshnessLifetimeSeconds());
    }

    @Test
    void responseWithAValidatorButNoFreshnessIsStoredToBeRevalidated() {
        CacheMeta meta = storedAtT0(response(200, "ETag", "\"v1\""));

        assertEquals(0, meta.freshnessLifetimeSeconds());
        assertFalse(meta.isFresh(T0));
    }

    @Test
    void responseWithNeitherFreshnessNorValidatorIsNotStored() {
        assertEquals(NoCacheReason.NO_FRESHNESS, refused(decide(get(), response(200, "Content-Type", "text/plain"))));
        assertEquals(NoCacheReason.NO_FRESHNESS, refused(decide(get(), response(302, "Location", "/y"))));
    }

    @Test
    void noCacheResponseIsStoredButRevalidatedEveryTime() {
        CacheMeta meta = storedAtT0(response(200, "Cache-Control", "no-cache=\"Set-Cookie\", max-age=600", "ETag", "\"a\""));

        assertEquals(0, meta.freshnessLifetimeSeconds());
        assertTrue(meta.mustRevalidate());
    }

    // ---- serving stale (§4.2.4, RFC 5861)

    @Test
    void mustRevalidateProxyRevalidateSMaxAgeAndNoCacheForbidServingStale() {
        for (String directives : new String[] {"max-age=1, must-revalidate", "max-age=1, proxy-revalidate",
            "s-maxage=1", "no-cache"}) {
            assertTrue(storedAtT0(response(200, "Cache-Control", directives, "ETag", "\"a\"")).mustRevalidate(), directives);
        }
        assertFalse(storedAtT0(response(200, "Cache-Control", "max-age=1")).mustRevalidate());
    }

    @Test
    void staleWindowsComeFromTheResponseElseFromTheDefaults() {
        CacheDefaults defaults = new CacheDefaults(false, Duration.ofDays(1), Duration.ofSeconds(7), Duration.ofSeconds(9));
        ResponseHeader own = response(200, "Cache-Control", "max-age=1, stale-while-revalidate=30, stale-if-error=60");
        ResponseHeader silent = response(200, "Cache-Control", "max-age=1");

        CacheMeta withOwn = stored(CachePolicy.decide(get(), own, T0, T0, defaults));
        CacheMeta withDefaults = stored(CachePolicy.decide(get(), silent, T0, T0, defaults));

        assertEquals(30, withOwn.staleWhileRevalidateSeconds());
        assertEquals(60, withOwn.staleIfErrorSeconds());
        assertEquals(7, withDefaults.staleWhileRevalidateSeconds());
        assertEquals(9, withDefaults.staleIfErrorSeconds());
    }

    // ---- age (§4.2.3)

    @Test
    void ageHeaderAddsToTheCorrectedInitialAge() {
        ResponseHeader response = response(200, "Cache-Control", "max-age=600", "Date", date(0), "Age", "100");

        CacheMeta meta = stored(CachePolicy.decide(get(), response, T0, at(2), CacheDefaults.RFC9111));

        assertEquals(102, meta.correctedInitialAgeSeconds(), "Age plus the 2 s the response took");
    }

    @Test
    void apparentAgeFromDateWinsWhenItIsLarger() {
        ResponseHeader response = response(200, "Cache-Control", "max-age=600", "Date", date(-300), "Age", "10");

        assertEquals(300, storedAtT0(response).correctedInitialAgeSeconds());
    }

    @Test
    void aDateAheadOfOurClockGivesNoNegativeAge() {
        assertEquals(0, storedAtT0(response(200, "Cache-Control", "max-age=60", "Date", date(500))).correctedInitialAgeSeconds());
    }

    @Test
    void anInvalidAgeHeaderIsIgnored() {
        ResponseHeader response = response(200, "Cache-Control", "max-age=60", "Date", date(0), "Age", "old");

        assertEquals(1, stored(CachePolicy.decide(get(), response, T0, at(1), CacheDefaults.RFC9111))
                .correctedInitialAgeSeconds());
    }

    // ---- what is stored

    @Test
    void theResponseHeaderIsStoredAsGivenWithItsVaryFieldsInLowerCase() {
        ResponseHeader response = response(200, "Cache-Control", "max-age=60", "Vary", "Accept-Encoding, User-Agent",
                "vary", "X-Tenant", "Content-Type", "text/html");

        CacheMeta meta = storedAtT0(response);

        assertEquals(List.of("accept-encoding", "user-agent", "x-tenant"), meta.vary());
        assertArrayEquals(new String[] {"Cache-Control", "max-age=60", "Vary", "Accept-Encoding, User-Agent",
            "vary", "X-Tenant", "Content-Type", "text/html"}, meta.fields());
        assertEquals(T0, meta.requestTimeMillis());
        assertEquals(T0, meta.responseTimeMillis());
    }

    // ---- 304 (§4.3.4)

    private static CacheMeta storedPage() {
        return storedAtT0(response(200, "Cache-Control", "max-age=60", "Date", date(0), "ETag", "\"v1\"",
                "Content-Length", "1234", "X-Trace", "a", "X-Trace", "b", "Content-Type", "text/html"));
    }

    @Test
    void notModifiedMergesFieldsButNotContentLength() {
        ResponseHeader notModified = response(304, "Date", date(600), "Cache-Control", "max-age=120",
                "Content-Length", "0", "X-New", "n", "Connection", "close", "Transfer-Encoding", "chunked");

        CacheMeta meta = CachePolicy.revalidated(storedPage(), get(), notModified, at(599), at(600), CacheDefaults.RFC9111);

        assertEquals("1234", meta.header("Content-Length"));
        assertEquals("n", meta.header("X-New"));
        assertEquals("text/html", meta.header("Content-Type"), "a field the 304 does not mention is kept");
        assertEquals(List.of("max-age=120"), meta.headers("Cache-Control"));
        assertNull(meta.header("Connection"));
        assertNull(meta.header("Transfer-Encoding"));
        assertEquals(200, meta.status());
    }

    @Test
    void notModifiedFieldReplacesEveryStoredLineOfThatName() {
        ResponseHeader notModified = response(304, "Date", date(600), "x-trace", "c");

        CacheMeta meta = CachePolicy.revalidated(storedPage(), get(), notModified, at(600), at(600), CacheDefaults.RFC9111);

        assertEquals(List.of("c"), meta.headers("X-Trace"));
    }

    @Test
    void notModifiedRestartsAgeAndFreshnessFromItsOwnTimesAndDirectives() {
        ResponseHeader notModified = response(304, "Date", date(600), "Cache-Control", "max-age=120");

        CacheMeta meta = CachePolicy.revalidated(storedPage(), get(), notModified, at(600), at(600), CacheDefaults.RFC9111);

        assertEquals(0, meta.correctedInitialAgeSeconds());
        assertEquals(120, meta.freshnessLifetimeSeconds());
        assertEquals(at(600), meta.responseTimeMillis());
        assertTrue(meta.isFresh(at(700)));
        assertFalse(meta.isFresh(at(720)));
    }

    @Test
    void notModifiedWithoutDateIsDatedByItsArrival() {
        CacheMeta meta = CachePolicy.revalidated(storedPage(), get(), response(304), at(600), at(600), CacheDefaults.RFC9111);

        assertEquals(date(600), meta.header("Date"));
        assertEquals(0, meta.correctedInitialAgeSeconds());
        assertEquals(60, meta.freshnessLifetimeSeconds(), "the stored max-age still applies");
    }

    @Test
    void notModifiedThatForbidsStoringRemovesTheObject() {
        ResponseHeader notModified = response(304, "Date", date(600), "Cache-Control", "no-store");

        assertNull(CachePolicy.revalidated(storedPage(), get(), notModified, at(600), at(600), CacheDefaults.RFC9111));
    }

    @Test
    void notModifiedToAHeadRequestRefreshesTheStoredGet() {
        ResponseHeader notModified = response(304, "Date", date(600));

        CacheMeta meta = CachePolicy.revalidated(storedPage(), request("HEAD"), notModified, at(600), at(600),
                CacheDefaults.RFC9111);

        assertEquals(date(600), meta.header("Date"));
    }
}
