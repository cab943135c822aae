package dev.relay.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The plain header collections that the public factories hand out. */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class HttpHeadersTest {

    private static List<String> fields(HttpHeaders headers) {
        List<String> out = new ArrayList<>();
        headers.forEach((name, value) -> out.add(name + ": " + value));
        return out;
    }

    private static List<String> iterated(HttpHeaders headers) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, String> e : headers) {
            out.add(e.getKey() + ": " + e.getValue());
        }
        return out;
    }

    @Test
    void startsEmpty() {
        HttpHeaders h = HttpHeaders.create();

        assertTrue(h.isEmpty());
        assertEquals(0, h.size());
        assertNull(h.get("Host"));
        assertEquals(List.of(), h.getAll("Host"));
        assertFalse(h.contains("Host"));
        assertFalse(h.iterator().hasNext());
    }

    @Test
    void lookupIgnoresCase() {
        HttpHeaders h = HttpHeaders.create().add("Content-Type", "text/plain");

        assertEquals("text/plain", h.get("content-type"));
        assertEquals("text/plain", h.get("CONTENT-TYPE"));
        assertEquals(List.of("text/plain"), h.getAll("cOnTeNt-TyPe"));
        assertTrue(h.contains(new StringBuilder("content-TYPE")));
    }

    @Test
    void keepsArrivalOrderAndTheCaseNamesWereWrittenIn() {
        HttpHeaders h = HttpHeaders.create()
                .add("Host", "a.example")
                .add("x-lower", "1")
                .add("X-UPPER", "2")
                .add("Accept", "*/*");

        List<String> expected = List.of("Host: a.example", "x-lower: 1", "X-UPPER: 2", "Accept: */*");
        assertEquals(expected, fields(h));
        assertEquals(expected, iterated(h));
        assertEquals("[Host: a.example, x-lower: 1, X-UPPER: 2, Accept: */*]", h.toString());
    }

    @Test
    void addKeepsEveryValueOfAMultiValuedField() {
        HttpHeaders h = HttpHeaders.create()
                .add("Set-Cookie", "a=1")
                .add("Via", "1.1 proxy")
                .add("set-cookie", "b=2");

        assertEquals("a=1", h.get("Set-Cookie"), "the first value");
        assertEquals(List.of("a=1", "b=2"), h.getAll("SET-COOKIE"));
        assertEquals(3, h.size(), "each value counts");
        assertEquals(List.of("Set-Cookie: a=1", "Via: 1.1 proxy", "set-cookie: b=2"), fields(h));
    }

    @Test
    void setReplacesEveryValueWithOne() {
        HttpHeaders h = HttpHeaders.create()
                .add("X-Tag", "1")
                .add("Via", "1.1 proxy")
                .add("x-tag", "2");

        assertSame(h, h.set("X-TAG", "3"));

        assertEquals(List.of("3"), h.getAll("x-tag"));
        assertEquals(2, h.size());
        assertEquals(List.of("Via: 1.1 proxy", "X-TAG: 3"), fields(h));
    }

    @Test
    void setOnAnAbsentFieldAddsIt() {
        HttpHeaders h = HttpHeaders.create().set("X-New", "v");

        assertEquals("v", h.get("x-new"));
        assertEquals(1, h.size());
    }

    @Test
    void removeDropsEveryValueAndSaysWhetherThereWasOne() {
        HttpHeaders h = HttpHeaders.create()
                .add("Connection", "keep-alive")
                .add("Host", "a.example")
                .add("connection", "upgrade");

        assertTrue(h.remove("CONNECTION"));
        assertFalse(h.remove("Connection"));

        assertFalse(h.contains("connection"));
        assertEquals(List.of("Host: a.example"), fields(h));
    }

    @Test
    void clearRemovesEverything() {
        HttpHeaders h = HttpHeaders.create().add("A", "1").add("B", "2");

        h.clear();

        assertTrue(h.isEmpty());
        assertNull(h.get("A"));
    }

    @Test
    void anEmptyValueIsAPresentField() {
        HttpHeaders h = HttpHeaders.create().add("X-Empty", "");

        assertTrue(h.contains("x-empty"));
        assertEquals("", h.get("X-Empty"));
    }

    @Test
    void valuesAreCopiedAsText() {
        StringBuilder value = new StringBuilder("v1");
        HttpHeaders h = HttpHeaders.create().add("X-Value", value);

        value.append("-changed");

        assertEquals("v1", h.get("X-Value"));
    }

    @Test
    void getAllReturnsASnapshot() {
        HttpHeaders h = HttpHeaders.create().add("X-A", "1");
        List<String> all = h.getAll("X-A");

        h.add("X-A", "2");

        assertEquals(List.of("1"), all);
    }

    @Test
    void rejectsANullNameOrValue() {
        HttpHeaders h = HttpHeaders.create();

        assertThrows(NullPointerException.class, () -> h.add(null, "v"));
        assertThrows(NullPointerException.class, () -> h.add("X-A", null));
        assertTrue(h.isEmpty(), "a rejected field is not added");
    }

    @Test
    void aRejectedNullValueLeavesTheFieldsUsable() {
        HttpHeaders h = HttpHeaders.create().add("Host", "a.example");

        assertThrows(NullPointerException.class, () -> h.add("X-A", null));
        assertThrows(NullPointerException.class, () -> h.set("host", null));

        assertEquals(List.of("Host: a.example"), fields(h));
        assertEquals(1, h.size());
        assertNull(h.get("X-A"));
        h.add("X-B", "b");
        assertEquals("b", h.get("x-b"));
    }

    // ---- request and response headers ---------------------------------------------------------------

    @Test
    void requestHeaderOfIsAnHttp11RequestWithNoFields() {
        RequestHeader r = RequestHeader.of("GET", "/search?q=relay");

        assertEquals("GET", r.method());
        assertEquals("/search?q=relay", r.uri());
        assertEquals("/search", r.path());
        assertEquals("HTTP/1.1", r.version());
        assertTrue(r.headers().isEmpty());
    }

    @Test
    void requestPathIsTheWholeUriWithoutAQuery() {
        assertEquals("/a/b", RequestHeader.of("GET", "/a/b").path());
        assertEquals("/", RequestHeader.of("GET", "/?").path());
    }

    @Test
    void requestMethodAndUriCanBeReplaced() {
        RequestHeader r = RequestHeader.of("GET", "/old");

        r.setMethod("POST");
        r.setUri("/new?x=1");

        assertEquals("POST", r.method());
        assertEquals("/new", r.path());
        assertThrows(NullPointerException.class, () -> r.setUri(null));
        assertThrows(NullPointerException.class, () -> r.setMethod(null));
        assertThrows(NullPointerException.class, () -> RequestHeader.of(null, "/"));
    }

    @Test
    void requestHeaderShortcutsWorkOnTheFields() {
        RequestHeader r = RequestHeader.of("GET", "/")
                .appendHeader("X-Forwarded-For", "10.0.0.1")
                .appendHeader("x-forwarded-for", "10.0.0.2")
                .insertHeader("Host", "a.example")
                .insertHeader("host", "b.example");

        assertEquals(List.of("10.0.0.1", "10.0.0.2"), r.headers().getAll("X-Forwarded-For"));
        assertEquals(List.of("b.example"), r.headers().getAll("Host"));

        r.removeHeader("X-FORWARDED-FOR");

        assertEquals(List.of("host: b.example"), fields(r.headers()));
    }

    @Test
    void responseHeaderOfHasTheStatusAndNoFields() {
        ResponseHeader r = ResponseHeader.of(404);

        assertEquals(404, r.status());
        assertTrue(r.headers().isEmpty());
        assertEquals("404 Not Found []", r.toString());
    }

    @Test
    void responseStatusCanBeReplacedWithinRange() {
        ResponseHeader r = ResponseHeader.of(200);

        r.setStatus(503);

        assertEquals(503, r.status());
        assertEquals("status: 99 (expected: 100..999)",
                assertThrows(IllegalArgumentException.class, () -> r.setStatus(99)).getMessage());
        assertEquals("status: 1000 (expected: 100..999)",
                assertThrows(IllegalArgumentException.class, () -> ResponseHeader.of(1000)).getMessage());
        assertEquals(503, r.status(), "a rejected status changes nothing");
    }

    @Test
    void responseHeaderShortcutsWorkOnTheFields() {
        ResponseHeader r = ResponseHeader.of(200)
                .appendHeader("Set-Cookie", "a=1")
                .appendHeader("Set-Cookie", "b=2")
                .insertHeader("Cache-Control", "no-store")
                .removeHeader("set-cookie");

        assertEquals(List.of("Cache-Control: no-store"), fields(r.headers()));
    }

    @Test
    void copyValueCopiesTheFirstValueAsBytesWhenItFits() {
        HttpHeaders headers = HttpHeaders.create().add("Host", "a.test").add("host", "b.test")
                .add("User-Agent", "\u00e9\u20ac").add("Referer", "");
        byte[] into = new byte[8];
        assertEquals(6, headers.copyValue("HOST", into, 1));
        assertEquals("a.test", new String(into, 1, 6, java.nio.charset.StandardCharsets.ISO_8859_1));
        // One byte per char; a char above 0xFF as '?', as the HTTP/1.1 encoder writes it.
        assertEquals(2, headers.copyValue("user-agent", into, 0));
        assertEquals((byte) 0xe9, into[0]);
        assertEquals((byte) '?', into[1]);
        assertEquals(0, headers.copyValue("Referer", into, 8));
        assertEquals(-1, headers.copyValue("Cookie", into, 0));
    }

    @Test
    void copyValueCopiesNothingWhenTheValueDoesNotFit() {
        HttpHeaders headers = HttpHeaders.create().add("Host", "a.test");
        byte[] into = new byte[7];
        assertEquals(6, headers.copyValue("Host", into, 2), "the length, to make room for");
        assertEquals(0, into[2] | into[3] | into[4] | into[5] | into[6]);
    }
}
