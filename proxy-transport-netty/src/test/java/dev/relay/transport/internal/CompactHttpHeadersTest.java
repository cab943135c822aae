package dev.relay.transport.internal;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
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

    /** Headers over the header block {@code block} (its field lines, each "name:value" with any whitespace, CRLF). */
    static CompactHttpHeaders decoded(String block) {
        byte[] a = block.getBytes(StandardCharsets.ISO_8859_1);
        CompactHttpHeaders headers = new CompactHttpHeaders(a, 1);
        for (int line = 0; line < a.length; ) {
            int colon = block.indexOf(':', line);
            int end = block.indexOf("\r\n", line);
            int valueStart = colon + 1;
            while (valueStart < end && (a[valueStart] == ' ' || a[valueStart] == '\t')) {
                valueStart++;
            }
            int valueEnd = end;
            while (valueEnd > valueStart && (a[valueEnd - 1] == ' ' || a[valueEnd - 1] == '\t')) {
                valueEnd--;
            }
            headers.addRaw(line, colon, valueStart, valueEnd);
            line = end + 2;
        }
        return headers;
    }

    @Test
    void copiesAValueFromTheBlockAndTellsOneAddedAsText() {
        CompactHttpHeaders raw = decoded("Host:  a.test \r\nX-Empty:\r\nUser-Agent: \u00e9\r\n");
        raw.add("Referer", "/from");
        byte[] into = new byte[10];
        assertEquals(6, raw.copyRawValue("host", into, 4));
        assertEquals("a.test", new String(into, 4, 6, StandardCharsets.ISO_8859_1));
        assertEquals(1, raw.copyRawValue("User-Agent", into, 0));
        assertEquals((byte) 0xe9, into[0]);
        assertEquals(0, raw.copyRawValue("X-Empty", into, 10));
        assertEquals(6, raw.copyRawValue("Host", into, 5), "too long for the room left: the length, nothing copied");
        assertEquals((byte) 'a', into[4]);
        assertEquals(-1, raw.copyRawValue("Cookie", into, 0));
        assertEquals(CompactHttpHeaders.NOT_RAW_VALUE, raw.copyRawValue("Referer", into, 0));
        raw.set("Host", "b.test");
        assertEquals(CompactHttpHeaders.NOT_RAW_VALUE, raw.copyRawValue("Host", into, 0), "a value set replaces the block's");
    }

    @Test
    void theCoreViewCopiesRawAndTextValuesAlike() {
        CompactHttpHeaders raw = decoded("Host: a.test\r\n");
        raw.add("Referer", "/from\u20ac");
        dev.relay.core.HttpHeaders view = new NettyHttpHeaders(raw);
        byte[] into = new byte[16];
        assertEquals(6, view.copyValue("Host", into, 0));
        assertEquals(6, view.copyValue("Referer", into, 6));
        assertEquals("a.test/from?", new String(into, 0, 12, StandardCharsets.ISO_8859_1));
        assertEquals(-1, view.copyValue("Cookie", into, 0));
    }

    @Test
    void fieldsInTheBlockReadLikeFieldsAddedAsText() {
        CompactHttpHeaders raw = decoded("Host: a\r\nConnection:  keep-alive ,Upgrade\t\r\nX-Empty:\r\nHOST: b\r\n");
        HttpHeaders netty = new DefaultHttpHeaders().add("Host", "a").add("Connection", "keep-alive ,Upgrade")
                .add("X-Empty", "").add("HOST", "b");
        assertEquals(fields(netty), fields(raw));
        assertEquals(netty.entries().toString(), raw.entries().toString());
        for (String probe : NAMES) {
            assertEquals(netty.get(probe), raw.get(probe), probe);
            assertEquals(netty.getAll(probe), raw.getAll(probe), probe);
            assertEquals(netty.contains(probe), raw.contains(probe), probe);
            for (String v : new String[] {"upgrade", "Upgrade", "keep-alive", "keep-alive ,Upgrade", "a", ""}) {
                assertEquals(netty.containsValue(probe, v, true), raw.containsValue(probe, v, true), probe + v);
                assertEquals(netty.containsValue(probe, v, false), raw.containsValue(probe, v, false), probe + v);
                assertEquals(netty.contains(probe, v, false), raw.contains(probe, v, false), probe + v);
            }
        }
        assertEquals("", raw.get("x-empty"));
        assertEquals(List.of("Host", "Connection", "X-Empty"), List.copyOf(raw.names()));
    }

    @Test
    void fieldsTooOddToPackAreKeptAsObjectsInTheirPlace() {
        String longName = "X-" + "n".repeat(300);
        String blanks = " ".repeat(300);
        CompactHttpHeaders headers = decoded("A: 1\r\n" + longName + ": v\r\nB:" + blanks + "w\r\nC: 3\r\n");
        assertEquals(List.of("A: 1", longName + ": v", "B: w", "C: 3"), fields(headers));
        assertEquals(-1, headers.rawNameStart(1));
        assertEquals(-1, headers.rawNameStart(2));
        assertEquals("v", headers.get(longName.toLowerCase(java.util.Locale.ROOT)));
        assertEquals("3", headers.get("c"));
    }

    @Test
    void changesMixFieldsInTheBlockWithFieldsAddedInOrder() {
        CompactHttpHeaders headers = decoded("A: 1\r\nB: 2\r\nA: 3\r\nC: 4\r\n");
        headers.add("D", "5");
        headers.remove("a");
        assertEquals(List.of("B: 2", "C: 4", "D: 5"), fields(headers));
        assertTrue(headers.rawNameStart(0) >= 0, "a field of the block stays one when others go");
        assertEquals(-1, headers.rawNameStart(2));
        headers.set("C", "6");
        assertEquals(List.of("B: 2", "D: 5", "C: 6"), fields(headers));
        headers.clear();
        assertTrue(headers.isEmpty());
        headers.addTrusted("E", "7");
        assertEquals(List.of("E: 7"), fields(headers));
    }

    @Test
    void everyElementInReadsTheListInPlace() {
        CompactHttpHeaders headers = decoded("Connection: keep-alive, , UPGRADE\r\nConnection: close, x-secret\r\n");
        AsciiString[] words = {AsciiString.of("keep-alive"), AsciiString.of("upgrade"), AsciiString.of("close")};
        assertTrue(headers.everyElementIn(0, words));
        assertFalse(headers.everyElementIn(1, words));
        headers.add("Connection", "close,,Keep-Alive");
        assertTrue(headers.everyElementIn(2, words));
        assertTrue(headers.nameEquals(0, "CONNECTION"));
        assertFalse(headers.nameEquals(0, "Connectio"));
    }

    @Test
    void aCopySharesTheFieldsUntilEitherSideChangesThem() {
        CompactHttpHeaders client = decoded("Host: a\r\nAccept: */*\r\n");
        client.addTrusted("X-Text", "t");
        CompactHttpHeaders upstream = CompactHttpHeaders.copyOf(client);
        assertEquals(fields(client), fields(upstream));

        upstream.set("Host", "origin");
        upstream.add("X-Forwarded-For", "10.0.0.1");
        assertEquals(List.of("Host: a", "Accept: */*", "X-Text: t"), fields(client), "the client's view is untouched");
        assertEquals(List.of("Accept: */*", "X-Text: t", "Host: origin", "X-Forwarded-For: 10.0.0.1"), fields(upstream));

        // A retry's fresh copy of the client's fields, then a change on the client's side.
        CompactHttpHeaders retry = CompactHttpHeaders.copyOf(client);
        client.remove("Accept");
        client.add("X-Late", "l");
        assertEquals(List.of("Host: a", "Accept: */*", "X-Text: t"), fields(retry), "the copy is untouched");
        assertEquals(List.of("Host: a", "X-Text: t", "X-Late: l"), fields(client));

        CompactHttpHeaders cleared = CompactHttpHeaders.copyOf(retry);
        cleared.clear();
        assertTrue(cleared.isEmpty());
        assertEquals(3, retry.size());
        assertEquals("a", retry.get("host"));
    }

    @Test
    void readingASharedCopyCachesWithoutChangingTheOtherSide() {
        CompactHttpHeaders client = decoded("Host: a\r\nAccept: */*\r\n");
        CompactHttpHeaders upstream = (CompactHttpHeaders) client.copy();
        assertEquals("*/*", upstream.get("accept"));
        assertSame(upstream.nameAt(0), upstream.nameAt(0));
        client.remove("Host");
        assertEquals(List.of("Host: a", "Accept: */*"), fields(upstream));
        assertEquals(List.of("Accept: */*"), fields(client));
        assertEquals("*/*", client.get("Accept"));
    }
}
