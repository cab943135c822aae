package dev.relay.transport.internal;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CompactHttpHeadersTest {
    private static final String[] NAMES = {"Host", "host", "HOST", "Accept", "X-Forwarded-For", "x-forwarded-for",
            "Connection", "Content-Length", "Transfer-Encoding", "Cookie", "X-A", "x-b"};
    private static final String[] VALUES = {"a", "b, c", "keep-alive, Upgrade", "chunked", "gzip ,chunked", "1", "",
            "\u00e9t\u00e9", "close"};

    /** The fields of {@code headers} as "name: value" lines, in order (HopByHopTest uses it too). */
    static List<String> fields(HttpHeaders headers) {
        List<String> out = new ArrayList<>();
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            out.add(e.getKey() + ": " + e.getValue());
        }
        return out;
    }

    /** Random changes applied to both; every read must agree with Netty's headers, field order included. */
    @Test
    void behavesLikeNettysHeadersUnderRandomChanges() {
        Random random = new Random(42);
        for (int round = 0; round < 300; round++) {
            HttpHeaders netty = new DefaultHttpHeaders();
            CompactHttpHeaders compact = new CompactHttpHeaders();
            for (int step = 0; step < 40; step++) {
                String name = NAMES[random.nextInt(NAMES.length)];
                String value = VALUES[random.nextInt(VALUES.length)];
                switch (random.nextInt(6)) {
                    case 0, 1 -> {
                        netty.add(name, value);
                        compact.add(name, value);
                    }
                    case 2 -> {
                        netty.set(name, value);
                        compact.set(name, value);
                    }
                    case 3 -> {
                        netty.remove(name);
                        compact.remove(name);
                    }
                    case 4 -> {
                        netty.add(AsciiString.of(name), AsciiString.of(value));
                        compact.addTrusted(AsciiString.of(name), AsciiString.of(value));
                    }
                    default -> {
                        netty.setInt(name, step);
                        compact.setInt(name, step);
                    }
                }
                assertEquals(fields(netty), fields(compact));
                assertEquals(netty.size(), compact.size());
                for (String probe : NAMES) {
                    assertEquals(netty.get(probe), compact.get(probe), probe);
                    assertEquals(netty.getAll(probe), compact.getAll(probe), probe);
                    assertEquals(netty.contains(probe), compact.contains(probe), probe);
                    for (String v : new String[] {"chunked", "Upgrade", "keep-alive", "a", "gzip"}) {
                        assertEquals(netty.containsValue(probe, v, true), compact.containsValue(probe, v, true), probe + v);
                        assertEquals(netty.containsValue(probe, v, false), compact.containsValue(probe, v, false), probe + v);
                        assertEquals(netty.contains(probe, v, true), compact.contains(probe, v, true), probe + v);
                    }
                }
            }
            assertEquals(fields(netty), fields(compact.copy()));
            assertEquals(netty.entries().toString(), compact.entries().toString());
        }
    }

    @Test
    void publicChangesAreValidatedLikeNettys() {
        CompactHttpHeaders headers = new CompactHttpHeaders();
        assertThrows(IllegalArgumentException.class, () -> headers.add("X Bad", "v"));
        assertThrows(IllegalArgumentException.class, () -> headers.set("X-Split", "a\r\nInjected: yes"));
        assertThrows(IllegalArgumentException.class, () -> headers.add("X-Nul", "a\u0000"));
        assertThrows(IllegalArgumentException.class, () -> headers.add("", "v"));
        assertTrue(headers.isEmpty());
    }

    @Test
    void numbersAndDatesReadAndWriteLikeNettys() {
        CompactHttpHeaders headers = new CompactHttpHeaders();
        headers.addInt("Content-Length", 42);
        headers.add("Date", new java.util.Date(784111777000L));
        headers.add("Age", "7");
        assertEquals(42, headers.getInt("content-length"));
        assertEquals(7, headers.getShort("AGE").intValue());
        assertEquals("Sun, 06 Nov 1994 08:49:37 GMT", headers.get("date"));
        assertEquals(784111777000L, headers.getTimeMillis("Date"));
        assertEquals(-1, headers.getInt("missing", -1));
    }
}
