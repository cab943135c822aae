package dev.relay.core.cache;

import dev.relay.core.ResponseHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The byte format a disk tier stores {@link CacheMeta} in. */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class CacheMetaCodecTest {
    /** Offsets in an encoding: magic, version, status, field count, then the first string's length. */
    private static final int VERSION_AT = 4;
    private static final int STATUS_AT = 5;
    private static final int FIELD_COUNT_AT = 9;
    private static final int FIRST_STRING_AT = 13;

    private static CacheMeta sample(String value) {
        ResponseHeader header = ResponseHeader.of(203);
        header.headers().add("Content-Type", "text/plain; charset=utf-8");
        header.headers().add("X-Grüße", value);
        header.headers().add("Vary", "Accept-Encoding");
        header.headers().add("Empty", "");
        return new CacheMeta(203, header, 1_700_000_000_123L, 1_700_000_001_456L, 17, 3600, 30, 60, true,
                List.of("accept-encoding", "x-tenant"));
    }

    private static void assertSameMeta(CacheMeta expected, CacheMeta actual) {
        assertEquals(expected.status(), actual.status());
        assertArrayEquals(expected.fields(), actual.fields());
        assertEquals(expected.requestTimeMillis(), actual.requestTimeMillis());
        assertEquals(expected.responseTimeMillis(), actual.responseTimeMillis());
        assertEquals(expected.correctedInitialAgeSeconds(), actual.correctedInitialAgeSeconds());
        assertEquals(expected.freshnessLifetimeSeconds(), actual.freshnessLifetimeSeconds());
        assertEquals(expected.staleWhileRevalidateSeconds(), actual.staleWhileRevalidateSeconds());
        assertEquals(expected.staleIfErrorSeconds(), actual.staleIfErrorSeconds());
        assertEquals(expected.mustRevalidate(), actual.mustRevalidate());
        assertEquals(expected.vary(), actual.vary());
    }

    @Test
    void roundTripKeepsEveryFieldIncludingNonAsciiText() {
        CacheMeta meta = sample("naïve ✓ 😀 日本");

        assertSameMeta(meta, CacheMeta.decode(meta.encode()));
    }

    @Test
    void roundTripKeepsValuesLongerThan64KiB() {
        char[] chars = new char[200_000];
        Arrays.fill(chars, 'é');
        CacheMeta meta = sample(new String(chars));

        CacheMeta decoded = CacheMeta.decode(meta.encode());

        assertEquals(200_000, decoded.header("X-Grüße").length());
        assertSameMeta(meta, decoded);
    }

    @Test
    void roundTripKeepsAMetaWithoutFieldsOrVary() {
        CacheMeta meta = new CacheMeta(204, ResponseHeader.of(204), 0, 0, 0, 0, 0, 0, false, List.of());

        assertSameMeta(meta, CacheMeta.decode(meta.encode()));
    }

    @Test
    void everyTruncationOfAValidEncodingFails() {
        byte[] encoded = sample("v").encode();

        for (int length = 0; length < encoded.length; length++) {
            byte[] truncated = Arrays.copyOf(encoded, length);
            assertThrows(IllegalArgumentException.class, () -> CacheMeta.decode(truncated), "length " + length);
        }
    }

    @Test
    void trailingBytesFail() {
        byte[] encoded = sample("v").encode();

        assertThrows(IllegalArgumentException.class, () -> CacheMeta.decode(Arrays.copyOf(encoded, encoded.length + 1)));
    }

    @Test
    void aForeignFileFails() {
        byte[] encoded = sample("v").encode();
        encoded[0] ^= 1;

        assertThrows(IllegalArgumentException.class, () -> CacheMeta.decode(encoded));
        assertThrows(IllegalArgumentException.class, () -> CacheMeta.decode("GET / HTTP/1.1\r\n\r\n".getBytes()));
    }

    @Test
    void anUnknownVersionFails() {
        byte[] encoded = sample("v").encode();
        encoded[VERSION_AT] = 2;

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CacheMeta.decode(encoded));
        assertEquals("malformed cache metadata: version 2 (expected: 1)", e.getMessage());
    }

    @Test
    void anImpossibleStatusFails() {
        byte[] encoded = sample("v").encode();
        ByteBuffer.wrap(encoded).putInt(STATUS_AT, 42);

        assertThrows(IllegalArgumentException.class, () -> CacheMeta.decode(encoded));
    }

    @Test
    void negativeOrAbsurdLengthsFail() {
        for (int bad : new int[] {-1, Integer.MIN_VALUE, Integer.MAX_VALUE, 1 << 20}) {
            byte[] count = sample("v").encode();
            ByteBuffer.wrap(count).putInt(FIELD_COUNT_AT, bad);
            byte[] length = sample("v").encode();
            ByteBuffer.wrap(length).putInt(FIRST_STRING_AT, bad);

            assertThrows(IllegalArgumentException.class, () -> CacheMeta.decode(count), "field count " + bad);
            assertThrows(IllegalArgumentException.class, () -> CacheMeta.decode(length), "string length " + bad);
        }
    }

    @Test
    void aStringThatIsNotUtf8Fails() {
        byte[] encoded = sample("v").encode();
        // The first string is "Content-Type": its first byte becomes a lone continuation byte.
        encoded[FIRST_STRING_AT + 4] = (byte) 0x80;

        assertThrows(IllegalArgumentException.class, () -> CacheMeta.decode(encoded));
    }

    @Test
    void randomCorruptionFailsOnlyWithIllegalArgumentException() {
        byte[] valid = sample("value").encode();
        Random random = new Random(42);

        for (int round = 0; round < 2_000; round++) {
            byte[] corrupt = valid.clone();
            for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
                corrupt[random.nextInt(corrupt.length)] = (byte) random.nextInt(256);
            }
            try {
                CacheMeta.decode(corrupt);
            } catch (IllegalArgumentException expected) {
                // A corrupt file is reported this way, and only this way.
            }
        }
        byte[] noise = new byte[64];
        random.nextBytes(noise);
        assertThrows(IllegalArgumentException.class, () -> CacheMeta.decode(noise));
    }
}
