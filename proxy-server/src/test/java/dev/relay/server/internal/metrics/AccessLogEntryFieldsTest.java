package dev.relay.server.internal.metrics;

import dev.relay.core.HttpHeaders;
import dev.relay.server.internal.config.ProxyConfig.AccessLogFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An entry keeps Referer, User-Agent and Host as text over its own bytes ({@link AccessLog.Entry#copyRequestFields}). */
@Timeout(10)
class AccessLogEntryFieldsTest {

    private static String combined(AccessLog.Entry e) {
        e.method = "GET";
        e.uri = "/";
        e.protocol = "HTTP/1.1";
        LogLineBuffer out = new LogLineBuffer(16);
        new AccessLogFormatter(new LogTimestamps(ZoneOffset.UTC)).format(e, AccessLogFormat.COMBINED, out);
        return new String(out.array(), 0, out.length(), StandardCharsets.UTF_8);
    }

    @Test
    void copiesTheThreeFieldsAndLeavesAbsentOnesNull() {
        AccessLog.Entry e = new AccessLog.Entry(null, 0);
        e.copyRequestFields(HttpHeaders.create().add("Host", "a.test").add("Referer", "https://r.test/"));
        assertEquals("https://r.test/", e.referer.toString());
        assertNull(e.userAgent);
        assertEquals("a.test", e.host.toString());

        e.copyRequestFields(HttpHeaders.create());
        assertNull(e.referer);
        assertNull(e.userAgent);
        assertNull(e.host);
    }

    @Test
    void growsItsBufferForLongValuesAndKeepsTheFieldsCopiedBefore() {
        AccessLog.Entry e = new AccessLog.Entry(null, 0);
        String agent = "Mozilla/5.0 ".repeat(30);
        e.copyRequestFields(HttpHeaders.create().add("Referer", "/r").add("User-Agent", agent).add("Host", "h.test"));
        assertEquals("/r", e.referer.toString());
        assertEquals(agent, e.userAgent.toString());
        assertEquals("h.test", e.host.toString());
    }

    @Test
    void reusesItsTextForTheNextRequest() {
        AccessLog.Entry e = new AccessLog.Entry(null, 0);
        e.copyRequestFields(HttpHeaders.create().add("Host", "first.test"));
        CharSequence first = e.host;
        e.copyRequestFields(HttpHeaders.create().add("Host", "b.test"));
        assertSame(first, e.host, "the same view, over the same bytes");
        assertEquals("b.test", e.host.toString());
    }

    @Test
    void readsBytesAsLatin1TextAndKeepsEmptyValues() {
        AccessLog.Entry e = new AccessLog.Entry(null, 0);
        e.copyRequestFields(HttpHeaders.create().add("User-Agent", "caf\u00e9").add("Referer", ""));
        CharSequence agent = e.userAgent;
        assertEquals(4, agent.length());
        assertEquals('\u00e9', agent.charAt(3));
        assertEquals("af", agent.subSequence(1, 3).toString());
        assertThrows(IndexOutOfBoundsException.class, () -> agent.charAt(4));
        assertThrows(IndexOutOfBoundsException.class, () -> agent.charAt(-1));
        assertEquals(0, e.referer.length());
    }

    @Test
    void formatsCopiedFieldsAsItFormatsStrings() {
        String agent = "a\"b\\c\u00e9 d";
        AccessLog.Entry copied = new AccessLog.Entry(null, 0);
        copied.copyRequestFields(HttpHeaders.create().add("User-Agent", agent).add("Referer", "").add("Host", "h.test"));
        AccessLog.Entry strings = new AccessLog.Entry(null, 0);
        strings.userAgent = agent;
        strings.referer = "";
        strings.host = "h.test";
        String line = combined(copied);
        assertEquals(combined(strings), line);
        assertTrue(line.contains("\"-\" \"a\\x22b\\x5cc\u00e9 d\" host=h.test "), line);
    }

    @Test
    void aSlotHasItsFieldBytesAndViewsBeforeItsFirstLine() {
        // Made with the ring, at start, so that the collection settling the heap promotes them: made
        // under load, young collections would copy them until they were old enough.
        AccessLog.Entry e = new AccessLog.Entry(null, 0);
        assertEquals(AccessLog.Entry.FIELD_BYTES_INITIAL, e.fieldBytesHeld());
        e.copyRequestFields(HttpHeaders.create().add("User-Agent", "curl/8").add("Host", "h.test"));
        assertEquals(AccessLog.Entry.FIELD_BYTES_INITIAL, e.fieldBytesHeld(), "usual fields fit without growing");
        CharSequence host = e.host;
        e.clear();
        e.copyRequestFields(HttpHeaders.create().add("Host", "b.test"));
        assertSame(host, e.host);
    }

    @Test
    void aSlotDoesNotKeepTheBytesOfAVeryLongLineOnceItIsWritten() {
        // Every slot of the ring (16384 of them) would otherwise keep the largest line it ever held for
        // good: clients sending 30 KB User-Agents would pin some 500 MB of heap.
        AccessLog.Entry e = new AccessLog.Entry(null, 0);
        String agent = "x".repeat(30_000);
        e.copyRequestFields(HttpHeaders.create().add("User-Agent", agent).add("Host", "h.test"));
        assertEquals(agent, e.userAgent.toString());
        assertTrue(e.fieldBytesHeld() >= 30_000);

        e.clear();
        assertTrue(e.fieldBytesHeld() <= AccessLog.Entry.FIELD_BYTES_KEPT, "held: " + e.fieldBytesHeld());
        e.copyRequestFields(HttpHeaders.create().add("User-Agent", "curl/8").add("Host", "h.test"));
        assertEquals("curl/8", e.userAgent.toString());
        assertEquals("h.test", e.host.toString());
    }

    @Test
    void aSlotKeepsItsBytesAndViewsForUsualLinesAcrossWrites() {
        AccessLog.Entry e = new AccessLog.Entry(null, 0);
        e.copyRequestFields(HttpHeaders.create().add("User-Agent", "Mozilla/5.0 ".repeat(10)).add("Host", "a.test"));
        CharSequence host = e.host;
        int held = e.fieldBytesHeld();
        e.clear();
        e.copyRequestFields(HttpHeaders.create().add("Host", "b.test"));
        assertSame(host, e.host, "the same view, over the same bytes");
        assertEquals(held, e.fieldBytesHeld());
        assertEquals("b.test", e.host.toString());
    }
}
