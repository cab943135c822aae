package dev.relay.filters.access;

import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.HttpModuleFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(10)
class IpAclFilterTest {
    private static final SocketAddress UNIX = UnixDomainSocketAddress.of("/run/relay/http.sock");
    private final IpAclFilterProvider provider = new IpAclFilterProvider();

    private static SocketAddress client(String ip) {
        return new InetSocketAddress(ip, 40000);
    }

    private HttpModuleFactory create(Map<String, ?> settings) {
        return provider.create(FilterSettings.of(settings));
    }

    private InvalidSettingException invalid(Map<String, ?> settings) {
        return assertThrows(InvalidSettingException.class, () -> create(settings));
    }

    @Test
    void everyAccessFilterIsFoundByServiceLoaderUnderItsName() {
        List<String> names = ServiceLoader.load(FilterProvider.class).stream().map(p -> p.get().name()).toList();
        assertTrue(names.containsAll(List.of("ip-acl", "basic-auth", "jwt", "cors")), names.toString());
    }

    @Test
    void rulesAreCheckedInOrderAndTheFirstMatchDecides() {
        IpAclFilter acl = (IpAclFilter) create(Map.of("rules", List.of("deny 10.1.0.0/16", "allow 10.0.0.0/8", "allow ::1", "deny all")));

        assertFalse(acl.allows(client("10.1.2.3")), "the deny before the wider allow wins");
        assertTrue(acl.allows(client("10.2.3.4")));
        assertTrue(acl.allows(client("::1")));
        assertFalse(acl.allows(client("192.168.1.1")));
        assertFalse(acl.allows(client("2001:db8::1")));
        assertEquals("ip-acl[deny 10.1.0.0/16, allow 10.0.0.0/8, allow 0:0:0:0:0:0:0:1/128, deny all]", acl.toString());
    }

    @Test
    void aClientNoRuleMatchesIsServedAsInNginx() {
        IpAclFilter acl = IpAclFilter.builder().deny("203.0.113.0/24").build();
        assertTrue(acl.allows(client("198.51.100.7")));
        assertFalse(acl.allows(client("203.0.113.9")));
    }

    @Test
    void aDeniedClientGets403AndAnAllowedOneGoesOn() {
        HttpModuleFactory acl = create(Map.of("rules", List.of("allow 127.0.0.0/8", "deny all")));

        Exchange allowed = Exchange.from(client("127.0.0.1"));
        allowed.run(acl);
        assertNull(allowed.response());

        Exchange denied = Exchange.from(client("192.0.2.1"));
        denied.run(acl);
        assertEquals(403, denied.status());
        assertTrue(denied.body().startsWith("403 Forbidden"), denied.body());
        assertEquals(IpAclFilter.ORDER, acl.order());
        assertSame(acl.newModule(), acl.newModule(), "stateless: one module for every request");
    }

    @Test
    void ipv6BlocksAndIpv4MappedAddressesMatch() throws Exception {
        IpAclFilter acl = IpAclFilter.builder().allow("2001:db8::/32").allow("192.0.2.0/24").denyAll().build();
        assertTrue(acl.allows(client("2001:db8:1::5")));
        assertFalse(acl.allows(client("2001:db9::5")));
        // A dual-stack socket may report an IPv4 client as ::ffff:a.b.c.d, an Inet6Address (which
        // InetAddress.getByAddress would turn back into an Inet4Address, missing the IPv6 path).
        InetAddress mapped = mapped(192, 0, 2, 7);
        assertTrue(mapped instanceof Inet6Address);
        assertTrue(acl.allows(new InetSocketAddress(mapped, 1)));
        assertFalse(acl.allows(new InetSocketAddress(mapped(198, 51, 100, 7), 1)));
    }

    @Test
    void anIpv4MappedClientIsDeniedByItsIpv4BlockAndAPlainIpv6RuleMatches() throws Exception {
        HttpModuleFactory acl = create(Map.of("rules", List.of("deny 10.0.0.0/8", "deny 2001:db8::/32", "allow all")));

        Exchange mappedClient = Exchange.from(new InetSocketAddress(mapped(10, 0, 0, 1), 40000));
        mappedClient.run(acl);
        assertEquals(403, mappedClient.status(), "::ffff:10.0.0.1 is 10.0.0.1");

        InetAddress v6 = Inet6Address.getByAddress(null, InetAddress.getByName("2001:db8::5").getAddress(), -1);
        Exchange v6Client = Exchange.from(new InetSocketAddress(v6, 40000));
        v6Client.run(acl);
        assertEquals(403, v6Client.status());

        Exchange otherV6 = Exchange.from(new InetSocketAddress(InetAddress.getByName("2001:db9::5"), 40000));
        otherV6.run(acl);
        assertNull(otherV6.response());
        Exchange otherMapped = Exchange.from(new InetSocketAddress(mapped(11, 0, 0, 1), 40000));
        otherMapped.run(acl);
        assertNull(otherMapped.response());
    }

    /** {@code ::ffff:a.b.c.d} as the Inet6Address a dual-stack socket reports. */
    private static InetAddress mapped(int a, int b, int c, int d) throws Exception {
        return Inet6Address.getByAddress(null,
                new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) a, (byte) b, (byte) c, (byte) d}, -1);
    }

    @Test
    void allowAndDenyListsWorkAsTheListenersDo() {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("allow", List.of("10.0.0.0/8"));
        settings.put("deny", List.of("10.1.0.0/16"));
        IpAclFilter acl = (IpAclFilter) create(settings);

        assertFalse(acl.allows(client("10.1.0.1")), "deny wins whatever the order");
        assertTrue(acl.allows(client("10.9.0.1")));
        assertFalse(acl.allows(client("172.16.0.1")), "with allow, nobody else");
        assertFalse(acl.allows(UNIX), "a Unix client matches no block, so allow refuses it");

        IpAclFilter denyOnly = (IpAclFilter) create(Map.of("deny", List.of("10.1.0.0/16")));
        assertTrue(denyOnly.allows(client("172.16.0.1")));
        assertTrue(denyOnly.allows(UNIX), "deny alone serves a Unix client");
    }

    @Test
    void unixClientsMatchOnlyUnixAndAllRules() {
        assertTrue(((IpAclFilter) create(Map.of("rules", List.of("allow unix:", "deny all")))).allows(UNIX));
        assertFalse(((IpAclFilter) create(Map.of("rules", List.of("allow 0.0.0.0/0", "allow ::/0", "deny all")))).allows(UNIX));
        assertFalse(((IpAclFilter) create(Map.of("rules", List.of("deny unix:")))).allows(UNIX));
        assertTrue(((IpAclFilter) create(Map.of("rules", List.of("deny unix:")))).allows(client("10.0.0.1")));
        assertTrue(((IpAclFilter) create(Map.of("allow", List.of("unix:")))).allows(UNIX));
    }

    @Test
    void badRulesAreRefusedNamingTheEntry() {
        InvalidSettingException bad = invalid(Map.of("rules", List.of("allow 10.0.0.0/8", "permit 10.0.0.0/8")));
        assertEquals("rules[1]", bad.key());
        assertTrue(bad.getMessage().contains("expected: allow or deny"), bad.getMessage());

        InvalidSettingException hostBits = invalid(Map.of("rules", List.of("allow 10.1.2.3/8")));
        assertEquals("rules[0]", hostBits.key());
        assertTrue(hostBits.getMessage().contains("no address bits after the /8"), hostBits.getMessage());

        assertEquals("deny[0]", invalid(Map.of("deny", List.of("example.com"))).key());
        assertEquals("allow[0]", invalid(Map.of("allow", List.of("all"))).key());
    }

    @Test
    void bothFormsTogetherOrNoRuleAreRefused() {
        Map<String, Object> both = new LinkedHashMap<>();
        both.put("rules", List.of("deny all"));
        both.put("allow", List.of("10.0.0.0/8"));
        assertEquals("rules", invalid(both).key());
        assertEquals("rules", invalid(Map.of("rules", List.of())).key());
        assertEquals("allow", invalid(Map.of()).key());
        assertEquals("alow", invalid(Map.of("alow", List.of("10.0.0.0/8"))).key());
        assertThrows(IllegalStateException.class, () -> IpAclFilter.builder().build());
    }
}
