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
    void alpnBeyondHttp1NeedsTls() {
        assertEquals("relay.conf:1: key 'proxy.upstreams.web.alpn': 'h2' needs tls = true (expected: h1 without TLS)",
                problem(() -> read("proxy.upstreams.web { backends = [ \"127.0.0.1:9001\" ], alpn = h2 }",
                        new RestartOnlySettings.Recorder())));
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
