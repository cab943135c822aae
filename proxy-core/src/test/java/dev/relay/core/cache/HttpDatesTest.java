package dev.relay.core.cache;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** HTTP-date in its three forms (RFC 9110 §5.6.7). */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class HttpDatesTest {
    /** RFC 9110's own example instant: Sun, 06 Nov 1994 08:49:37 GMT. */
    private static final long EXAMPLE = 784_111_777_000L;

    @Test
    void readsTheImfFixdate() {
        assertEquals(EXAMPLE, HttpDates.parse("Sun, 06 Nov 1994 08:49:37 GMT"));
    }

    @Test
    void readsTheObsoleteRfc850Form() {
        assertEquals(EXAMPLE, HttpDates.parse("Sunday, 06-Nov-94 08:49:37 GMT"));
    }

    @Test
    void readsTheObsoleteAsctimeForm() {
        assertEquals(EXAMPLE, HttpDates.parse("Sun Nov  6 08:49:37 1994"));
    }

    @Test
    void aTwoDigitYearIsNeverMoreThanFiftyYearsAhead() {
        int thisYear = java.time.Year.now(java.time.ZoneOffset.UTC).getValue();
        int ahead = (thisYear + 60) % 100;
        long parsed = HttpDates.parse(String.format("Monday, 01-Jan-%02d 00:00:00 GMT", ahead));

        int year = java.time.Instant.ofEpochMilli(parsed).atZone(java.time.ZoneOffset.UTC).getYear();
        assertEquals(thisYear - 40, year);
    }

    @Test
    void epochStartIsAValidDate() {
        assertEquals(0, HttpDates.parse("Thu, 01 Jan 1970 00:00:00 GMT"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "0", "-1", "tomorrow", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 GMT x",
        "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Xyz 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT", "Sun, 06 Nov 1994 08:49 GMT", "Sunday, 06-Nov-1 08:49:37 GMT",
        "Sun Nov  6 08:49:37", "Sun Nov  6 08:49:37 1994 GMT", ", 06 Nov 1994 08:49:37 GMT"})
    void anythingElseIsInvalid(String value) {
        assertEquals(HttpDates.INVALID, HttpDates.parse(value));
    }

    @Test
    void nullIsInvalid() {
        assertEquals(HttpDates.INVALID, HttpDates.parse(null));
    }

    @Test
    void formatWritesTheImfFixdateThatParseReads() {
        assertEquals("Sun, 06 Nov 1994 08:49:37 GMT", HttpDates.format(EXAMPLE));
        assertEquals("Thu, 01 Jan 1970 00:00:00 GMT", HttpDates.format(999));
        assertEquals(CacheFixtures.T0, HttpDates.parse(HttpDates.format(CacheFixtures.T0)));
    }
}
