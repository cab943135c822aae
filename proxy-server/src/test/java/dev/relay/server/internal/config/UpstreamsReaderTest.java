package dev.relay.server.internal.config;

import dev.relay.core.Alpn;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static dev.relay.server.internal.config.SectionReaderTesting.problem;
import static dev.relay.server.internal.config.SectionReaderTesting.proxy;
import static org.junit.jupiter.api.Assertions.assertEquals;

class UpstreamsReaderTest {

    private static UpstreamsReader.Upstreams read(String hocon, RestartOnlySettings.Recorder recorder) {
        return UpstreamsReader.read(proxy(hocon), recorder);
    }

    @Test
    void aGroupTakesWhatItLeavesOutFromTheDefaults() {
        UpstreamsReader.Upstreams upstreams = read("""
                proxy.upstream-defaults { tls = true, alpn = h2 }
                proxy.upstreams.web.backends = [ "127.0.0.1:9001" ]
                """, new RestartOnlySettings.Recorder());

        assertEquals(Alpn.H2, upstreams.groups().get("web").options().alpn());
        assertEquals(Set.of("web"), upstreams.names());
    }

    @Test
    void h2OrH1NeedsTlsToNegotiate() {
        assertEquals("relay.conf:1: key 'proxy.upstreams.web.alpn': 'h2-or-h1' needs tls = true: without TLS there is "
                        + "no handshake to choose in (expected: h1, or h2 for HTTP/2 with prior knowledge)",
                problem(() -> read("proxy.upstreams.web { backends = [ \"127.0.0.1:9001\" ], alpn = h2-or-h1 }",
                        new RestartOnlySettings.Recorder())));
    }

    @Test
    void h2WithoutTlsIsPriorKnowledgeWithTheHttp2Settings() {
        UpstreamsReader.Upstreams upstreams = read("""
                proxy.upstream-defaults { h2-max-streams = 50 }
                proxy.upstreams.web { backends = [ "127.0.0.1:9001" ], alpn = h2, h2-ping-interval = 15s }
                """, new RestartOnlySettings.Recorder());

        dev.relay.core.PeerOptions options = upstreams.groups().get("web").options();
        assertEquals(Alpn.H2, options.alpn());
        assertEquals(50, options.maxH2Streams());
        assertEquals(java.time.Duration.ofSeconds(15), options.h2PingInterval());
    }

    @Test
    void http2SettingsOutOfRangeNameFileLineAndKey() {
        assertEquals("relay.conf:1: key 'proxy.upstreams.web.h2-max-streams': 0 (expected: 1..1000000)",
                problem(() -> read("proxy.upstreams.web { backends = [ \"127.0.0.1:9001\" ], h2-max-streams = 0 }",
                        new RestartOnlySettings.Recorder())));
        assertEquals("relay.conf:2: key 'proxy.upstreams.web.h2-ping-interval': '0s' (expected: > 0, or none)",
                problem(() -> read("proxy.upstreams.web.backends = [ \"127.0.0.1:9001\" ]\n"
                        + "proxy.upstreams.web.h2-ping-interval = 0s", new RestartOnlySettings.Recorder())));
    }

    @Test
    void theNumberOfDemoOriginsIsRestartOnly() {
        RestartOnlySettings.Recorder demo = new RestartOnlySettings.Recorder();
        assertEquals(2, read("proxy.demo.origins = 2", demo).demoOrigins());
        RestartOnlySettings.Recorder groups = new RestartOnlySettings.Recorder();
        read("proxy.upstreams.web.backends = [ \"127.0.0.1:9001\" ]", groups);

        assertEquals(List.of("proxy.demo.origins"), groups.build().changedSince(demo.build()));
    }
}
