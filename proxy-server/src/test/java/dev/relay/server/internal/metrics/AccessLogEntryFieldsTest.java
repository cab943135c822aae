package dev.relay.server.internal.metrics;

import dev.relay.core.HttpHeaders;
import dev.relay.core.HttpPeer;
import dev.relay.server.internal.config.ProxyConfig.AccessLogFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An entry copies a request's texts (target, Referer, User-Agent, Host) into its own bytes and keeps
 * an IPv4 client as a number, so that a usual line writes no reference into the old slot
 * ({@link AccessLog.Entry}).
 */
@Timeout(10)
class AccessLogEntryFieldsTest {
    private static final HttpPeer PEER = HttpPeer.plain("10.0.0.11:8080");

    private static String combined(AccessLog.Entry e) {
        e.method("GET");
        e.uri("/");
        e.protocol("HTTP/1.1");
        return format(e, AccessLogFormat.COMBINED);
    }

    private static String format(AccessLog.Entry e, AccessLogFormat format) {
        LogLineBuffer out = new LogLineBuffer(16);
        new AccessLogFormatter(new LogTimestamps(ZoneOffset.UTC)).format(e, format, out);
        return new String(out.array(), 0, out.length(), StandardCharsets.UTF_8);
    }

    /** What ConfiguredProxy.logging writes for a plain request: new objects per request, shared ones otherwise. */
    private static void usualLine(AccessLog.Entry e, int i) {
        e.client(new InetSocketAddress("192.0.2." + (i % 250 + 1), 40000 + i));
        e.method("GET");
        e.uri(new String("/items/" + i));
        e.protocol("HTTP/1.1");
        e.status = 200;
        e.copyRequestFields(HttpHeaders.create().add("Host", "shop" + i + ".test").add("User-Agent", "curl/8." + i)
                .add("Referer", "https://r.test/" + i));
        e.route("api");
        e.upstream("web");
        e.peer(PEER);
        e.attempts = 1;
        e.error(null);
        e.cache(null);
        e.requestIdField = false;
        e.requestId(null);
    }

    /** Every reference the entry holds, in its fields' order (the identities, not the values). */
    private static List<Object> references(AccessLog.Entry e) throws IllegalAccessException {
        List<Object> refs = new ArrayList<>();
        for (Field f : AccessLog.Entry.class.getDeclaredFields()) {
            if (!f.getType().isPrimitive() && !Modifier.isStatic(f.getModifiers())) {
                f.setAccessible(true);
                refs.add(f.get(e));
            }
        }
        return refs;
    }

    @Test
    void aUsualLineWritesNoReferenceIntoTheSlot() throws IllegalAccessException {
        // A reference written into an old slot dirties its card, which every young collection scans.
        AccessLog.Entry e = new AccessLog.Entry(null, 0);
        usualLine(e, 1);
        List<Object> before = references(e);
        for (int i = 2; i < 50; i++) {
            e.clear();
            usualLine(e, i);
            List<Object> after = references(e);
            for (int f = 0; f < before.size(); f++) {
                assertSame(before.get(f), after.get(f), "reference field #" + f + " changed on line " + i);
            }
        }
        String line = format(e, AccessLogFormat.COMBINED);
        assertTrue(line.startsWith("192.0.2.50 - - ["), line);
        assertTrue(line.contains("] \"GET /items/49 HTTP/1.1\" 200 0 \"https://r.test/49\" \"curl/8.49\" host=shop49.test"
                + " route=api upstream=web peer=10.0.0.11:8080 attempts=1 "), line);
    }

    @Test
    void copiesTheTextsAndLeavesAbsentOnesNull() {
        AccessLog.Entry e = new AccessLog.Entry(null, 0);
        e.uri("/x?q=1");
        e.copyRequestFields(HttpHeaders.create().add("Host", "a.test").add("Referer", "https://r.test/"));
        assertEquals("/x?q=1", e.text(AccessLog.Entry.URI));
        assertEquals("https://r.test/", e.text(AccessLog.Entry.REFERER));
        assertNull(e.text(AccessLog.Entry.USER_AGENT));
        assertEquals("a.test", e.text(AccessLog.Entry.HOST));

        e.clear();
        e.copyRequestFields(HttpHeaders.create());
        assertNull(e.text(AccessLog.Entry.URI));
        assertNull(e.text(AccessLog.Entry.REFERER));
        assertNull(e.text(AccessLog.Entry.HOST));
    }

    @Test
    void growsItsBufferForLongValuesAndKeepsTheTextsCopiedBefore() {
        AccessLog.Entry e = new AccessLog.Entry(null, 0);
        String agent = "Mozilla/5.0 ".repeat(30);
        e.uri("/r");
        e.copyRequestFields(HttpHeaders.create().add("Referer", "/ref").add("User-Agent", agent).add("Host", "h.test"));
        String target = "/long?" + "q".repeat(300);
        e.uri(target);
        assertEquals("/ref", e.text(AccessLog.Entry.REFERER));
        assertEquals(agent, e.text(AccessLog.Entry.USER_AGENT));
        assertEquals("h.test", e.text(AccessLog.Entry.HOST));
        assertEquals(target, e.text(AccessLog.Entry.URI));
    }

    @Test
    void keepsATextWithCharsBytesCannotHoldAsItIs() {
        // A request's texts arrive as bytes; only a filter's own could hold such a char.
        AccessLog.Entry e = new AccessLog.Entry(null, 0);
        e.uri("/caf\u00e9/\u4e2d");
        e.userAgent("curl");
        assertEquals("/caf\u00e9/\u4e2d", e.text(AccessLog.Entry.URI));
        assertEquals("curl", e.text(AccessLog.Entry.USER_AGENT));
        assertTrue(combinedWithItsTarget(e).contains("\"GET /caf\u00e9/\u4e2d HTTP/1.1\""));
        e.clear();
        e.uri("/plain");
        assertEquals("/plain", e.text(AccessLog.Entry.URI));
    }

    private static String combinedWithItsTarget(AccessLog.Entry e) {
        e.method("GET");
        e.protocol("HTTP/1.1");
        return format(e, AccessLogFormat.COMBINED);
    }

    @Test
    void readsBytesAsLatin1TextAndKeepsEmptyValues() {
        AccessLog.Entry e = new AccessLog.Entry(null, 0);
        e.copyRequestFields(HttpHeaders.create().add("User-Agent", "caf\u00e9").add("Referer", ""));
        CharSequence agent = e.text(AccessLog.Entry.USER_AGENT, new FieldValueText(new byte[0], 0, 0));
        assertEquals(4, agent.length());
        assertEquals('\u00e9', agent.charAt(3));
        assertEquals("af", agent.subSequence(1, 3).toString());
        assertThrows(IndexOutOfBoundsException.class, () -> agent.charAt(4));
        assertThrows(IndexOutOfBoundsException.class, () -> agent.charAt(-1));
        assertEquals("", e.text(AccessLog.Entry.REFERER));
    }

    @Test
    void formatsCopiedFieldsAsItFormatsStrings() {
        String agent = "a\"b\\c\u00e9 d";
        AccessLog.Entry copied = new AccessLog.Entry(null, 0);
        copied.copyRequestFields(HttpHeaders.create().add("User-Agent", agent).add("Referer", "").add("Host", "h.test"));
        AccessLog.Entry strings = new AccessLog.Entry(null, 0);
        strings.userAgent(agent);
        strings.referer("");
        strings.host("h.test");
        String line = combined(copied);
        assertEquals(combined(strings), line);
        assertTrue(line.contains("\"-\" \"a\\x22b\\x5cc\u00e9 d\" host=h.test "), line);
    }

    @Test
    void aStreamLinesFieldsAreGoneFromTheSlotsNextLine() {
        AccessLog.Entry e = new AccessLog.Entry(null, 0);
        e.stream("db");
        e.end("completed");
        e.client(new InetSocketAddress("2001:db8::1", 5000));
        assertTrue(format(e, AccessLogFormat.COMBINED).startsWith("2001:db8:0:0:0:0:0:1 - - ["));
        e.clear();
        usualLine(e, 7);
        String line = format(e, AccessLogFormat.JSON);
        assertTrue(line.contains("\"client\":\"192.0.2.8\",\"method\":\"GET\",\"uri\":\"/items/7\""), line);
        assertTrue(!line.contains("\"stream\""), line);
    }

    @Test
    void aSlotHasItsFieldBytesBeforeItsFirstLine() {
        // Made with the ring, at start, so that the collection settling the heap promotes them: made
        // under load, young collections would copy them until they were old enough.
        AccessLog.Entry e = new AccessLog.Entry(null, 0);
        assertEquals(AccessLog.Entry.FIELD_BYTES_INITIAL, e.fieldBytesHeld());
        e.uri("/api/v1/items?page=2");
        e.copyRequestFields(HttpHeaders.create().add("User-Agent", "curl/8").add("Host", "h.test"));
        assertEquals(AccessLog.Entry.FIELD_BYTES_INITIAL, e.fieldBytesHeld(), "usual fields fit without growing");
    }

    @Test
    void aSlotDoesNotKeepTheBytesOfAVeryLongLineOnceItIsWritten() {
        // Every slot of the ring (16384 of them) would otherwise keep the largest line it ever held for
        // good: clients sending 30 KB User-Agents would pin some 500 MB of heap.
        AccessLog.Entry e = new AccessLog.Entry(null, 0);
        String agent = "x".repeat(30_000);
        e.copyRequestFields(HttpHeaders.create().add("User-Agent", agent).add("Host", "h.test"));
        assertEquals(agent, e.text(AccessLog.Entry.USER_AGENT));
        assertTrue(e.fieldBytesHeld() >= 30_000);

        e.clear();
        assertTrue(e.fieldBytesHeld() <= AccessLog.Entry.FIELD_BYTES_KEPT, "held: " + e.fieldBytesHeld());
        e.copyRequestFields(HttpHeaders.create().add("User-Agent", "curl/8").add("Host", "h.test"));
        assertEquals("curl/8", e.text(AccessLog.Entry.USER_AGENT));
        assertEquals("h.test", e.text(AccessLog.Entry.HOST));
    }

    @Test
    void aSlotKeepsItsBytesForUsualLinesAcrossWrites() {
        AccessLog.Entry e = new AccessLog.Entry(null, 0);
        e.copyRequestFields(HttpHeaders.create().add("User-Agent", "Mozilla/5.0 ".repeat(10)).add("Host", "a.test"));
        int held = e.fieldBytesHeld();
        e.clear();
        e.copyRequestFields(HttpHeaders.create().add("Host", "b.test"));
        assertEquals(held, e.fieldBytesHeld());
        assertEquals("b.test", e.text(AccessLog.Entry.HOST));
    }
}
