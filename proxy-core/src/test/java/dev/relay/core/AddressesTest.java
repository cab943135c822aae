package dev.relay.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class AddressesTest {

    private static String rejection(String text) {
        return assertThrows(IllegalArgumentException.class, () -> Addresses.parseHostPort(text)).getMessage();
    }

    @Test
    void parsesAnIpv4LiteralWithoutALookup() throws Exception {
        InetSocketAddress a = Addresses.parseHostPort("192.0.2.7:8080");

        assertFalse(a.isUnresolved());
        assertEquals(InetAddress.getByAddress(new byte[] {(byte) 192, 0, 2, 7}), a.getAddress());
        assertEquals(8080, a.getPort());
    }

    @Test
    void parsesABracketedIpv6Literal() {
        InetSocketAddress a = Addresses.parseHostPort("[2001:db8::1]:443");

        assertFalse(a.isUnresolved());
        assertEquals("2001:db8:0:0:0:0:0:1", a.getAddress().getHostAddress());
        assertEquals(443, a.getPort());
    }

    @Test
    void leavesAHostNameUnresolved() {
        InetSocketAddress a = Addresses.parseHostPort("origin.example:80");

        assertTrue(a.isUnresolved());
        assertEquals("origin.example", a.getHostString());
        assertEquals(80, a.getPort());
    }

    @Test
    void starMeansAnyAddress() {
        InetSocketAddress a = Addresses.parseHostPort("*:9000");

        assertTrue(a.getAddress().isAnyLocalAddress());
        assertEquals(9000, a.getPort());
    }

    @Test
    void trimsSurroundingWhitespace() {
        assertEquals(Addresses.parseHostPort("10.0.0.1:80"), Addresses.parseHostPort("  10.0.0.1:80 \t"));
    }

    @ParameterizedTest
    @CsvSource({"0, 0", "65535, 65535"})
    void acceptsThePortRangeBounds(String port, int expected) {
        assertEquals(expected, Addresses.parseHostPort("10.0.0.1:" + port).getPort());
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"   ", "no-port", ":80", "host:", "10.0.0.1"})
    void rejectsTextThatIsNotHostColonPort(String text) {
        assertEquals("address: '" + text + "' (expected: host:port)", rejection(text));
    }

    @Test
    void rejectsABareIpv6Address() {
        assertEquals("address: '::1:80' (expected: [ipv6]:port)", rejection("::1:80"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]:80", "[ ]:80"})
    void rejectsEmptyBrackets(String text) {
        assertEquals("address: '" + text + "' (expected: [ipv6]:port)", rejection(text));
    }

    @Test
    void rejectsAPortThatIsNotANumber() {
        assertEquals("address: 'host:http' (expected: a port number after ':')", rejection("host:http"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"host:65536", "host:-1", "host:99999999999"})
    void rejectsAPortOutOfRange(String text) {
        assertTrue(rejection(text).startsWith("address: '" + text + "' (expected: a port"), text);
    }

    @Test
    void formatPrefersTheLiteralAndBracketsIpv6() {
        assertEquals("192.0.2.7:8080", Addresses.format(new InetSocketAddress("192.0.2.7", 8080)));
        assertEquals("origin.example:80", Addresses.format(InetSocketAddress.createUnresolved("origin.example", 80)));
        assertEquals("[2001:db8:0:0:0:0:0:1]:443", Addresses.format(Addresses.parseHostPort("[2001:db8::1]:443")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"192.0.2.7:8080", "origin.example:80", "[2001:db8:0:0:0:0:0:1]:443", "0.0.0.0:0"})
    void formatThenParseGivesTheSameAddress(String text) {
        InetSocketAddress parsed = Addresses.parseHostPort(text);

        assertEquals(text, Addresses.format(parsed));
        assertEquals(parsed, Addresses.parseHostPort(Addresses.format(parsed)));
    }

    @Test
    void writesIpv6InItsCanonicalForm() throws Exception {
        for (String[] c : new String[][] {{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"}, {"0:0:0:0:0:0:0:0", "::"},
                {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"}, {"fe80:0:0:0:0:0:0:0", "fe80::"},
                {"0:0:0:0:0:0:0:1", "::1"}, {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"}}) {
            assertEquals(c[1], Addresses.ipText(InetAddress.getByName(c[0])), c[0]);
        }
        assertEquals("192.0.2.1", Addresses.ipText(InetAddress.getByName("192.0.2.1")));
    }

    @Test
    void ipv6ClientsAreWrittenAsNginxWritesThem() throws Exception {
        assertEquals("2001:db8::1", Addresses.ipText(InetAddress.getByName("2001:0db8:0:0:0:0:0:1")));
        assertEquals("::1", Addresses.ipText(InetAddress.getByName("::1")));
        assertEquals("2001:db8:0:1:1:1:1:1", Addresses.ipText(InetAddress.getByName("2001:db8:0:1:1:1:1:1")));
        assertEquals("2001:0:0:1::1", Addresses.ipText(InetAddress.getByName("2001:0:0:1:0:0:0:1")));
        assertEquals("fe80::abcd", Addresses.ipText(InetAddress.getByName("FE80::ABCD")));
    }
}
