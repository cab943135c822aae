package dev.relay.filters.compression;

import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.relay.filters.compression.ContentCoding.BR;
import static dev.relay.filters.compression.ContentCoding.GZIP;
import static dev.relay.filters.compression.ContentCoding.ZSTD;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AcceptEncodingTest {
    private static final List<ContentCoding> OFFERED = List.of(ZSTD, BR, GZIP);

    private static ContentCoding choose(String... fields) {
        return AcceptEncoding.parse(List.of(fields)).choose(OFFERED);
    }

    @Test
    void equalQualitiesFollowTheConfiguredPreference() {
        assertEquals(ZSTD, choose("gzip, deflate, br, zstd"));
        assertEquals(BR, choose("gzip, br"));
        assertEquals(GZIP, choose("gzip"));
    }

    @Test
    void higherQualityWins() {
        assertEquals(GZIP, choose("zstd;q=0.5, br;q=0.8, gzip"));
        assertEquals(BR, choose("gzip;q=0.1", "br;q=0.9"));
    }

    @Test
    void namesAndTheQParameterIgnoreCaseAndSpaces() {
        assertEquals(GZIP, choose("GZip ; Q=0.7 , BR ; q = 0.2"));
        assertEquals(GZIP, choose("x-gzip"));
    }

    @Test
    void zeroQualityRefuses() {
        assertNull(choose("gzip;q=0, br;q=0.000"));
        assertEquals(BR, choose("zstd;q=0, br"));
    }

    @Test
    void starCoversTheCodingsNotNamed() {
        assertEquals(ZSTD, choose("*"));
        assertEquals(BR, choose("zstd;q=0, *;q=0.5"));
        assertNull(choose("*;q=0"));
    }

    @Test
    void malformedQualityIgnoresTheElement() {
        assertEquals(GZIP, choose("zstd;q=2, br;q=abc, gzip;q=0.5"));
        assertEquals(-1, AcceptEncoding.parseQuality("1.5"));
        assertEquals(-1, AcceptEncoding.parseQuality("0.1234"));
        assertEquals(500, AcceptEncoding.parseQuality("0.5"));
        assertEquals(1000, AcceptEncoding.parseQuality("1.000"));
    }

    @Test
    void identityIsAcceptableUnlessRefused() {
        assertTrue(AcceptEncoding.parse(List.of()).acceptsIdentity());
        assertTrue(AcceptEncoding.parse(List.of("gzip")).acceptsIdentity());
        assertFalse(AcceptEncoding.parse(List.of("gzip, identity;q=0")).acceptsIdentity());
        assertFalse(AcceptEncoding.parse(List.of("gzip, *;q=0")).acceptsIdentity());
        assertTrue(AcceptEncoding.parse(List.of("*;q=0, identity")).acceptsIdentity());
    }

    @Test
    void absentFieldAcceptsNoCoding() {
        assertNull(choose());
        assertEquals(0, AcceptEncoding.parse(List.of()).quality(GZIP));
    }
}
