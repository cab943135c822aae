package dev.relay.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class BackendTest {

    @Test
    void parseGivesWeightOneAndNoMetadata() {
        Backend b = Backend.parse("10.0.0.1:8080");

        assertEquals(new InetSocketAddress("10.0.0.1", 8080), b.address());
        assertEquals(1, b.weight());
        assertEquals(Map.of(), b.metadata());
        assertEquals("10.0.0.1:8080", b.hostAndPort());
    }

    @Test
    void parseKeepsAHostNameUnresolved() {
        Backend b = Backend.parse("api.internal:443");

        assertTrue(b.address().isUnresolved());
        assertEquals("api.internal:443", b.hostAndPort());
    }

    @Test
    void parseRejectsWhatIsNotHostColonPort() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backend.parse("api.internal"));

        assertEquals("address: 'api.internal' (expected: host:port)", e.getMessage());
    }

    @Test
    void rejectsAWeightBelowOne() {
        InetSocketAddress address = new InetSocketAddress("10.0.0.1", 80);

        assertEquals("weight: 0 (expected: >= 1)",
                assertThrows(IllegalArgumentException.class, () -> Backend.of(address, 0)).getMessage());
        assertEquals("weight: -3 (expected: >= 1)",
                assertThrows(IllegalArgumentException.class, () -> Backend.parse("10.0.0.1:80").withWeight(-3))
                        .getMessage());
        assertThrows(NullPointerException.class, () -> Backend.of(null));
    }

    @Test
    void identityIsAddressAndWeightNotMetadata() {
        Backend a = Backend.parse("10.0.0.1:80");
        Backend tagged = a.withMetadata(Map.of("sni", "a.example"));

        assertEquals(a, tagged);
        assertEquals(a.hashCode(), tagged.hashCode());
        assertNotEquals(a, a.withWeight(2));
        assertNotEquals(a, Backend.parse("10.0.0.1:81"));
        assertEquals(a.withWeight(2), Backend.of(new InetSocketAddress("10.0.0.1", 80), 2));
    }

    @Test
    void copiesKeepTheOtherFields() {
        Backend b = Backend.parse("10.0.0.1:80").withMetadata(Map.of("zone", "a")).withWeight(5);

        assertEquals(5, b.weight());
        assertEquals(Map.of("zone", "a"), b.metadata());
        assertEquals(5, b.withMetadata(Map.of()).weight());
    }

    @Test
    void metadataIsCopiedAndImmutable() {
        Map<String, Object> source = new HashMap<>(Map.of("zone", "a"));
        Backend b = Backend.parse("10.0.0.1:80").withMetadata(source);

        source.put("zone", "b");

        assertEquals("a", b.metadata().get("zone"));
        assertThrows(UnsupportedOperationException.class, () -> b.metadata().put("x", 1));
        assertThrows(NullPointerException.class, () -> b.withMetadata(null));
    }

    @Test
    void toStringShowsTheWeightOnlyWhenItIsNotOne() {
        assertEquals("10.0.0.1:80", Backend.parse("10.0.0.1:80").toString());
        assertEquals("10.0.0.1:80 weight=3", Backend.parse("10.0.0.1:80").withWeight(3).toString());
    }
}
