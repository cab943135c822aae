package dev.relay.core.cache;

import dev.relay.core.HttpHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code Cache-Control} parsing (RFC 9111 §5.2). */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class CacheControlTest {
    private static final long CAP = 1L << 31;

    @Test
    void readsEveryDirective() {
        CacheControl cc = CacheControl.parse("no-store, no-cache, private, public, must-revalidate, proxy-revalidate,"
                + " only-if-cached, immutable, no-transform, max-age=1, s-maxage=2, max-stale=3, min-fresh=4,"
                + " stale-while-revalidate=5, stale-if-error=6");

        assertTrue(cc.noStore());
        assertTrue(cc.noCache());
        assertTrue(cc.isPrivate());
        assertTrue(cc.isPublic());
        assertTrue(cc.mustRevalidate());
        assertTrue(cc.proxyRevalidate());
        assertTrue(cc.onlyIfCached());
        assertTrue(cc.immutable());
        assertTrue(cc.noTransform());
        assertEquals(1, cc.maxAge());
        assertEquals(2, cc.sMaxAge());
        assertEquals(3, cc.maxStale());
        assertEquals(4, cc.minFresh());
        assertEquals(5, cc.staleWhileRevalidate());
        assertEquals(6, cc.staleIfError());
    }

    @Test
    void absentDirectivesAreFalseOrMinusOne() {
        CacheControl cc = CacheControl.EMPTY;

        assertFalse(cc.noStore() || cc.noCache() || cc.isPrivate() || cc.isPublic() || cc.mustRevalidate()
                || cc.proxyRevalidate() || cc.onlyIfCached() || cc.immutable() || cc.noTransform());
        assertEquals(-1, cc.maxAge());
        assertEquals(-1, cc.sMaxAge());
        assertEquals(-1, cc.maxStale());
        assertEquals(-1, cc.minFresh());
        assertEquals(-1, cc.staleWhileRevalidate());
        assertEquals(-1, cc.staleIfError());
    }

    @Test
    void withoutAnyKnownDirectiveTheParseIsEmpty() {
        assertSame(CacheControl.EMPTY, CacheControl.parse(""));
        assertSame(CacheControl.EMPTY, CacheControl.parse(" , ,, "));
        assertSame(CacheControl.EMPTY, CacheControl.parse("community=\"UCI\", foo"));
        assertSame(CacheControl.EMPTY, CacheControl.parse(HttpHeaders.create()));
    }

    @Test
    void directiveNamesAreCaseInsensitive() {
        CacheControl cc = CacheControl.parse("No-Store, MAX-AGE=7, S-MaxAge=8");

        assertTrue(cc.noStore());
        assertEquals(7, cc.maxAge());
        assertEquals(8, cc.sMaxAge());
    }

    @Test
    void everyFieldLineCounts() {
        HttpHeaders headers = HttpHeaders.create()
                .add("Cache-Control", "public")
                .add("cache-control", "max-age=60, stale-if-error=30");

        CacheControl cc = CacheControl.parse(headers);

        assertTrue(cc.isPublic());
        assertEquals(60, cc.maxAge());
        assertEquals(30, cc.staleIfError());
        assertEquals(CacheControl.parse("public, max-age=60, stale-if-error=30"), cc);
    }

    @Test
    void aCommaInsideAQuotedStringDoesNotEndTheDirective() {
        CacheControl cc = CacheControl.parse("no-cache=\"Set-Cookie, max-age=0\", max-age=60");

        assertTrue(cc.noCache());
        assertEquals(60, cc.maxAge(), "the max-age=0 inside the quotes is not a directive");
    }

    @Test
    void anEscapedQuoteDoesNotCloseAQuotedString() {
        CacheControl cc = CacheControl.parse("private=\"a\\\", no-store\", max-age=5");

        assertTrue(cc.isPrivate());
        assertFalse(cc.noStore());
        assertEquals(5, cc.maxAge());
    }

    @Test
    void aQuotedDeltaSecondsIsRead() {
        assertEquals(60, CacheControl.parse("max-age=\"60\"").maxAge());
    }

    @Test
    void invalidDeltaSecondsReadAsZeroWhichIsStale() {
        assertEquals(0, CacheControl.parse("max-age=abc").maxAge());
        assertEquals(0, CacheControl.parse("max-age=-1").maxAge());
        assertEquals(0, CacheControl.parse("max-age=").maxAge());
        assertEquals(0, CacheControl.parse("max-age").maxAge());
        assertEquals(0, CacheControl.parse("max-age=60 seconds").maxAge());
        assertEquals(0, CacheControl.parse("max-age=\"60\"s").maxAge());
        assertEquals(0, CacheControl.parse("s-maxage=1.5").sMaxAge());
        assertEquals(0, CacheControl.parse("stale-while-revalidate=x").staleWhileRevalidate());
        assertEquals(0, CacheControl.parse("max-stale=x").maxStale());
    }

    @Test
    void anInvalidMinFreshAsksForTheMostFreshness() {
        assertEquals(CAP, CacheControl.parse("min-fresh=soon").minFresh());
    }

    @Test
    void aRepeatedDirectiveKeepsTheMostRestrictiveValue() {
        assertEquals(10, CacheControl.parse("max-age=60, max-age=10").maxAge());
        assertEquals(10, CacheControl.parse(HttpHeaders.create()
                .add("Cache-Control", "max-age=10").add("Cache-Control", "max-age=60")).maxAge());
        assertEquals(0, CacheControl.parse("max-age=60, max-age=bad").maxAge());
        assertEquals(5, CacheControl.parse("max-stale, max-stale=5").maxStale());
        assertEquals(9, CacheControl.parse("min-fresh=3, min-fresh=9").minFresh(), "more freshness is stricter");
    }

    @Test
    void valuesBeyondTwoToThe31AreCapped() {
        assertEquals(CAP, CacheControl.parse("max-age=2147483648").maxAge());
        assertEquals(CAP, CacheControl.parse("max-age=99999999999999999999999999").maxAge());
        assertEquals(CAP - 1, CacheControl.parse("max-age=2147483647").maxAge());
    }

    @Test
    void maxStaleWithoutAValueAcceptsAnyStaleness() {
        assertEquals(Long.MAX_VALUE, CacheControl.parse("max-stale").maxStale());
        assertEquals(120, CacheControl.parse("max-stale=120").maxStale());
    }

    @Test
    void noCacheAndPrivateWithAFieldListCountAsTheirUnqualifiedForm() {
        assertTrue(CacheControl.parse("no-cache=\"Set-Cookie\"").noCache());
        assertTrue(CacheControl.parse("private=\"Authorization\"").isPrivate());
        assertTrue(CacheControl.parse("no-cache=Set-Cookie").noCache());
    }

    @Test
    void whitespaceAroundTheEqualsSignAndTabsAreTolerated() {
        CacheControl cc = CacheControl.parse("\tmax-age = 5 ,\tpublic\t");

        assertEquals(5, cc.maxAge());
        assertTrue(cc.isPublic());
    }

    @Test
    void unknownDirectivesAreIgnored() {
        CacheControl cc = CacheControl.parse("foo=bar, ext=\"a,b\", max-age=3, baz");

        assertEquals(CacheControl.parse("max-age=3"), cc);
    }

    @Test
    void malformedTextNeverThrowsAndKeepsWhatItCanRead() {
        assertSame(CacheControl.EMPTY, CacheControl.parse("\""));
        assertSame(CacheControl.EMPTY, CacheControl.parse("=,=,="));
        assertSame(CacheControl.EMPTY, CacheControl.parse("\\"));
        assertEquals(60, CacheControl.parse("max-age=\"60").maxAge(), "an unterminated quote runs to the end");
        assertEquals(0, CacheControl.parse("max-age=\"6\\").maxAge());
        assertTrue(CacheControl.parse("no-store trailing words").noStore());
        assertTrue(CacheControl.parse("=5, no-store").noStore());
    }

    @Test
    void equalParsesAreEqualAndPrintCanonically() {
        CacheControl a = CacheControl.parse("Public, MAX-AGE=5, max-stale");
        CacheControl b = CacheControl.parse("max-age=5,public,max-stale");

        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, CacheControl.parse("public, max-age=6, max-stale"));
        assertEquals("public, max-age=5, max-stale", a.toString());
        assertEquals("", CacheControl.EMPTY.toString());
    }
}
