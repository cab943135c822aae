package dev.relay.server.internal.metrics;

import dev.relay.server.testing.AccessLogLines;
import dev.relay.server.testing.InProcessRelay;
import dev.relay.testing.Await;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A listener with {@code proxy-protocol = true}, end to end: a raw socket sends a PROXY v1 header and
 * a request, and the access-log line names the client the header gave, not the socket's peer.
 */
@Timeout(30)
class ProxyProtocolAccessLogTest {
    @TempDir
    Path dir;

    @RegisterExtension
    final AccessLogLines accessLines = new AccessLogLines();

    @Test
    void theAccessLogLineCarriesTheClientAddressOfTheProxyHeader() throws Exception {
        try (TestOrigin origin = TestOrigin.builder().name("pp").build().start();
             InProcessRelay relay = new InProcessRelay(dir.resolve("relay.conf"), """
                     proxy {
                       listeners = [ { address = "127.0.0.1:0", proxy-protocol = true } ]
                       server { upgrade-socket = none, access-log = true, %s }
                       upstreams { web { backends = [ "%s" ] } }
                       routes = [ { upstream = web } ]
                     }
                     """.formatted(accessLines.setting(), origin.address()))) {
            try (Socket balancer = new Socket()) {
                balancer.connect(relay.proxy(), 5000);
                balancer.setSoTimeout(10_000);
                balancer.getOutputStream().write(("PROXY TCP4 203.0.113.7 192.0.2.1 51234 443\r\n"
                        + "GET /pp HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                String response = new String(balancer.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                assertTrue(response.startsWith("HTTP/1.1 200"), response);
            }
            Await.until(() -> !accessLines.lines().isEmpty(), Duration.ofSeconds(10), () -> "an access-log line");
            String line = accessLines.lines().get(0);
            assertTrue(line.startsWith("203.0.113.7 - - ["), line);
            assertTrue(line.contains("\"GET /pp HTTP/1.1\" 200"), line);
        }
    }
}
