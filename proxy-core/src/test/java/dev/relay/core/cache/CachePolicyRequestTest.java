package dev.relay.core.cache;

import dev.relay.core.RequestHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.relay.core.cache.CacheFixtures.at;
import static dev.relay.core.cache.CacheFixtures.date;
import static dev.relay.core.cache.CacheFixtures.get;
import static dev.relay.core.cache.CacheFixtures.request;
import static dev.relay.core.cache.CacheFixtures.response;
import static dev.relay.core.cache.CacheFixtures.storedAtT0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a request asks of a stored response: its own freshness directives (RFC 9111 §5.2.1), the
 * preconditions and ranges the cache answers by itself (RFC 9110 §13, §14), revalidation (RFC 9111
 * §4.3.1) and variants (RFC 9111 §4.1).
 */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class CachePolicyRequestTest {
    /** Fresh for 100 s from T0; stored with both validators. */
    private static final CacheMeta STORED = storedAtT0(response(200, "Cache-Control", "max-age=100", "Date", date(0),
            "ETag", "\"v1\"", "Last-Modified", date(-3600)));

    @Test
    void onlyGetAndHeadCanBeAnsweredFromTheCache() {
        assertTrue(CachePolicy.isCacheableMethod("GET"));
        assertTrue(CachePolicy.isCacheableMethod("HEAD"));
        assertFalse(CachePolicy.isCacheableMethod("POST"));
        assertFalse(CachePolicy.isCacheableMethod("get"), "methods are case-sensitive");
    }

    // ---- the request's own directives (§5.2.1)

    @Test
    void aPlainRequestTakesAFreshResponse() {
        assertFalse(CachePolicy.requestRequiresValidation(get(), STORED, at(10)));
    }

    @Test
    void requestNoCacheRequiresValidation() {
        assertTrue(CachePolicy.requestRequiresValidation(get("Cache-Control", "no-cache"), STORED, at(10)));
    }

    @Test
    void pragmaNoCacheCountsOnlyWithoutCacheControl() {
        assertTrue(CachePolicy.requestRequiresValidation(get("Pragma", "x, No-Cache"), STORED, at(10)));
        assertFalse(CachePolicy.requestRequiresValidation(get("Pragma", "no-cache", "Cache-Control", "max-stale"),
                STORED, at(10)));
    }

    @Test
    void requestMaxAgeBelowTheCurrentAgeRequiresValidation() {
        assertTrue(CachePolicy.requestRequiresValidation(get("Cache-Control", "max-age=5"), STORED, at(10)));
        assertFalse(CachePolicy.requestRequiresValidation(get("Cache-Control", "max-age=10"), STORED, at(10)));
    }

    @Test
    void requestMinFreshBeyondTheFreshnessLeftRequiresValidation() {
        assertTrue(CachePolicy.requestRequiresValidation(get("Cache-Control", "min-fresh=91"), STORED, at(10)));
        assertFalse(CachePolicy.requestRequiresValidation(get("Cache-Control", "min-fresh=90"), STORED, at(10)));
    }

    @Test
    void maxStaleCoveringTheStalenessAcceptsAStaleResponse() {
        RequestHeader request = get("Cache-Control", "max-stale=50");

        assertTrue(CachePolicy.requestAcceptsStale(request, STORED, at(150)));
        assertFalse(CachePolicy.requestAcceptsStale(request, STORED, at(151)));
    }

    @Test
    void maxStaleWithoutAValueAcceptsAnyStaleness() {
        assertTrue(CachePolicy.requestAcceptsStale(get("Cache-Control", "max-stale"), STORED, at(1_000_000)));
    }

    @Test
    void aRequestWithoutMaxStaleDoesNotAcceptStale() {
        assertFalse(CachePolicy.requestAcceptsStale(get(), STORED, at(101)));
    }

    @Test
    void aResponseThatMustBeRevalidatedIsNeverAcceptedStale() {
        CacheMeta strict = storedAtT0(response(200, "Cache-Control", "max-age=1, must-revalidate"));

        assertFalse(CachePolicy.requestAcceptsStale(get("Cache-Control", "max-stale"), strict, at(5)));
    }

    // ---- preconditions the cache answers (RFC 9110 §13)

    @Test
    void ifNoneMatchUsesWeakComparison() {
        assertTrue(CachePolicy.isNotModified(get("If-None-Match", "W/\"v1\""), STORED));
        assertTrue(CachePolicy.isNotModified(get("If-None-Match", "\"v1\""), STORED));
        assertFalse(CachePolicy.isNotModified(get("If-None-Match", "\"v2\""), STORED));
        CacheMeta weak = storedAtT0(response(200, "Cache-Control", "max-age=1", "ETag", "W/\"w\""));
        assertTrue(CachePolicy.isNotModified(get("If-None-Match", "\"w\""), weak));
    }

    @Test
    void ifNoneMatchIsAListWhoseTagsMayHoldCommas() {
        CacheMeta comma = storedAtT0(response(200, "Cache-Control", "max-age=1", "ETag", "\"a,b\""));

        assertTrue(CachePolicy.isNotModified(get("If-None-Match", "\"x\", W/\"a,b\""), comma));
        assertFalse(CachePolicy.isNotModified(get("If-None-Match", "\"a\", \"b\""), comma));
        assertTrue(CachePolicy.isNotModified(get("If-None-Match", "\"x\"", "If-None-Match", "\"v1\""), STORED));
        assertTrue(CachePolicy.isNotModified(get("If-None-Match", "bare, \"v1\""), STORED));
    }

    @Test
    void ifNoneMatchStarMatchesAnyStoredResponse() {
        CacheMeta untagged = storedAtT0(response(200, "Cache-Control", "max-age=1"));

        assertTrue(CachePolicy.isNotModified(get("If-None-Match", "*"), untagged));
    }

    @Test
    void ifModifiedSinceIsIgnoredWhenIfNoneMatchIsPresent() {
        RequestHeader request = get("If-None-Match", "\"v2\"", "If-Modified-Since", date(0));

        assertFalse(CachePolicy.isNotModified(request, STORED));
    }

    @Test
    void ifModifiedSinceComparesWithLastModified() {
        assertTrue(CachePolicy.isNotModified(get("If-Modified-Since", date(-3600)), STORED));
        assertTrue(CachePolicy.isNotModified(get("If-Modified-Since", date(-10)), STORED));
        assertFalse(CachePolicy.isNotModified(get("If-Modified-Since", date(-3601)), STORED));
    }

    @Test
    void ifModifiedSinceComparesWithDateWhenThereIsNoLastModified() {
        CacheMeta dated = storedAtT0(response(200, "Cache-Control", "max-age=1", "Date", date(0)));

        assertTrue(CachePolicy.isNotModified(get("If-Modified-Since", date(0)), dated));
        assertFalse(CachePolicy.isNotModified(get("If-Modified-Since", date(-1)), dated));
    }

    @Test
    void invalidIfModifiedSinceIsIgnored() {
        assertFalse(CachePolicy.isNotModified(get("If-Modified-Since", "yesterday"), STORED));
    }

    @Test
    void withoutPreconditionsThereIsNoNotModified() {
        assertFalse(CachePolicy.isNotModified(get(), STORED));
    }

    @Test
    void onlyGetAndHeadAreAnsweredNotModified() {
        assertTrue(CachePolicy.isNotModified(request("HEAD", "If-None-Match", "\"v1\""), STORED));
        assertFalse(CachePolicy.isNotModified(request("POST", "If-None-Match", "\"v1\""), STORED));
    }

    // ---- revalidation (RFC 9111 §4.3.1)

    @Test
    void conditionalRequestCarriesTheStoredValidatorsInsteadOfTheClients() {
        RequestHeader upstream = get("If-None-Match", "\"mine\"", "If-Modified-Since", date(-5), "If-Match", "\"m\"",
                "If-Unmodified-Since", date(-5), "If-Range", "\"r\"", "Range", "bytes=0-1", "Accept", "text/html");

        CachePolicy.makeConditional(upstream, STORED);

        assertEquals(List.of("\"v1\""), upstream.headers().getAll("If-None-Match"));
        assertEquals(List.of(date(-3600)), upstream.headers().getAll("If-Modified-Since"));
        assertFalse(upstream.headers().contains("If-Match"));
        assertFalse(upstream.headers().contains("If-Unmodified-Since"));
        assertFalse(upstream.headers().contains("If-Range"));
        assertFalse(upstream.headers().contains("Range"));
        assertEquals("text/html", upstream.headers().get("Accept"));
    }

    @Test
    void conditionalRequestOmitsAValidatorTheStoredResponseLacks() {
        CacheMeta tagged = storedAtT0(response(200, "Cache-Control", "max-age=1", "ETag", "\"t\""));
        RequestHeader upstream = get("If-Modified-Since", date(-5));

        CachePolicy.makeConditional(upstream, tagged);

        assertEquals("\"t\"", upstream.headers().get("If-None-Match"));
        assertFalse(upstream.headers().contains("If-Modified-Since"));
    }

    // ---- variants (RFC 9111 §4.1)

    @Test
    void withoutVaryThereIsNoVariance() {
        assertNull(CachePolicy.variance(List.of(), get("Accept", "text/html")));
    }

    @Test
    void varianceJoinsEveryLineOfAFieldAndCollapsesWhitespace() {
        RequestHeader twoLines = get("Accept-Encoding", "  gzip", "Accept-Encoding", "br \t ");
        RequestHeader oneLine = get("accept-encoding", "gzip,  br");

        assertEquals("accept-encoding: gzip, br", CachePolicy.variance(List.of("accept-encoding"), twoLines));
        assertEquals(CachePolicy.variance(List.of("accept-encoding"), twoLines),
                CachePolicy.variance(List.of("accept-encoding"), oneLine));
    }

    @Test
    void anAbsentFieldIsAVarianceOfItsOwn() {
        List<String> vary = List.of("accept-language", "x-tenant");

        assertEquals("accept-language: de\nx-tenant:", CachePolicy.variance(vary, get("Accept-Language", "de")));
        assertNotEquals(CachePolicy.variance(vary, get("Accept-Language", "de")),
                CachePolicy.variance(vary, get("Accept-Language", "de", "X-Tenant", "")));
    }

    @Test
    void varianceFollowsTheGivenOrderWhateverTheCaseOfTheNames() {
        RequestHeader request = get("B", "2", "A", "1");

        assertEquals("a: 1\nb: 2", CachePolicy.variance(List.of("A", "b"), request));
        assertNotEquals(CachePolicy.variance(List.of("a"), get("A", "1")), CachePolicy.variance(List.of("a"), get("A", "2")));
    }

    // ---- ranges (RFC 9110 §14)

    private static ByteRange range(long length, String... fields) {
        return CachePolicy.range(get(fields), STORED, length);
    }

    @Test
    void withoutRangeTheWholeBodyIsServed() {
        assertNull(range(100));
    }

    @Test
    void theThreeRangeFormsAreRead() {
        assertEquals(new ByteRange(10, 19), range(100, "Range", "bytes=10-19"));
        assertEquals(new ByteRange(90, 99), range(100, "Range", "bytes=90-"));
        assertEquals(new ByteRange(70, 99), range(100, "Range", "bytes=-30"));
        assertEquals(new ByteRange(0, 99), range(100, "Range", "Bytes=-500"), "a suffix longer than the body is all of it");
    }

    @Test
    void aRangeEndBeyondTheBodyIsClipped() {
        assertEquals(new ByteRange(50, 99), range(100, "Range", "bytes=50-1000"));
        assertEquals(new ByteRange(0, 99), range(100, "Range", "bytes=0-99999999999999999999999"));
    }

    @Test
    void aRangeThatStartsBeyondTheBodyOrAnEmptySuffixIsUnsatisfiable() {
        assertSame(ByteRange.UNSATISFIABLE, range(100, "Range", "bytes=100-200"));
        assertSame(ByteRange.UNSATISFIABLE, range(100, "Range", "bytes=100-"));
        assertSame(ByteRange.UNSATISFIABLE, range(100, "Range", "bytes=-0"));
        assertSame(ByteRange.UNSATISFIABLE, range(0, "Range", "bytes=-5"));
    }

    @Test
    void severalRangesOrAnInvalidRangeGetTheWholeBody() {
        for (String value : new String[] {"bytes=0-1,5-6", "items=0-1", "bytes=5-1", "bytes=a-b", "bytes=-", "bytes=1",
            "bytes=0x-1", "bytes=--5", "0-1"}) {
            assertNull(range(100, "Range", value), value);
        }
        assertNull(range(100, "Range", "bytes=0-1", "Range", "bytes=5-6"));
    }

    @Test
    void ifRangeEntityTagMustMatchStrongly() {
        assertEquals(new ByteRange(0, 9), range(100, "Range", "bytes=0-9", "If-Range", "\"v1\""));
        assertNull(range(100, "Range", "bytes=0-9", "If-Range", "\"v0\""));
        assertNull(range(100, "Range", "bytes=0-9", "If-Range", "W/\"v1\""), "a weak tag never matches");
        CacheMeta weak = storedAtT0(response(200, "Cache-Control", "max-age=1", "ETag", "W/\"v1\""));
        assertNull(CachePolicy.range(get("Range", "bytes=0-9", "If-Range", "\"v1\""), weak, 100));
    }

    @Test
    void ifRangeDateMustEqualLastModified() {
        assertEquals(new ByteRange(0, 9), range(100, "Range", "bytes=0-9", "If-Range", date(-3600)));
        assertNull(range(100, "Range", "bytes=0-9", "If-Range", date(-3599)));
        assertNull(range(100, "Range", "bytes=0-9", "If-Range", "garbage"));
    }
}
