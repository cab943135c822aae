package dev.relay.server.internal.metrics;

import dev.relay.server.internal.JsonText;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The buffer's encodings against the JDK's: UTF-8, JSON literals, decimals; and its growth. */
@Timeout(30)
class LogLineBufferTest {

    /** Text of any UTF-16 units: ASCII, Latin-1, CJK, surrogate pairs and lone surrogates. */
    private static String randomText(Random random) {
        char[] chars = new char[random.nextInt(40)];
        for (int i = 0; i < chars.length; i++) {
            chars[i] = switch (random.nextInt(6)) {
                case 0, 1 -> (char) random.nextInt(0x80);
                case 2 -> (char) (0x80 + random.nextInt(0x780));
                case 3 -> (char) (0x800 + random.nextInt(0xd000));
                case 4 -> (char) (0xd800 + random.nextInt(0x800));
                default -> (char) random.nextInt(0x10000);
            };
        }
        return new String(chars);
    }

    @Test
    void encodesTextAsStringGetBytesInUtf8() {
        Random random = new Random(3);
        for (int i = 0; i < 20_000; i++) {
            String s = randomText(random);
            LogLineBuffer out = new LogLineBuffer(1);
            out.utf8(s);
            assertArrayEquals(s.getBytes(StandardCharsets.UTF_8), Arrays.copyOf(out.array(), out.length()), s);
        }
    }

    @Test
    void writesJsonLiteralsAsJsonTextDoes() {
        Random random = new Random(5);
        for (int i = 0; i < 20_000; i++) {
            String s = i == 0 ? null : randomText(random);
            LogLineBuffer out = new LogLineBuffer(1);
            out.ascii('[').json(s).ascii(']');
            String expected = "[" + JsonText.string(new StringBuilder(), s) + "]";
            assertArrayEquals(expected.getBytes(StandardCharsets.UTF_8), Arrays.copyOf(out.array(), out.length()), s);
        }
    }

    @Test
    void writesDecimalsAsLongToString() {
        long[] values = {0, 1, 9, 10, 99, 100, 12345, -1, -10, Integer.MAX_VALUE, Integer.MAX_VALUE + 1L,
                Long.MAX_VALUE, Long.MIN_VALUE, Long.MIN_VALUE + 1};
        LogLineBuffer out = new LogLineBuffer(1);
        StringBuilder expected = new StringBuilder();
        java.util.List<Long> all = new java.util.ArrayList<>();
        for (long v : values) {
            all.add(v);
        }
        // Every digit count, at both ends of it.
        for (long p = 1; p <= 1_000_000_000_000L; p *= 10) {
            all.add(p - 1);
            all.add(p);
            all.add(p + 7);
        }
        for (long v : all) {
            out.decimal(v).ascii(' ');
            expected.append(v).append(' ');
        }
        assertEquals(expected.toString(), new String(out.array(), 0, out.length(), StandardCharsets.US_ASCII));
    }

    @Test
    void discardingTheFirstBytesKeepsTheRestAtTheFront() {
        LogLineBuffer out = new LogLineBuffer(4);
        out.ascii("first line\n").ascii("second");
        out.discardFirst(11);
        out.ascii(" line\n");
        assertEquals("second line\n", new String(out.array(), 0, out.length(), StandardCharsets.US_ASCII));
    }
}
