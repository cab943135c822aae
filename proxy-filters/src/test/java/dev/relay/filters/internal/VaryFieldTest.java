package dev.relay.filters.internal;

import dev.relay.core.HttpHeaders;
import dev.relay.core.ResponseHeader;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VaryFieldTest {
    private static HttpHeaders vary(String... lines) {
        HttpHeaders headers = ResponseHeader.of(200).headers();
        for (String line : lines) {
            headers.add("Vary", line);
        }
        return headers;
    }

    @Test
    void aNameIsCoveredInAnyLineAnyCaseOrByAStar() {
        assertTrue(VaryField.covers(vary("Cookie", "accept-encoding ,Origin"), "Accept-Encoding"));
        assertTrue(VaryField.covers(vary("Cookie", "accept-encoding ,Origin"), "origin"));
        assertTrue(VaryField.covers(vary("*"), "Origin"));
        assertFalse(VaryField.covers(vary("X-Origin, Origin-Agent"), "Origin"), "names, not substrings");
        assertFalse(VaryField.covers(vary(), "Origin"));
    }

    @Test
    void addIfMissingAddsOneLineOnce() {
        HttpHeaders headers = vary("Cookie");
        VaryField.addIfMissing(headers, "Origin");
        VaryField.addIfMissing(headers, "Origin");
        assertEquals(List.of("Cookie", "Origin"), headers.getAll("Vary"));
        HttpHeaders anything = vary("*");
        VaryField.addIfMissing(anything, "Accept-Encoding");
        assertEquals(List.of("*"), anything.getAll("Vary"));
    }
}
