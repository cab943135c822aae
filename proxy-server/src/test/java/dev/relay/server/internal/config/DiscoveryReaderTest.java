package dev.relay.server.internal.config;

import dev.relay.lb.DnsDiscovery;
import org.junit.jupiter.api.Test;

import static dev.relay.server.internal.config.SectionReaderTesting.problem;
import static dev.relay.server.internal.config.SectionReaderTesting.proxy;
import static org.junit.jupiter.api.Assertions.assertEquals;

class DiscoveryReaderTest {

    private static ConfigNode discovery(String block) {
        return proxy("proxy.upstreams.api.discovery {\n" + block + "\n}").get("upstreams").get("api").get("discovery");
    }

    @Test
    void aRecordTypeMayBeWrittenWithDashes() {
        DiscoveryConfig.Dns dns = (DiscoveryConfig.Dns) DiscoveryReader.discovery(
                discovery("type = dns, name = api.internal, port = 80, record = a-and-aaaa"));

        assertEquals(DnsDiscovery.RecordType.A_AND_AAAA, dns.record());
    }

    @Test
    void srvRecordsCarryThePorts() {
        assertEquals("relay.conf:2: key 'proxy.upstreams.api.discovery.port': '80' is set with record = SRV "
                        + "(expected: no port, the SRV records carry the ports)",
                problem(() -> DiscoveryReader.discovery(discovery("type = dns, name = api.internal, record = SRV, port = 80"))));
    }
}
