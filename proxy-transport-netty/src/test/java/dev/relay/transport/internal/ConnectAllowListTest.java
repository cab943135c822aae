package dev.relay.transport.internal;

import dev.relay.transport.ListenerOptions;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConnectAllowListTest {

    private static InetSocketAddress target(String hostPort) {
        return TunnelRequests.connectTarget(hostPort);
    }

    @Test
    void patternsMatchNamesSubdomainsAddressesAndPorts() {
        ConnectAllowList allow = ConnectAllowList.parse(List.of("*.Example.com:443", "127.0.0.1:*", "[::1]:8080",
                "exact.org:80"));

        assertTrue(allow.allows(target("api.example.com:443")));
        assertTrue(allow.allows(target("A.B.EXAMPLE.COM:443")));
        assertFalse(allow.allows(target("example.com:443")), "*.domain is below the domain only");
        assertFalse(allow.allows(target("api.example.com:80")));
        assertTrue(allow.allows(target("127.0.0.1:1")));
        assertTrue(allow.allows(target("[::1]:8080")));
        assertFalse(allow.allows(target("[::1]:8081")));
        assertTrue(allow.allows(target("exact.org:80")));
        assertFalse(allow.allows(target("localhost:80")), "names compare as written, unresolved");
        assertTrue(ConnectAllowList.parse(List.of("*:*")).allows(target("anything:1")));
        assertTrue(ConnectAllowList.parse(List.of()).isEmpty());
    }

    @Test
    void badPatternsAreRejectedWithTheirText() {
        for (String bad : List.of("example.com", "example.com:0", "example.com:x", ":443", "a b:1", "::1:80", "*.:1")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ListenerOptions.builder().connectAllow(List.of(bad)).build(), bad);
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
    }

    @Test
    void connectTargetsMustBeHostAndPort() {
        assertEquals(443, target("example.com:443").getPort());
        assertEquals("::1", target("[::1]:443").getHostString());
        for (String bad : List.of("example.com", "/path", "http://x:1/", "x:99999", "::1:443", "[::1]", "x:")) {
            assertNull(target(bad), bad);
        }
    }
}
