package dev.relay.filters.internal;

import dev.relay.core.FilterSettings.InvalidSettingException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(10)
class HttpSyntaxTest {

    @Test
    void aTokenIsLettersDigitsAndTheRfc9110Symbols() {
        assertTrue(HttpSyntax.isToken("X-Request-ID"));
        assertTrue(HttpSyntax.isToken("!#$%&'*+-.^_`|~09azAZ"));
        assertFalse(HttpSyntax.isToken(""));
        assertFalse(HttpSyntax.isToken("X User"));
        assertFalse(HttpSyntax.isToken("a:b"));
        assertFalse(HttpSyntax.isToken("caf\u00e9"));
    }

    @Test
    void aPlainFieldValueIsPrintableAsciiSpacesAndTabs() {
        assertTrue(HttpSyntax.isPlainFieldValue("Basic realm=\"site\",\tcharset=UTF-8"));
        assertTrue(HttpSyntax.isPlainFieldValue(""));
        assertEquals(-1, HttpSyntax.firstNonPlainIndex("a b~"));
        assertEquals(1, HttpSyntax.firstNonPlainIndex("a\r\nX-Injected: 1"));
        assertEquals(3, HttpSyntax.firstNonPlainIndex("caf\u00e9"));
        assertEquals(0, HttpSyntax.firstNonPlainIndex("\u007f"));
        assertFalse(HttpSyntax.isPlainFieldValue("a\u0000b"));
    }

    @Test
    void aHeaderNameIsATokenOtherThanTheFramingFields() {
        assertEquals("X-User", HttpSyntax.headerName("user-header", "X-User"));
        InvalidSettingException notToken = assertThrows(InvalidSettingException.class, () -> HttpSyntax.headerName("header", "X User"));
        assertEquals("header", notToken.key());
        assertTrue(notToken.getMessage().startsWith("header: 'X User' (expected: a header field name"), notToken.getMessage());
        for (String owned : List.of("Host", "connection", "Content-Length", "TRANSFER-ENCODING")) {
            assertEquals("header", assertThrows(InvalidSettingException.class, () -> HttpSyntax.headerName("header", owned)).key());
        }
    }

    @Test
    void aCookieValueIsTheFirstOfItsNameWithoutBlanksOrQuotes() {
        assertEquals("abc", HttpSyntax.cookieValue(List.of("a=1; session=abc; b=2"), "session"));
        assertEquals("abc", HttpSyntax.cookieValue(List.of("a=1", " session = \"abc\" ;b=2"), "session"), "RFC 6265 DQUOTEs");
        assertEquals("abc", HttpSyntax.cookieValue(List.of("session=\tabc\t"), "session"));
        assertEquals("first", HttpSyntax.cookieValue(List.of("session=first; session=second"), "session"));
        assertEquals("\"", HttpSyntax.cookieValue(List.of("session=\""), "session"), "a lone quote is the value");
        assertNull(HttpSyntax.cookieValue(List.of("session="), "session"));
        assertNull(HttpSyntax.cookieValue(List.of("session=\"\""), "session"));
        assertNull(HttpSyntax.cookieValue(List.of("xsession=1; sessionx=2; =3"), "session"));
        assertNull(HttpSyntax.cookieValue(List.of(), "session"));
    }
}
