package dev.relay.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CidrBlockTest {

    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void anIpv4BlockHoldsExactlyTheAddressesUnderItsPrefix() {
        CidrBlock lan = CidrBlock.parse("10.0.0.0/8");

        assertTrue(lan.contains(ip("10.0.0.0")));
        assertTrue(lan.contains(ip("10.255.255.255")));
        assertFalse(lan.contains(ip("9.255.255.255")));
        assertFalse(lan.contains(ip("11.0.0.0")));
        assertEquals(8, lan.prefixLength());
    }

    @Test
    void aPrefixThatIsNotAWholeByteComparesTheRemainingBits() {
        CidrBlock block = CidrBlock.parse("192.168.4.0/22");

        assertTrue(block.contains(ip("192.168.4.0")));
        assertTrue(block.contains(ip("192.168.7.255")));
        assertFalse(block.contains(ip("192.168.3.255")));
        assertFalse(block.contains(ip("192.168.8.0")));
    }

    @Test
    void theIntegerFormOfAnIpv4AddressMatchesAsTheAddressDoes() {
        CidrBlock block = CidrBlock.parse("192.168.4.0/22");
        assertTrue(block.isIpv4());
        assertTrue(block.containsIpv4(0xC0A80401));      // 192.168.4.1
        assertTrue(block.containsIpv4(0xC0A807FF));      // 192.168.7.255
        assertFalse(block.containsIpv4(0xC0A80800));     // 192.168.8.0
        assertTrue(CidrBlock.parse("0.0.0.0/0").containsIpv4(0xFFFFFFFF));
        assertTrue(CidrBlock.parse("10.1.2.3").containsIpv4(0x0A010203));
        assertFalse(CidrBlock.parse("10.1.2.3").containsIpv4(0x0A010204));
        assertFalse(CidrBlock.parse("::/0").isIpv4());
        assertFalse(CidrBlock.parse("::/0").containsIpv4(0x0A010203), "an IPv6 block holds no IPv4 address");
    }

    @Test
    void theIpv4BitsAreTheAddressBytes() throws Exception {
        for (String ip : List.of("0.0.0.0", "10.1.2.3", "127.0.0.1", "192.168.255.1", "255.255.255.255", "128.0.0.0")) {
            Inet4Address address = (Inet4Address) InetAddress.getByName(ip);
            byte[] b = address.getAddress();
            int expected = (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
            assertEquals(expected, CidrBlock.Ipv4Bits.of(address), ip);
        }
    }

    @Test
    void aBareAddressIsABlockOfOne() {
        CidrBlock one = CidrBlock.parse("203.0.113.7");

        assertEquals(32, one.prefixLength());
        assertTrue(one.contains(ip("203.0.113.7")));
        assertFalse(one.contains(ip("203.0.113.6")));
        assertEquals(128, CidrBlock.parse("2001:db8::1").prefixLength());
    }

    @Test
    void slashZeroHoldsEveryAddressOfItsFamilyOnly() {
        assertTrue(CidrBlock.parse("0.0.0.0/0").contains(ip("255.255.255.255")));
        assertTrue(CidrBlock.parse("0.0.0.0/0").contains(ip("0.0.0.0")));
        assertFalse(CidrBlock.parse("0.0.0.0/0").contains(ip("2001:db8::1")));
        assertTrue(CidrBlock.parse("::/0").contains(ip("2001:db8::1")));
        assertFalse(CidrBlock.parse("::/0").contains(ip("10.0.0.1")));
    }

    @Test
    void anIpv6BlockHoldsExactlyTheAddressesUnderItsPrefix() {
        CidrBlock doc = CidrBlock.parse("2001:db8::/32");

        assertTrue(doc.contains(ip("2001:db8::")));
        assertTrue(doc.contains(ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
        assertFalse(doc.contains(ip("2001:db9::")));
        assertFalse(doc.contains(ip("2001:db7:ffff::")));
        CidrBlock odd = CidrBlock.parse("fe80::/10");
        assertTrue(odd.contains(ip("febf::1")));
        assertFalse(odd.contains(ip("fec0::1")));
    }

    @Test
    void anIpv4MappedIpv6AddressMatchesAsTheIpv4AddressItCarries() {
        assertTrue(CidrBlock.parse("10.0.0.0/8").contains(ip("::ffff:10.1.2.3")));
        assertFalse(CidrBlock.parse("10.0.0.0/8").contains(ip("::ffff:11.1.2.3")));
        // A mapped block is the IPv4 block.
        assertEquals(CidrBlock.parse("10.1.2.3"), CidrBlock.parse("::ffff:10.1.2.3"));
        // An IPv4-compatible (not mapped) address stays IPv6.
        assertFalse(CidrBlock.parse("10.0.0.0/8").contains(ip("::10.1.2.3")));
    }

    @Test
    void aSocketAddressMatchesByItsIpAndAUnixSocketNever() {
        CidrBlock any = CidrBlock.parse("0.0.0.0/0");

        assertTrue(any.contains(new InetSocketAddress(ip("192.0.2.1"), 443)));
        assertFalse(any.contains(InetSocketAddress.createUnresolved("example.com", 443)));
        assertFalse(any.contains(UnixDomainSocketAddress.of("/run/relay.sock")));
        assertFalse(any.contains((java.net.SocketAddress) null));
    }

    @Test
    void equalBlocksAreEqualAndPrintAsParsed() {
        assertEquals(CidrBlock.parse("10.0.0.0/8"), CidrBlock.parse(" 10.0.0.0/8 "));
        assertEquals(CidrBlock.parse("10.0.0.0/8").hashCode(), CidrBlock.parse("10.0.0.0/8").hashCode());
        assertNotEquals(CidrBlock.parse("10.0.0.0/8"), CidrBlock.parse("10.0.0.0/16"));
        assertEquals("10.0.0.0/8", CidrBlock.parse("10.0.0.0/8").toString());
        assertEquals("2001:db8:0:0:0:0:0:0/32", CidrBlock.parse("2001:db8::/32").toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/", "10.0.0.0/x", "2001:db8::/129"})
    void aPrefixOutOfRangeIsRefused(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CidrBlock.parse(text));
        assertTrue(e.getMessage().startsWith("CIDR: '" + text + "' (expected: a prefix length in 0.."), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.1.2.3/8", "192.168.4.1/22", "2001:db8::1/32"})
    void addressBitsBelowThePrefixAreRefused(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CidrBlock.parse(text));
        assertTrue(e.getMessage().contains("(expected: no address bits after the /"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "/8", "example.com/8", "localhost", "10.0.0/8", "10.0.0.0.0/8", "256.0.0.0/8",
            "fe80::1%eth0/64", "1:2:3:4:5:6:7:8:9/64", "10.0.0.x/8"})
    void whatIsNotAnIpLiteralIsRefusedWithoutALookup(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CidrBlock.parse(text));
        assertEquals("CIDR: '" + text + "' (expected: an IP address/prefix, as 10.0.0.0/8 or 2001:db8::/32)",
                e.getMessage());
    }

    @Test
    void nullIsRefusedByName() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> CidrBlock.parse(null));
        assertEquals("text", e.getMessage());
    }
}
