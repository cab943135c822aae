package dev.relay.server.internal.config;

import dev.relay.core.CidrBlock;
import dev.relay.core.ConnectionFilter;
import dev.relay.core.ProxyProtocol;
import dev.relay.server.internal.config.ProxyConfig.ListenerConfig;
import dev.relay.transport.ListenerOptions;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.relay.server.internal.config.SectionReaderTesting.problem;
import static dev.relay.server.internal.config.SectionReaderTesting.proxy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code proxy-protocol}, {@code proxy-protocol-trusted}, {@code allow}, {@code deny} and {@code send-proxy-protocol}. */
class ConnectionSettingsConfigTest {

    private static List<ListenerConfig> listeners(String hocon) {
        return new ListenersReader(new RestartOnlySettings.Recorder()).listeners(proxy(hocon).get("listeners"));
    }

    @Test
    void aListenerReadsItsProxyProtocolAndCidrFilter() {
        ListenerOptions options = listeners("""
                proxy.listeners = [ { address = "127.0.0.1:1", proxy-protocol = true,
                  proxy-protocol-trusted = [ "10.0.0.0/8" ], allow = [ "192.0.2.0/24", "2001:db8::/32" ],
                  deny = [ "192.0.2.7" ] } ]""").get(0).listenerOptions();

        assertTrue(options.proxyProtocol());
        assertEquals(List.of(CidrBlock.parse("10.0.0.0/8")), options.proxyProtocolTrusted());
        assertEquals(ConnectionFilter.cidrs(List.of(CidrBlock.parse("192.0.2.0/24"), CidrBlock.parse("2001:db8::/32")),
                List.of(CidrBlock.parse("192.0.2.7/32"))), options.connectionFilter());
    }

    @Test
    void aPlainListenerHasNeither() {
        ListenerOptions options = listeners("proxy.listeners = [ \"127.0.0.1:1\" ]").get(0).listenerOptions();

        assertFalse(options.proxyProtocol());
        assertNull(options.connectionFilter());
    }

    @Test
    void anInvalidCidrNamesFileLineAndKey() {
        assertEquals("relay.conf:1: key 'proxy.listeners[0].deny[1]': CIDR: '10.0.0.1/8' (expected: no address bits "
                        + "after the /8 prefix)",
                problem(() -> listeners("proxy.listeners = [ { address = \"127.0.0.1:1\", deny = [ \"10.0.0.0/8\", "
                        + "\"10.0.0.1/8\" ] } ]")));
        assertEquals("relay.conf:1: key 'proxy.listeners[0].allow[0]': CIDR: '2001:db8::/129' (expected: a prefix "
                        + "length in 0..128)",
                problem(() -> listeners("proxy.listeners = [ { address = \"127.0.0.1:1\", allow = [ \"2001:db8::/129\" ] } ]")));
        assertEquals("relay.conf:1: key 'proxy.listeners[0].allow[0]': CIDR: 'office' (expected: an IP address/prefix, "
                        + "as 10.0.0.0/8 or 2001:db8::/32)",
                problem(() -> listeners("proxy.listeners = [ { address = \"127.0.0.1:1\", allow = [ office ] } ]")));
    }

    @Test
    void trustedProxiesWithoutTheProtocolAreAProblem() {
        assertEquals("relay.conf:1: key 'proxy.listeners[0].proxy-protocol-trusted': is set but proxy-protocol is not "
                        + "true (expected: proxy-protocol = true, or no proxy-protocol-trusted)",
                problem(() -> listeners("proxy.listeners = [ { address = \"127.0.0.1:1\", "
                        + "proxy-protocol-trusted = [ \"10.0.0.0/8\" ] } ]")));
    }

    @Test
    void anUpstreamGroupSendsTheProxyProtocolItNames() {
        UpstreamsReader.Upstreams upstreams = UpstreamsReader.read(proxy("""
                proxy.upstream-defaults.send-proxy-protocol = v1
                proxy.upstreams.a { backends = [ "127.0.0.1:9001" ] }
                proxy.upstreams.b { backends = [ "127.0.0.1:9002" ], send-proxy-protocol = v2 }
                proxy.upstreams.c { backends = [ "127.0.0.1:9003" ], send-proxy-protocol = none }
                """), new RestartOnlySettings.Recorder());

        assertEquals(ProxyProtocol.V1, upstreams.groups().get("a").options().sendProxyProtocol());
        assertEquals(ProxyProtocol.V2, upstreams.groups().get("b").options().sendProxyProtocol());
        assertEquals(ProxyProtocol.NONE, upstreams.groups().get("c").options().sendProxyProtocol());
        assertEquals("relay.conf:1: key 'proxy.upstreams.a.send-proxy-protocol': unknown value 'v3' (expected: v1, v2 "
                        + "or none)",
                problem(() -> UpstreamsReader.read(proxy("proxy.upstreams.a { backends = [ \"127.0.0.1:9001\" ], "
                        + "send-proxy-protocol = v3 }"), new RestartOnlySettings.Recorder())));
    }
}
