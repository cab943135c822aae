package dev.relay.filters.cache;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.relay.core.ResponseHeader;
import dev.relay.core.cache.CacheMeta;
import dev.relay.core.cache.CachedObject;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.function.LongSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** Objects to store, and the time they are judged by. */
final class TestObjects {
    /** An epoch millisecond well inside the range of real clocks. */
    static final long START_MILLIS = 1_800_000_000_000L;

    private TestObjects() {}

    /** Stored metadata of a 200 with a body type, fresh for {@code freshSeconds} from {@code arrivedMillis}. */
    static CacheMeta meta(long arrivedMillis, long freshSeconds, long swrSeconds, long sieSeconds,
                          boolean mustRevalidate, boolean withETag) {
        ResponseHeader header = ResponseHeader.of(200);
        header.headers().add("Content-Type", "text/plain");
        if (withETag) {
            header.headers().add("ETag", "\"v1\"");
        }
        return new CacheMeta(200, header, arrivedMillis - 5, arrivedMillis, 0, freshSeconds, swrSeconds, sieSeconds,
                mustRevalidate, List.of());
    }

    /** A body of {@code text} with metadata fresh for an hour from {@code arrivedMillis}, with an ETag. */
    static CachedObject object(String text, long arrivedMillis) {
        return new CachedObject(meta(arrivedMillis, 3600, 0, 0, false, true), text.getBytes(StandardCharsets.UTF_8));
    }

    /** An object of {@code size} body bytes, fresh for an hour from now. */
    static CachedObject objectOfSize(int size) {
        return new CachedObject(meta(System.currentTimeMillis(), 3600, 0, 0, false, true), new byte[size]);
    }

    static String text(CachedObject object) {
        return new String(object.body(), StandardCharsets.UTF_8);
    }

    /** Asserts {@code actual} is {@code expected}: same body, same status, fields and clock readings. */
    static void assertSameObject(CachedObject expected, CachedObject actual) {
        assertNotNull(actual, "no object stored");
        assertArrayEquals(expected.body(), actual.body(), "body");
        assertSameMeta(expected.meta(), actual.meta());
    }

    static void assertSameMeta(CacheMeta expected, CacheMeta actual) {
        assertEquals(expected.status(), actual.status(), "status");
        assertArrayEquals(expected.fields(), actual.fields(), "fields");
        assertEquals(expected.requestTimeMillis(), actual.requestTimeMillis(), "requestTimeMillis");
        assertEquals(expected.responseTimeMillis(), actual.responseTimeMillis(), "responseTimeMillis");
        assertEquals(expected.correctedInitialAgeSeconds(), actual.correctedInitialAgeSeconds(), "initial age");
        assertEquals(expected.freshnessLifetimeSeconds(), actual.freshnessLifetimeSeconds(), "freshness lifetime");
        assertEquals(expected.staleWhileRevalidateSeconds(), actual.staleWhileRevalidateSeconds(), "swr");
        assertEquals(expected.staleIfErrorSeconds(), actual.staleIfErrorSeconds(), "sie");
        assertEquals(expected.mustRevalidate(), actual.mustRevalidate(), "must-revalidate");
        assertEquals(expected.vary(), actual.vary(), "vary");
    }

    /** A clock moved by hand: Caffeine's ticker and the wall clock move together. */
    static final class ManualTime implements Ticker, LongSupplier {
        private volatile long nanos;

        @Override
        public long read() {
            return nanos;
        }

        @Override
        public long getAsLong() {
            return START_MILLIS + nanos / 1_000_000;
        }

        void advance(Duration duration) {
            nanos += duration.toNanos();
        }
    }
}
