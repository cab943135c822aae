package dev.relay.server.internal.metrics;

import dev.relay.server.testing.InProcessRelay;
import dev.relay.testing.H2Origin;
import dev.relay.testing.RawHttpConnection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The HTTP/2 upstream pool's counters in {@code /metrics} and its per-group state in {@code /upstreams}. */
@Timeout(60)
class Http2UpstreamMetricsTest {
    @TempDir
    Path dir;

    @Test
    void poolCountersAndGroupStateAreReported() throws Exception {
        try (H2Origin origin = H2Origin.builder().name("h2").build().start();
             // One worker thread: one pool partition, so one connection carries every request.
             InProcessRelay relay = new InProcessRelay(dir.resolve("relay.conf"), """
                     proxy {
                       listeners = [ "127.0.0.1:0" ]
                       admin.address = "127.0.0.1:0"
                       server { upgrade-socket = none, threads = 1 }
                       upstreams { grpc { backends = [ "%s" ], alpn = h2, h2-max-streams = 8, h2-ping-interval = none } }
                       routes = [ { match.path-prefix = "/", upstream = grpc } ]
                     }
                     """.formatted(origin.address()))) {
            try (RawHttpConnection client = new RawHttpConnection(relay.proxy())) {
                for (int i = 0; i < 4; i++) {
                    client.send("GET /x HTTP/1.1\r\nHost: a.test\r\n\r\n");
                    assertEquals(200, client.readResponse().status());
                }
            }

            Map<String, Double> m = MetricsAndAccessLogTest.parse(relay.adminGet("/metrics").body());
            assertEquals(1.0, m.get("relay_upstream_h2_connections_opened_total"), m.toString());
            assertEquals(4.0, m.get("relay_upstream_h2_streams_opened_total"));
            assertEquals(3.0, m.get("relay_upstream_h2_streams_reused_total"));
            assertEquals(0.0, m.get("relay_upstream_h2_ping_failures_total"));
            assertEquals(1.0, m.get("relay_upstream_h2_connections{upstream=\"grpc\"}"));
            assertEquals(0.0, m.get("relay_upstream_h2_streams_active{upstream=\"grpc\"}"));
            String upstreams = relay.upstreamsJson();
            assertTrue(upstreams.contains("\"alpn\":\"h2\",\"h2_connections\":1,\"h2_active_streams\":0"), upstreams);
            assertEquals(1, origin.connectionsAccepted());
            assertEquals(4, origin.requestCount("/x"));
        }
    }
}
