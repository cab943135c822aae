package dev.relay.lb;

import dev.relay.core.RequestHeader;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HashKeyTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void extractsTheConfiguredPartOfTheRequest() throws Exception {
        RequestHeader request = RequestHeader.of("GET", "/a/b?c=d");
        request.headers().add("X-User", "alice");
        request.headers().add("X-User", "bob");
        request.headers().add("Cookie", "theme=dark; session = s3cr3t ;other=1");
        request.headers().add("Cookie", "late=2");
        InetSocketAddress v4 = new InetSocketAddress(InetAddress.getByName("192.0.2.4"), 5555);

        assertArrayEquals(b("/a/b?c=d"), HashKey.parse("uri").key(request, v4));
        assertArrayEquals(b("192.0.2.4"), HashKey.parse("client-ip").key(request, v4));
        assertArrayEquals(b("alice"), HashKey.parse("header:x-user").key(request, v4));
        assertArrayEquals(b("s3cr3t"), HashKey.parse("cookie:session").key(request, v4));
        assertArrayEquals(b("2"), HashKey.parse("cookie:late").key(request, v4));
        assertEquals(0, HashKey.parse("cookie:missing").key(request, v4).length);
        assertEquals(0, HashKey.parse("header:missing").key(request, v4).length);
        assertEquals(0, HashKey.parse("client-ip").key(request, null).length);
    }

    @Test
    void anIpv6ClientKeyIsTheAddressAsNginxWritesIt() throws Exception {
        // The text itself is Addresses.ipText's (AddressesTest); this checks the key uses it.
        InetSocketAddress v6 = new InetSocketAddress(InetAddress.getByName("2001:0db8:0:0:0:0:0:1"), 5555);
        assertArrayEquals(b("2001:db8::1"), HashKey.clientIpKey(v6));
    }

    @Test
    void specsRoundTripAndBadOnesAreRejectedNamingTheSetting() {
        for (String spec : new String[] {"uri", "client-ip", "header:X-Key", "cookie:sid"}) {
            assertEquals(spec, HashKey.parse(spec).toString());
            assertEquals(HashKey.parse(spec), HashKey.parse(spec));
        }
        for (String bad : new String[] {"", "url", "header:", "cookie", "header:a b", "query:x"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HashKey.parse(bad));
            assertTrue(e.getMessage().startsWith("hash-key: "), e.getMessage());
        }
    }

    @Test
    void selectionNamesMapToTheAlgorithms() {
        assertEquals(RoundRobin.create(), SelectionAlgorithms.forName("round-robin"));
        assertTrue(SelectionAlgorithms.forName("random") instanceof Random);
        assertTrue(SelectionAlgorithms.forName("fnv") instanceof FnvHash);
        assertTrue(SelectionAlgorithms.forName("ketama") instanceof Ketama);
        assertTrue(SelectionAlgorithms.forName("maglev") instanceof Maglev);
        assertTrue(SelectionAlgorithms.forName("least-connections") instanceof LeastConnections);
        assertTrue(SelectionAlgorithms.forName("peak-ewma") instanceof PeakEwma);
        assertEquals(java.util.List.of("fnv", "ketama", "maglev"),
                SelectionAlgorithms.NAMES.stream().filter(SelectionAlgorithms::usesKey).toList());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SelectionAlgorithms.forName("least-conn"));
        assertTrue(e.getMessage().startsWith("selection: least-conn (expected: one of round-robin, random"), e.getMessage());
    }
}
