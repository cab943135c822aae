package dev.relay.core;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code unix:/path} addresses in {@link Addresses}, {@link Backend} and {@link HttpPeer}. */
class UnixAddressTest {

    @Test
    void unixTextParsesToAUnixDomainSocketAddressAndPrintsBack() {
        assertEquals(UnixDomainSocketAddress.of("/run/app.sock"), Addresses.parse("unix:/run/app.sock"));
        assertEquals(UnixDomainSocketAddress.of("run/app.sock"), Addresses.parse(" unix:run/app.sock "));
        assertEquals("unix:/run/app.sock", Addresses.format(Addresses.parse("unix:/run/app.sock")));
        assertEquals(new InetSocketAddress("127.0.0.1", 80), Addresses.parse("127.0.0.1:80"));
        assertTrue(Addresses.isUnix("unix:/x"));
        assertFalse(Addresses.isUnix("unix.example:80"));
    }

    @Test
    void aUnixAddressWithoutAPathIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Addresses.parse("unix:"));
        assertEquals("address: 'unix:' (expected: a socket path after 'unix:')", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Addresses.parseUnix("127.0.0.1:80"));
    }

    @Test
    void aUnixBackendHasNoTcpAddressAndHashesByItsText() {
        Backend backend = Backend.parse("unix:/run/app.sock");

        assertTrue(backend.isUnix());
        assertEquals(Backend.unix(Path.of("/run/app.sock")), backend);
        assertEquals(UnixDomainSocketAddress.of("/run/app.sock"), backend.socketAddress());
        assertEquals("unix:/run/app.sock", backend.hostAndPort());
        assertEquals("unix:/run/app.sock weight=3", backend.withWeight(3).toString());
        IllegalStateException e = assertThrows(IllegalStateException.class, backend::address);
        assertTrue(e.getMessage().contains("socketAddress()"), e.getMessage());
        assertFalse(Backend.parse("127.0.0.1:80").isUnix());
        assertThrows(IllegalArgumentException.class, () -> Backend.of(new java.net.SocketAddress() {}, 1));
    }

    @Test
    void unixPeersArePooledByPath() {
        HttpPeer a = HttpPeer.unix(Path.of("/run/a.sock"));

        assertTrue(a.isUnix());
        assertEquals(a.reuseKey(), HttpPeer.plain("unix:/run/a.sock").reuseKey());
        assertNotEquals(a.reuseKey(), HttpPeer.unix(Path.of("/run/b.sock")).reuseKey());
        assertEquals("http://unix:/run/a.sock", a.toString());
        assertEquals(a.reuseKey(), HttpPeer.plain(Backend.parse("unix:/run/a.sock")).reuseKey());
        assertThrows(IllegalStateException.class, a::address);
    }
}
